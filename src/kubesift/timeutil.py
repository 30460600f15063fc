"""Timestamps as GitHub writes them: ISO 8601 UTC with a ``Z`` and whole seconds."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta


def utcnow_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_iso(value: str) -> datetime:
    """Parse ``2026-01-02T03:04:05Z`` (or with an offset) into an aware datetime."""
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def to_iso(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def stamp(at: float | None = None) -> str:
    """A sortable UTC time with microseconds (``2026-01-02T03:04:05.000001Z``) for ``at``
    (seconds since the epoch; default now)."""
    moment = datetime.fromtimestamp(time.time() if at is None else at, UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def shift(value: str, seconds: float) -> str:
    """``value`` (ISO 8601 UTC) moved by ``seconds``."""
    return to_iso(datetime.fromtimestamp(parse_iso(value).timestamp() + seconds, UTC))


def from_epoch(seconds: float) -> str:
    """``seconds`` since the epoch as ISO 8601 UTC, whole seconds."""
    return to_iso(datetime.fromtimestamp(seconds, UTC))


def days_ago(days: float, now: datetime | None = None) -> str:
    """The start of a window of ``days`` ending ``now`` (default: the clock), ISO UTC."""
    return to_iso((now or datetime.now(UTC)) - timedelta(days=days))
