"""One backoff, and a server's Retry-After honoured first: by the GitHub policy, the GCS
source and the bot's queue alike."""

from __future__ import annotations

from email.utils import formatdate

import httpx

from kubesift.bot.queue import backoff as job_backoff
from kubesift.ci.sources import GCSSource
from kubesift.github.policy import decide
from kubesift.retry import backoff, retry_after, wait_before_retry

NOW = 1_800_000_000.0


def test_retry_after_in_seconds_or_as_a_date_else_backoff() -> None:
    assert [backoff(a) for a in range(5)] == [1.0, 2.0, 4.0, 8.0, 16.0]
    assert backoff(10, cap=30.0) == 30.0
    assert retry_after({"retry-after": "7"}, NOW) == 7.0
    assert retry_after({"Retry-After": formatdate(NOW + 90, usegmt=True)}, NOW) == 90.0
    assert retry_after({"retry-after": "soon"}, NOW) is None
    assert retry_after({"retry-after": "86400"}, NOW) is None  # a day: not waited for
    assert wait_before_retry(2, {}, NOW) == 4.0
    assert wait_before_retry(2, {"retry-after": "3"}, NOW) == 3.0
    assert job_backoff(1, 5.0) == 5.0 and job_backoff(3, 5.0) == 20.0


def test_github_waits_as_a_503_asks() -> None:
    asked = decide(503, {"retry-after": "12"}, "", attempt=0, now=NOW)
    assert (asked.action, asked.wait) == ("wait", 12.0)
    assert decide(503, {}, "", attempt=3, now=NOW).wait == 8.0
    limited = decide(429, {"retry-after": "30"}, "", attempt=0, now=NOW)
    assert (limited.action, limited.wait) == ("wait", 30.0)


def test_gcs_waits_as_a_503_asks_then_backs_off() -> None:
    answers = iter([
        httpx.Response(503, headers={"retry-after": "7"}),
        httpx.Response(500),
        httpx.Response(200, json={"items": []}),
    ])  # fmt: skip
    slept: list[float] = []
    transport = httpx.MockTransport(lambda request: next(answers))
    src = GCSSource("gs://b/p", api_url="http://gcs.fake", transport=transport, sleep=slept.append)
    assert src.dirs("logs") == []
    assert slept == [7.0, 2.0]  # the server's 7 s, then the second attempt's backoff
