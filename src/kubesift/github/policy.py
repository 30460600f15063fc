"""Pure decisions about GitHub answers: what to wait for, when to give up.

:func:`answer` is the one mapping from an answer (status, headers, body) to what the
client does with it (return it, refresh the credentials, wait and retry, or raise which
error with which message); the client only sends, sleeps and raises.

Follows GitHub's documented procedure: honour ``retry-after``; when
``x-ratelimit-remaining`` is 0 wait for ``x-ratelimit-reset``; for other
secondary-limit answers wait at least a minute, then back off exponentially.
5xx and transport errors back off exponentially (or as a ``retry-after`` asks,
:mod:`kubesift.retry`); 502/504 also shrink the page.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Literal
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from kubesift.errors import AuthError, GitHubError, NotFoundError, RateLimitError
from kubesift.retry import backoff, retry_after, wait_before_retry

Action = Literal["ok", "wait", "fail"]

LINK_RE = re.compile(r'<([^>]+)>\s*;\s*rel="([^"]+)"')
MIN_PER_PAGE = 10


@dataclass(frozen=True)
class RateInfo:
    limit: int | None
    remaining: int | None
    reset: int | None
    used: int | None = None


@dataclass(frozen=True)
class Decision:
    action: Action
    wait: float = 0.0
    reason: str = ""
    shrink_page: bool = False


def parse_links(header: str | None) -> dict[str, str]:
    """``Link`` header -> {rel: url}."""
    if not header:
        return {}
    return {rel: url for url, rel in LINK_RE.findall(header)}


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def rate_info(headers: Mapping[str, str]) -> RateInfo:
    return RateInfo(
        limit=_int(headers.get("x-ratelimit-limit")),
        remaining=_int(headers.get("x-ratelimit-remaining")),
        reset=_int(headers.get("x-ratelimit-reset")),
        used=_int(headers.get("x-ratelimit-used")),
    )


def server_now(headers: Mapping[str, str], fallback: float) -> float:
    """The server's clock from its ``Date`` header, so waits survive local clock skew."""
    date = headers.get("date")
    if not date:
        return fallback
    try:
        return parsedate_to_datetime(date).timestamp()
    except (TypeError, ValueError):
        return fallback


def decide(
    status: int,
    headers: Mapping[str, str],
    message: str,
    attempt: int,
    now: float,
    *,
    max_retries: int = 6,
) -> Decision:
    """What to do with an answer, given how many times this request was already retried."""
    if status < 400 or status in (301, 304):
        return Decision("ok")
    if status in (403, 429):
        return _limited(status, headers, message, attempt, now, max_retries)
    if status >= 500:
        if attempt >= max_retries:
            return Decision("fail", reason=f"GitHub answered {status} {attempt + 1} times")
        return Decision(
            "wait",
            wait=wait_before_retry(attempt, headers, now),
            reason=f"server error {status}",
            shrink_page=status in (502, 504),
        )
    return Decision("fail", reason=message or f"HTTP {status}")


def _limited(
    status: int,
    headers: Mapping[str, str],
    message: str,
    attempt: int,
    now: float,
    max_retries: int,
) -> Decision:
    asked = retry_after(headers, now)
    if asked is not None:
        return Decision("wait", wait=max(asked, 1.0), reason="secondary rate limit")
    rate = rate_info(headers)
    if rate.remaining == 0 and rate.reset is not None:
        wait = max(rate.reset - server_now(headers, now), 0.0) + 1.0
        return Decision("wait", wait=wait, reason="rate limit exhausted")
    if "rate limit" in message.lower():
        if attempt >= max_retries:
            return Decision("fail", reason="secondary rate limit persists")
        return Decision(
            "wait", wait=backoff(attempt, base=60.0, cap=3600.0), reason="secondary rate limit"
        )
    return Decision("fail", reason=message or f"HTTP {status}")


def with_per_page(url: str, per_page: int) -> str:
    """``url`` with its ``per_page`` query parameter replaced."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "per_page"]
    query.append(("per_page", str(per_page)))
    return urlunsplit(parts._replace(query=urlencode(query)))


def per_page_of(url: str, default: int = 30) -> int:
    for k, v in parse_qsl(urlsplit(url).query):
        if k == "per_page":
            return _int(v) or default
    return default


def shrink(url: str) -> str | None:
    """Half the page size of a list URL, or None when it is already small."""
    current = per_page_of(url)
    if current <= MIN_PER_PAGE:
        return None
    return with_per_page(url, max(MIN_PER_PAGE, current // 2))


# -- the one mapping from an answer to what the client does ------------------------------------

Step = Literal["return", "refresh", "wait", "raise"]


@dataclass(frozen=True)
class Outcome:
    """``return`` the answer, ``refresh`` the credentials and retry, ``wait`` (``seconds``,
    then retry, on a smaller page with ``shrink_page``) or ``raise`` ``error``."""

    step: Step
    seconds: float = 0.0
    reason: str = ""
    shrink_page: bool = False
    error: GitHubError | None = None


@dataclass(frozen=True)
class Attempt:
    """What the client knows about the request besides the answer."""

    path: str  # path and query, for messages
    attempt: int = 0  # retries so far
    now: float = 0.0  # the client's clock (server time comes from ``Date``)
    allow: tuple[int, ...] = ()  # statuses the caller takes as they are
    has_auth: bool = True
    can_refresh: bool = False  # an installation token not refreshed yet
    max_retries: int = 6
    max_wait: float = 3700.0


OK_STATUSES = (200, 201, 204, 304)


def message_of(body: bytes) -> str:
    """GitHub's ``message`` field of an error body ("" when there is none)."""
    try:
        data = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return ""
    return str(data.get("message", "")) if isinstance(data, dict) else ""


def answer(status: int, headers: Mapping[str, str], body: bytes, at: Attempt) -> Outcome:
    """What to do with GitHub's answer to one attempt of a request."""
    if status in at.allow or status in OK_STATUSES:
        return Outcome("return")
    message = message_of(body)
    if status == 401:
        return _unauthorized(message, at)
    if status == 404:
        return Outcome("raise", error=NotFoundError(f"not found on GitHub: {at.path}", status=404))
    if status == 422 and "pagination" in message.lower():
        return Outcome("raise", error=GitHubError(f"GitHub refused the page ({message})", 422))
    d = decide(status, headers, message, at.attempt, at.now, max_retries=at.max_retries)
    if d.action == "fail":
        text = f"GitHub answered {status} for {at.path}: {d.reason}"
        return Outcome("raise", error=GitHubError(text, status))
    if d.wait > at.max_wait:
        reset = time.strftime("%H:%M:%S", time.localtime(at.now + d.wait))
        text = (
            f"{d.reason}: GitHub asks to wait {d.wait:.0f} s (until {reset}), "
            f"more than --max-wait {at.max_wait:.0f} s; run again later, it resumes"
        )
        return Outcome("raise", error=RateLimitError(text, status))
    return Outcome("wait", seconds=d.wait, reason=d.reason, shrink_page=d.shrink_page)


def _unauthorized(message: str, at: Attempt) -> Outcome:
    if at.can_refresh:
        # Installation tokens expire; one fresh token is worth a retry.
        return Outcome("refresh", reason="credentials expired")
    hint = "check GITHUB_TOKEN / --token-file" if at.has_auth else "this needs a token"
    text = f"GitHub rejected the credentials (401 {message or 'Unauthorized'}); {hint}"
    return Outcome("raise", error=AuthError(text, status=401))
