"""The fake's clock: real time, optionally faster, that tests can move forward."""

from __future__ import annotations

import threading
import time
from email.utils import formatdate


def iso(ts: float) -> str:
    """``YYYY-MM-DDTHH:MM:SSZ`` for epoch seconds, as GitHub writes timestamps."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(int(ts)))


def parse_iso(text: str) -> int:
    """Epoch seconds of an ISO 8601 timestamp (``Z``, offsets and date-only accepted)."""
    from datetime import UTC, datetime

    raw = text.strip().replace("z", "Z")
    if raw.endswith("Z"):
        raw = raw[:-1] + "+00:00"
    parsed = datetime.fromisoformat(raw)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return int(parsed.timestamp())


class FakeClock:
    """Epoch time that starts at ``start`` and runs ``speed`` times faster than real time.

    ``advance(seconds)`` jumps forward; ``set_speed(x)`` changes the rate from now on.
    """

    def __init__(self, start: float | None = None, speed: float = 1.0) -> None:
        self._lock = threading.Lock()
        self._base = time.time() if start is None else float(start)
        self._anchor = time.monotonic()
        self._speed = float(speed)

    @property
    def speed(self) -> float:
        """How many fake seconds pass per real second (assignable)."""
        return self._speed

    @speed.setter
    def speed(self, value: float) -> None:
        self.set_speed(value)

    def now(self) -> float:
        """The current fake time, epoch seconds."""
        with self._lock:
            return self._base + (time.monotonic() - self._anchor) * self._speed

    def advance(self, seconds: float) -> float:
        """Jump forward by ``seconds``; returns the new time."""
        with self._lock:
            self._base += float(seconds)
        return self.now()

    def set_speed(self, speed: float) -> None:
        """Run ``speed`` times faster than real time from now on."""
        current = self.now()
        with self._lock:
            self._base, self._anchor, self._speed = current, time.monotonic(), float(speed)

    def http_date(self) -> str:
        """The current time as an HTTP ``Date`` header value."""
        return formatdate(self.now(), usegmt=True)
