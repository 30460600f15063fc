"""The alert receiver in front of hostile senders, as a real process: Slack's action body
is capped before its signature is checked, text reaching Slack is escaped, values of the
wrong type and ids out of range are 4xx, never 500s."""

from __future__ import annotations

import contextlib
import copy
import json
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import psutil
import pytest

from tests.alerts.helpers import TOKEN, PageSink, Receiver, load, receiving, wait_for

PING = "<!channel> look <https://evil.example|runbook> & <@U123>"


@pytest.fixture
def receiver(home: Path, sink: PageSink) -> Iterator[Receiver]:
    """Pages go to ``sink`` as Slack messages (its incoming-webhook format)."""
    with receiving(sink.url, slack=True) as r:
        yield r


def _raw(port: int, head: bytes, chunks: Iterator[bytes]) -> tuple[bytes, int]:
    """Send ``head`` then ``chunks`` until the server answers or closes; what it answered
    and how many body bytes it took."""
    sent = 0
    with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
        s.sendall(head)
        s.setblocking(False)
        answer = b""
        for chunk in chunks:
            with contextlib.suppress(BlockingIOError):
                answer += s.recv(65536)
            if answer:
                break
            try:
                s.setblocking(True)
                s.sendall(chunk)
                s.setblocking(False)
            except OSError:  # the server closed: it stopped reading
                break
            sent += len(chunk)
        s.setblocking(True)
        s.settimeout(10)
        try:
            while b"\r\n\r\n" not in answer:
                more = s.recv(65536)
                if not more:
                    break
                answer += more
        except OSError:
            pass
    return answer, sent


def test_a_huge_forged_slack_action_is_refused_before_it_is_read(receiver: Receiver) -> None:
    forged = (
        b"X-Slack-Request-Timestamp: %d\r\nX-Slack-Signature: v0=forged\r\n"
        b"Content-Type: application/x-www-form-urlencoded\r\n" % int(time.time())
    )
    declared = (
        b"POST /v1/slack/actions HTTP/1.1\r\nHost: 127.0.0.1\r\n" + forged
        + b"Content-Length: 1073741824\r\n\r\n"
    )  # fmt: skip
    answer, _ = _raw(receiver.port, declared, iter([b"x" * 65536]))
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    streamed = (
        b"POST /v1/slack/actions HTTP/1.1\r\nHost: 127.0.0.1\r\n" + forged
        + b"Transfer-Encoding: chunked\r\n\r\n"
    )  # fmt: skip
    mib = b"x" * (1 << 20)
    chunk = b"%x\r\n%s\r\n" % (len(mib), mib)
    answer, sent = _raw(receiver.port, streamed, iter([chunk] * 1024))  # 1 GiB offered
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert sent < 64 << 20, f"the receiver read {sent:,} bytes of a forged body"
    rss = psutil.Process(receiver.proc.pid).memory_info().rss
    assert rss < 400 << 20, f"the receiver holds {rss >> 20} MB"


def test_text_from_alerts_and_events_reaches_slack_escaped(
    receiver: Receiver, sink: PageSink, alert_fixtures: Path
) -> None:
    event = copy.deepcopy(load(alert_fixtures, "k8s_event_core_v1_backoff.json"))
    event["message"] = f"evil event {PING}"
    event["firstTimestamp"] = event["lastTimestamp"] = "2026-08-20T09:10:00Z"
    assert receiver.post("/v1/events/k8s", event).status_code == 200
    firing = copy.deepcopy(load(alert_fixtures, "alertmanager_v4_crashloop_firing.json"))
    firing["commonAnnotations"] = {}
    alert = firing["alerts"][0]
    alert["labels"]["severity"] = "critical"  # always paged
    alert["annotations"]["summary"] = f"evil summary {PING}"
    alert["annotations"]["runbook_url"] = "javascript:alert(document.cookie)"
    assert receiver.post("/v1/alerts/alertmanager", firing).status_code == 200
    wait_for(lambda: len(sink.pages) == 1, what="the page")
    _, page = sink.pages[0]
    blocks = page["blocks"][0]["text"]["text"]
    assert "evil summary &lt;!channel&gt; look &lt;https://evil.example|runbook&gt;" in blocks
    assert "&amp; &lt;@U123&gt;" in blocks
    assert "evil event &lt;!channel&gt;" in blocks  # the related Event, escaped too
    everything = json.dumps(page)
    for raw in ("<!channel>", "<https://evil.example", "<@U123>", "javascript:", "|Runbook>"):
        assert raw not in everything, raw
    assert page["text"].startswith("KubePodCrashLooping in shop/")
    assert "&lt;!channel&gt;" in page["text"]


@pytest.mark.parametrize(
    ("path", "body", "status", "says"),
    [
        ("/v1/feedback", {"incident": 12345678901234567890123, "label": "ack"}, 400,
         "'incident'"),
        ("/v1/feedback", {"incident": -1, "label": "ack"}, 400, "must be a whole number"),
    ],
)  # fmt: skip
def test_ids_out_of_range_are_400s(
    receiver: Receiver, path: str, body: dict[str, Any], status: int, says: str
) -> None:
    answer = receiver.post(path, body)
    assert answer.status_code == status, answer.text
    assert says in answer.json()["error"]


def test_a_label_nested_1000_deep_is_a_400(receiver: Receiver, alert_fixtures: Path) -> None:
    firing = load(alert_fixtures, "alertmanager_v4_crashloop_firing.json")
    raw = json.dumps(firing).replace('"severity": "warning"', '"severity": "@@"', 1)
    deep = raw.replace('"@@"', "[" * 1000 + '"x"' + "]" * 1000).encode()
    answer = httpx.post(f"{receiver.url}/v1/alerts/alertmanager", content=deep,
                        headers={"Authorization": f"Bearer {TOKEN}",
                                 "Content-Type": "application/json"})  # fmt: skip
    assert answer.status_code == 400, answer.text
    assert "alerts[0].labels.severity must be a string, not list" in answer.json()["error"]
    listed = receiver.post("/v1/alerts/alertmanager", {**firing, "alerts": []})
    assert listed.status_code == 200  # the receiver still answers


def test_the_alert_body_cap_is_a_413(receiver: Receiver) -> None:
    declared = (
        b"POST /v1/alerts/alertmanager HTTP/1.1\r\nHost: 127.0.0.1\r\n"
        b"Authorization: Bearer " + TOKEN.encode() + b"\r\nContent-Type: application/json\r\n"
        b"Content-Length: 1073741824\r\n\r\n"
    )
    answer, _ = _raw(receiver.port, declared, iter([b"{" * 65536]))
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
