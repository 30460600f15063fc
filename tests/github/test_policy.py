"""The rate-limit and retry policy is pure: each documented case, no server needed."""

from __future__ import annotations

import pytest

from kubesift.errors import AuthError, GitHubError, NotFoundError, RateLimitError
from kubesift.github.policy import (
    Attempt,
    answer,
    decide,
    parse_links,
    per_page_of,
    rate_info,
    shrink,
)

NOW = 1_700_000_000.0


def test_link_header_from_recorded_fixture() -> None:
    header = (
        '<https://api.github.com/repositories/1000/issues?per_page=3&page=1>; rel="prev", '
        '<https://api.github.com/repositories/1000/issues?per_page=3&page=3>; rel="next", '
        '<https://api.github.com/repositories/1000/issues?per_page=3&page=5>; rel="last"'
    )
    links = parse_links(header)
    assert links["next"].endswith("page=3")
    assert links["last"].endswith("page=5")
    assert parse_links(None) == {}


def test_retry_after_wins_over_everything() -> None:
    headers = {"retry-after": "7", "x-ratelimit-remaining": "0", "x-ratelimit-reset": "9999999999"}
    d = decide(403, headers, "You have exceeded a secondary rate limit", 0, NOW)
    assert (d.action, d.wait) == ("wait", 7.0)


def test_exhausted_quota_waits_until_reset_by_server_clock() -> None:
    headers = {
        "x-ratelimit-remaining": "0",
        "x-ratelimit-reset": str(int(NOW) + 120),
        "date": "Tue, 14 Nov 2023 22:13:20 GMT",  # == NOW
    }
    d = decide(403, headers, "API rate limit exceeded", 0, NOW + 500)  # local clock is off
    assert d.action == "wait"
    assert d.wait == pytest.approx(121, abs=1)


def test_secondary_limit_without_headers_waits_a_minute_then_backs_off() -> None:
    first = decide(403, {}, "You have exceeded a secondary rate limit.", 0, NOW)
    second = decide(403, {}, "You have exceeded a secondary rate limit.", 1, NOW)
    assert (first.wait, second.wait) == (60.0, 120.0)
    assert decide(403, {}, "secondary rate limit", 6, NOW).action == "fail"


def test_forbidden_that_is_not_a_limit_fails_at_once() -> None:
    d = decide(403, {}, "Resource not accessible by integration", 0, NOW)
    assert d.action == "fail"
    assert "not accessible" in d.reason


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_server_errors_back_off_exponentially_and_give_up(status: int) -> None:
    waits = [decide(status, {}, "", a, NOW).wait for a in range(3)]
    assert waits == [1.0, 2.0, 4.0]
    assert decide(status, {}, "", 6, NOW).action == "fail"
    assert decide(status, {}, "", 0, NOW).shrink_page is (status in (502, 504))


def test_shrinking_pages_halves_per_page_down_to_a_floor() -> None:
    url = "https://h/repos/o/r/issues?state=all&per_page=100&after=abc"
    smaller = shrink(url)
    assert smaller is not None and per_page_of(smaller) == 50 and "after=abc" in smaller
    assert shrink("https://h/x?per_page=10") is None


def test_rate_info_tolerates_missing_and_garbage_headers() -> None:
    info = rate_info({"x-ratelimit-remaining": "42", "x-ratelimit-reset": "nope"})
    assert info.remaining == 42 and info.reset is None and info.limit is None


# -- answer(): the one mapping from (status, headers, body) to what the client does --------


LIMITED = {"x-ratelimit-remaining": "0", "x-ratelimit-reset": str(int(NOW) + 30)}


@pytest.mark.parametrize(
    ("status", "headers", "body", "at", "step", "error"),
    [
        (200, {}, b"[]", Attempt("/x", now=NOW), "return", None),
        (304, {}, b"", Attempt("/x", now=NOW), "return", None),
        (404, {}, b'{"message": "Not Found"}', Attempt("/x", allow=(404,)), "return", None),
        (404, {}, b'{"message": "Not Found"}', Attempt("/repos/a/b"), "raise", NotFoundError),
        (401, {}, b'{"message": "Bad credentials"}', Attempt("/x"), "raise", AuthError),
        (401, {}, b"", Attempt("/x", can_refresh=True), "refresh", None),
        (422, {}, b'{"message": "Pagination is limited"}', Attempt("/x"), "raise", GitHubError),
        (422, {}, b'{"message": "Validation Failed"}', Attempt("/x"), "raise", GitHubError),
        (403, LIMITED, b"{}", Attempt("/x", now=NOW), "wait", None),
        (403, LIMITED, b"{}", Attempt("/x", now=NOW, max_wait=10), "raise", RateLimitError),
        (403, {}, b'{"message": "Resource not accessible"}', Attempt("/x"), "raise", GitHubError),
        (502, {}, b"", Attempt("/x?per_page=100"), "wait", None),
        (502, {}, b"", Attempt("/x", attempt=6), "raise", GitHubError),
        (500, {}, b"not json", Attempt("/x"), "wait", None),
    ],
    ids=["ok", "304", "allowed-404", "404", "401", "401-refresh", "422-pagination",
         "422-other", "quota-wait", "quota-too-long", "403-forbidden", "502", "502-gives-up",
         "500-garbage-body"],
)  # fmt: skip
def test_answer_table(
    status: int,
    headers: dict[str, str],
    body: bytes,
    at: Attempt,
    step: str,
    error: type[Exception] | None,
) -> None:
    outcome = answer(status, headers, body, at)
    assert outcome.step == step
    assert (type(outcome.error) if outcome.error else None) is error
    if outcome.error is not None:
        assert outcome.error.message and "\n" not in outcome.error.message


def test_answer_messages_name_the_fix() -> None:
    quota = answer(403, LIMITED, b"{}", Attempt("/x", now=NOW, max_wait=10)).error
    assert quota is not None and "run again later, it resumes" in quota.message
    auth = answer(401, {}, b"", Attempt("/x", has_auth=False)).error
    assert auth is not None and "this needs a token" in auth.message
    assert answer(502, {}, b"", Attempt("/x")).shrink_page


def test_the_client_reads_the_injected_clock() -> None:
    """A 403 with the quota spent and no Date header: the wait is counted from the
    client's clock, which tests inject (no real time passes)."""
    import httpx

    from kubesift.github import GitHubClient

    calls: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        if len(calls) == 1:
            return httpx.Response(403, headers=LIMITED, json={"message": "API rate limit"})
        return httpx.Response(200, json=[])

    slept: list[float] = []
    client = GitHubClient(
        "https://api.github.test",
        transport=httpx.MockTransport(handler),
        sleep=slept.append,
        clock=lambda: NOW,
    )
    with client:
        assert client.get("/repos/a/b/issues").status == 200
    assert slept == [pytest.approx(31.0)] and client.stats.retries == 1
