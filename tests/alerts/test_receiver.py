"""`kubesift alerts serve` as a real process: auth, idempotency, bad input, guardrails,
pages to a real webhook, feedback over HTTP and a signed Slack callback, kill -9."""

from __future__ import annotations

import copy
import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

import httpx
import pytest

from kubesift.alerts.auth import slack_signature
from tests.alerts.helpers import (
    SLACK_SECRET,
    TOKEN,
    PageSink,
    Receiver,
    free_port,
    load,
    receiving,
    wait_for,
)
from tests.conftest import run_cli


@pytest.fixture
def receiver(home: Path, sink: PageSink) -> Iterator[Receiver]:
    with receiving(sink.url) as r:
        yield r


def test_alertmanager_payloads_are_stored_once_and_paged_once(
    receiver: Receiver, sink: PageSink, alert_fixtures: Path
) -> None:
    firing = load(alert_fixtures, "alertmanager_v4_crashloop_firing.json")
    first = receiver.post("/v1/alerts/alertmanager", firing)
    again = receiver.post("/v1/alerts/alertmanager", firing)  # Alertmanager re-sends
    assert first.status_code == again.status_code == 200
    assert first.json()["stored"] == 1 and again.json() == {
        "stored": 0, "duplicates": 1, "ignored": 0, "held": 0,
        "incidents": [], "pages": []}  # fmt: skip
    group = receiver.post("/v1/alerts/alertmanager",
                          load(alert_fixtures, "alertmanager_v4_group_truncated.json"))  # fmt: skip
    assert group.json()["stored"] == 2
    wait_for(lambda: len(sink.pages) == 3, what="three pages")
    keys = sorted(k for k, _ in sink.pages)
    assert len(set(keys)) == 3 and all(k.startswith("kubesift-page-") for k in keys)
    page = next(p for _, p in sink.pages if p["incident"]["name"] == "KubeletDown")
    assert page["incident"]["why"]["reason"] == "critical: never suppressed by the model"
    assert page["incident"]["runbook"].endswith("/kubeletdown")
    closing = load(alert_fixtures, "alertmanager_v4_crashloop_resolved.json")
    resolved = receiver.post("/v1/alerts/alertmanager", closing)
    assert resolved.json()["stored"] == 1
    listed = httpx.get(f"{receiver.url}/v1/incidents", headers={"Authorization": f"Bearer {TOKEN}"})
    crash = next(i for i in listed.json()["incidents"] if i["name"] == "KubePodCrashLooping")
    assert crash["closed_at"] == "2026-08-20T09:58:02Z" and crash["signals"] == 1
    wait_for(lambda: len(sink.pages) == 4, what="the resolution's follow-up")
    key, follow_up = sink.pages[3]
    assert follow_up["kind"] == "resolved" and follow_up["incident"]["id"] == crash["id"]
    assert key == f"kubesift-resolved-{crash['id']}"
    time.sleep(0.5)
    assert len(sink.pages) == 4  # a resolution pages nobody: one follow-up, no new page


def test_auth_and_bad_input_store_nothing(receiver: Receiver, alert_fixtures: Path) -> None:
    firing = load(alert_fixtures, "alertmanager_v4_crashloop_firing.json")
    assert receiver.post("/v1/alerts/alertmanager", firing, token="").status_code == 401
    assert receiver.post("/v1/alerts/alertmanager", firing, token="wrong").status_code == 401
    basic = httpx.post(f"{receiver.url}/v1/alerts/alertmanager", json=firing,
                       auth=("alertmanager", TOKEN))  # fmt: skip
    assert basic.status_code == 200 and basic.json()["stored"] == 1
    broken = copy.deepcopy(load(alert_fixtures, "alertmanager_v4_group_truncated.json"))
    broken["alerts"][1]["labels"].pop("alertname")  # the first alert is fine, the second not
    answer = receiver.post("/v1/alerts/alertmanager", broken)
    assert answer.status_code == 400 and "no alertname" in answer.json()["error"]
    junk = httpx.post(f"{receiver.url}/v1/events/k8s", content=b"{not json",
                      headers={"Authorization": f"Bearer {TOKEN}"})  # fmt: skip
    assert junk.status_code == 400 and "not JSON" in junk.json()["error"]
    code, out = _list_json()
    assert code == 0 and out["summary"]["signals"] == {"alertmanager": 1}
    [stored] = out["signals"]
    assert stored["name"] == "KubePodCrashLooping" and stored["incident_id"] == 1


def _list_json() -> tuple[int, dict]:  # type: ignore[type-arg]
    done = run_cli("alerts", "list", "--json")
    return done.returncode, json.loads(done.stdout) if done.returncode == 0 else {}


