"""The Events watcher against a fake apiserver that speaks list+watch (and 410 Gone)."""

from __future__ import annotations

import copy
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from kubesift.alerts.ingest import Triage
from kubesift.alerts.service import ingest
from kubesift.alerts.watch import watch_events
from kubesift.cli.common import store
from kubesift.testing.fakek8s import FakeKubernetes
from tests.alerts.helpers import load, wait_for

client = pytest.importorskip(
    "kubernetes.client", reason="the kubernetes client (the serve extra) is not installed"
)


@pytest.fixture
def apiserver() -> Iterator[tuple[FakeKubernetes, str]]:
    fake = FakeKubernetes()
    url = fake.start()
    yield fake, url
    fake.stop()


def test_list_watch_resume_and_relist_after_410(
    home: Path, apiserver: tuple[FakeKubernetes, str], alert_fixtures: Path
) -> None:
    fake, url = apiserver
    first = load(alert_fixtures, "k8s_event_events_v1_failedscheduling.json")
    fake.add(first)
    engine, triage = store(), Triage()
    seen: list[str] = []

    def sink(found: list) -> None:  # type: ignore[type-arg]
        seen.extend(s.dedup for s in found)
        ingest(engine, triage, found)

    stop = threading.Event()
    api = client.ApiClient(client.Configuration(host=url))
    stats_box: dict = {}  # type: ignore[type-arg]
    worker = threading.Thread(target=lambda: stats_box.update(
        s=watch_events(api, sink, stop, timeout_seconds=1)), daemon=True)  # fmt: skip
    worker.start()
    wait_for(lambda: len(seen) == 1, what="the listed Event")
    more = copy.deepcopy(first)
    more["series"]["count"] = 15  # the same Event seen once more: MODIFIED
    fake.add(more, "MODIFIED")
    wait_for(lambda: len(seen) == 2, what="the watched MODIFIED")
    fake.compact()  # history gone: the next watch from the old version gets 410
    other = copy.deepcopy(first)
    other["metadata"]["uid"] = "another-uid"
    fake.add(other)
    wait_for(lambda: "ev:another-uid:14" in seen, timeout=20, what="the Event after the relist")
    stop.set()
    worker.join(10)
    stats = stats_box["s"]
    assert stats.api == "events.k8s.io/v1" and stats.gone >= 1 and fake.lists >= 2
    assert seen.count(seen[1]) >= 2  # the relist re-delivers; the store keeps one
    with engine.connect() as conn:
        from sqlalchemy import func, select

        from kubesift.store.schema import alert_incidents, alert_signals

        assert conn.execute(select(func.count()).select_from(alert_signals)).scalar() == 3
        rows = conn.execute(select(alert_incidents.c.signals)).scalars().all()
    assert rows == [3]  # both Events are about one workload, for one reason: one incident
