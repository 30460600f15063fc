"""When to try again: one backoff, and the server's ``Retry-After`` honoured first. Pure.

Used by the GitHub client's policy, the CI sources (GCS) and the bot's job queue, so a
429 or a 503 that says how long to wait is waited for that long everywhere, and
everything else backs off exponentially with the same rule.
"""

from __future__ import annotations

from collections.abc import Mapping
from email.utils import parsedate_to_datetime

#: The longest wait a ``Retry-After`` may ask for before it is treated as a failure's
#: backoff instead (a server asking for a day is not waited for in one request).
MAX_RETRY_AFTER = 3600.0


def backoff(attempt: int, base: float = 1.0, cap: float = 60.0) -> float:
    """Seconds before retry ``attempt + 1`` (``attempt`` from 0): base, 2·base, 4·base…,
    at most ``cap``."""
    return float(min(cap, base * 2 ** max(attempt, 0)))


def retry_after(headers: Mapping[str, str], now: float) -> float | None:
    """What ``Retry-After`` asks for, in seconds from ``now`` (delta-seconds or an HTTP
    date); None when absent, unreadable or longer than :data:`MAX_RETRY_AFTER`."""
    value = headers.get("retry-after") or headers.get("Retry-After")
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        seconds = float(value)
    else:
        try:
            seconds = parsedate_to_datetime(value).timestamp() - now
        except (TypeError, ValueError, IndexError):
            return None
    return max(seconds, 0.0) if seconds <= MAX_RETRY_AFTER else None


def wait_before_retry(
    attempt: int, headers: Mapping[str, str], now: float, base: float = 1.0, cap: float = 60.0
) -> float:
    """The server's ``Retry-After`` when it gives one, else :func:`backoff`."""
    asked = retry_after(headers, now)
    return asked if asked is not None else backoff(attempt, base, cap)