def test_events_logs_watchdog_and_feedback_channels(
    receiver: Receiver, alert_fixtures: Path
) -> None:
    for name in ("k8s_event_core_v1_backoff.json", "k8s_watch_modified_backoff.json",
                 "k8s_event_events_v1_failedscheduling.json"):  # fmt: skip
        assert receiver.post("/v1/events/k8s", load(alert_fixtures, name)).status_code == 200
    k8s = {"namespace_name": "shop", "pod_name": "api-7d9f8c6b5-x2k9q"}
    logs = [
        {"date": "2026-08-20T09:30:00Z", "log": "ERROR refused: 10.0.0.5:5432", "kubernetes": k8s}
    ]
    assert receiver.post("/v1/logs/fluentbit", logs).json()["stored"] == 1
    dog = {"version": "4", "status": "firing", "alerts": [{
        "status": "firing", "labels": {"alertname": "Watchdog", "severity": "none"},
        "startsAt": "2026-08-20T09:00:00Z", "fingerprint": "00000000000000aa"}]}  # fmt: skip
    receiver.post("/v1/alerts/alertmanager", dog)
    _, out = _list_json()
    by_name = {i["name"]: i for i in out["incidents"]}
    assert by_name["Watchdog"]["decision"] == "drop"
    assert by_name["BackOff"]["signals"] == 2  # the watch MODIFIED is one more occurrence
    backoff = by_name["BackOff"]["id"]
    http = receiver.post("/v1/feedback", {"incident": backoff, "label": "important"})
    assert http.status_code == 200 and http.json()["needs_human"] is True
    assert receiver.post("/v1/feedback", {"incident": 9999, "label": "noise"}).status_code == 404
    assert receiver.post("/v1/feedback", {"incident": backoff, "label": "?"}).status_code == 400
    value = f"{by_name['Watchdog']['id']}:not-important"
    action = {"action_id": "kubesift_not-important", "value": value}
    payload = {"type": "block_actions", "user": {"id": "U1", "username": "oncall"},
               "actions": [action]}  # fmt: skip
    body = urlencode({"payload": json.dumps(payload)}).encode()
    stamp = str(int(time.time()))
    signed = {"X-Slack-Request-Timestamp": stamp,
              "Content-Type": "application/x-www-form-urlencoded",
              "X-Slack-Signature": slack_signature(SLACK_SECRET, stamp, body)}  # fmt: skip
    ok = httpx.post(f"{receiver.url}/v1/slack/actions", content=body, headers=signed)
    assert ok.status_code == 200 and "did not need a human" in ok.json()["text"]
    forged = {**signed, "X-Slack-Signature": slack_signature("other", stamp, body)}
    assert httpx.post(f"{receiver.url}/v1/slack/actions", content=body,
                      headers=forged).status_code == 401  # fmt: skip
    cli = run_cli("alerts", "feedback", str(backoff), "noise", "--json")
    assert cli.returncode == 0, cli.stderr
    _, out = _list_json()
    assert out["summary"]["feedback"] == {"cli": 1, "http": 1, "slack": 1}
    from kubesift.alerts.feedback import examples
    from kubesift.cli.common import store

    with store().connect() as conn:
        judged = examples(conn)  # what the next training reads
    # BackOff: HTTP said important, then the CLI said noise (the newest answer wins);
    # Watchdog: Slack said not important.
    answers = sorted((e.features.get("source=k8s-event", 0), e.needs_human) for e in judged)
    assert answers == [(0, False), (1.0, False)]
    metrics = httpx.get(f"{receiver.url}/metrics").text
    assert 'kubesift_alerts_signals_total{source="k8s-event"} 3.0' in metrics
    assert 'kubesift_alerts_feedback_total{needs_human="false",via="slack"} 1.0' in metrics


def test_kill_9_loses_nothing_and_pages_nothing_twice(
    home: Path, sink: PageSink, alert_fixtures: Path
) -> None:
    env = {"KUBESIFT_ALERTS_TOKEN": TOKEN, "KUBESIFT_ALERTS_WEBHOOK": sink.url}
    template = load(alert_fixtures, "alertmanager_v4_crashloop_firing.json")
    payloads = []
    for n in range(120):
        p = copy.deepcopy(template)
        alert = p["alerts"][0]
        alert["labels"] = {**alert["labels"], "pod": f"svc{n}-7d9f8c6b5-x2k9q",
                           "severity": "critical"}  # fmt: skip
        alert["fingerprint"] = f"{n:016x}"
        payloads.append(p)
    port = free_port()
    acked: set[int] = set()
    r = Receiver(port, env)

    def send(indexes: list[int]) -> None:
        for n in indexes:
            try:
                if r.post("/v1/alerts/alertmanager", payloads[n]).status_code == 200:
                    acked.add(n)
            except httpx.HTTPError:
                pass

    threads = [threading.Thread(target=send, args=(list(range(k, 120, 4)),)) for k in range(4)]
    for t in threads:
        t.start()
    wait_for(lambda: len(acked) >= 30, what="some acks")
    r.kill()
    for t in threads:
        t.join()
    assert 30 <= len(acked) < 120
    r = Receiver(port, env)
    try:
        for n in range(120):  # Alertmanager retries what was not acked, and re-sends the rest
            assert r.post("/v1/alerts/alertmanager", payloads[n]).status_code == 200
        wait_for(lambda: len({k for k, _ in sink.pages}) == 120, timeout=30, what="120 pages")
        time.sleep(0.5)
        # Each incident paged once; a page whose POST the kill interrupted may go out once
        # more, marked as a redelivery with the same key (a receiver drops it).
        keys = [k for k, _ in sink.pages]
        assert len(set(keys)) == 120 and len(keys) - 120 <= len(sink.redelivered) <= 1
        assert all(keys.count(k) == 1 for k in set(keys) - set(sink.redelivered))
        _, out = _list_json()
        assert out["summary"]["signals"] == {"alertmanager": 120}
    finally:
        r.stop()
