"""Request statistics of the fake: counts by route and status, quota spent, a recent log."""

from __future__ import annotations

from collections import Counter, deque
from typing import Any


class RequestStats:
    """Counters the control API reports (``GET /_fake/stats``)."""

    def __init__(self, log_size: int = 5000) -> None:
        self.log: deque[dict[str, Any]] = deque(maxlen=log_size)
        self.reset()

    def reset(self) -> None:
        """Zero everything."""
        self.total = 0
        self.not_modified = 0
        self.quota_used = 0
        self.by_route: dict[str, Counter[str]] = {}
        self.by_status: Counter[str] = Counter()
        self.quota_by: Counter[str] = Counter()
        self.faults: Counter[str] = Counter()
        self.log.clear()

    def record(
        self,
        method: str,
        route: str,
        target: str,
        status: int,
        *,
        consumed: bool,
        who: str,
        fault: str | None,
        at: float,
    ) -> None:
        """Count one answered request."""
        self.total += 1
        key = f"{method} {route}"
        self.by_route.setdefault(key, Counter())[str(status)] += 1
        self.by_status[str(status)] += 1
        if status == 304:
            self.not_modified += 1
        if consumed:
            self.quota_used += 1
            self.quota_by[who] += 1
        if fault:
            self.faults[fault] += 1
        self.log.append(
            {
                "method": method,
                "path": target,
                "route": route,
                "status": status,
                "who": who,
                "fault": fault,
                "at": round(at, 3),
            }
        )

    def snapshot(self) -> dict[str, Any]:
        """JSON-able counts."""
        return {
            "total": self.total,
            "not_modified": self.not_modified,
            "quota_used": self.quota_used,
            "quota_used_by": dict(self.quota_by),
            "by_status": dict(self.by_status),
            "by_route": {k: dict(v) for k, v in sorted(self.by_route.items())},
            "faults_fired": dict(self.faults),
        }
