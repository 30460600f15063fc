"""The Alerts view's figures: decisions that add up to the incidents listed, precision and
recall from people's answers (or why there are none), and missed pages flagged and
counted — checked against counts of our own from the store."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.engine import Engine

from kubesift.alerts import feedback, queries
from kubesift.alerts.ingest import Triage
from kubesift.alerts.service import ingest
from kubesift.alerts.signals import from_alertmanager
from kubesift.config import load_settings
from kubesift.store import open_store
from kubesift.store.schema import alert_incidents
from tests.conftest import run_cli
from tests.web.conftest import alert, webhook


def _store(home: Path) -> Engine:
    engine = open_store(load_settings())
    payload = webhook(
        alert("KubePodCrashLooping", "critical", "payments", "f1"),
        alert("CPUThrottlingHigh", "info", "monitoring", "f2"),
        alert("KubeDeploymentReplicasMismatch", "warning", "shop", "f3"),
        alert("Watchdog", "none", "monitoring", "f4"),
    )
    ingest(engine, Triage(), from_alertmanager(payload, now="2026-12-01T10:00:05Z"))
    return engine


def test_decisions_add_up_and_empty_figures_say_why(home: Path) -> None:
    engine = _store(home)
    with engine.connect() as conn:
        view = queries.inbox(conn, limit=50)
        stored = dict(
            conn.execute(
                select(alert_incidents.c.decision, func.count()).group_by(
                    alert_incidents.c.decision
                )
            ).all()
        )
    assert sum(view["decisions"].values()) == view["total"] == len(view["rows"]) == 4
    assert {k: v for k, v in view["decisions"].items() if v} == stored
    assert view["decisions"]["drop"] == 1  # the heartbeat: counted, not lost
    q = view["quality"]
    pages = view["decisions"]["page"]
    assert (
        q["precision"] is None
        and q["why"]["precision"] == f"no answers yet: {pages} pages, 0 answered"
    )
    assert q["recall"] is None and "0 of 4 answered" in q["why"]["recall"]
    assert queries.headlines(view)[0].startswith("4 incidents = ")


def test_a_missed_page_is_flagged_where_it_happened_and_counted(home: Path) -> None:
    engine = _store(home)
    with engine.connect() as conn:
        rows = queries.inbox(conn)["rows"]
    paged = next(r for r in rows if r["decision"] == "page")
    held = next(r for r in rows if r["decision"] in ("record", "digest"))
    with engine.begin() as conn:
        feedback.record(conn, paged["id"], True, via="cli")
        feedback.record(conn, held["id"], False, via="cli")
        feedback.record(conn, held["id"], True, via="cli")  # the latest answer counts
    with engine.connect() as conn:
        view = queries.inbox(conn)
        only = queries.inbox(conn, missed=True)
    q = view["quality"]
    assert (q["precision"], q["recall"], q["missed_pages"], q["needed"]) == (1.0, 0.5, 1, 2)
    assert [r["id"] for r in only["rows"]] == [held["id"]] and only["total"] == 1
    flagged = {r["id"]: r["missed_page"] for r in view["rows"]}
    assert flagged[held["id"]] and not flagged[paged["id"]]
    engine.dispose()
    # The CLI shows the same view, and says it in words.
    done = run_cli("alerts", "list", "--json")
    assert done.returncode == 0, done.stderr
    cli = json.loads(done.stdout)
    assert cli["quality"] == q and cli["decisions"] == view["decisions"]
    text = run_cli("alerts", "list", "--missed")
    assert (
        "MISSED PAGE" in text.stdout
        and "missed pages (needed a human, not paged): 1" in text.stderr
    )
