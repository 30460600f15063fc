"""Injectable faults: server errors, truncated bodies, slowness, secondary limits…"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

FAULT_KINDS = ("status", "per_page_limit", "malformed", "slow", "secondary", "exhaust")
_UNLIMITED_BY_DEFAULT = ("per_page_limit", "slow")


@dataclass
class Fault:
    """One injected misbehaviour of the fake.

    ``kind``: ``status`` (answer with ``status``, default 502), ``per_page_limit`` (502 for
    list requests with ``per_page`` > ``per_page``), ``malformed`` (200 with a truncated
    body), ``slow`` (delay responses by ``seconds``), ``secondary`` (403 or 429 with
    ``retry-after: seconds``), ``exhaust`` (the requester's — or ``token``'s — quota drops
    to 0 and resets in ``seconds``). ``path`` restricts it to requests whose path and query
    contain that substring, ``method`` to one HTTP method. ``count`` is how many requests it
    affects: ``None`` means the kind's default (until cleared for ``per_page_limit`` and
    ``slow``, once otherwise); a negative count means until cleared.
    """

    kind: str
    count: int | None = None
    path: str | None = None
    method: str | None = None
    status: int | None = None
    seconds: float = 1.0
    per_page: int = 50
    message: str | None = None
    token: str | None = None
    id: int = field(default=0, compare=False)
    fired: int = field(default=0, compare=False)

    def __post_init__(self) -> None:
        if self.kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}; expected one of {FAULT_KINDS}")
        if self.count is None:
            self.count = -1 if self.kind in _UNLIMITED_BY_DEFAULT else 1

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Fault:
        """Build a fault from the control API's JSON (unknown keys are rejected)."""
        allowed = {
            "kind",
            "count",
            "path",
            "method",
            "status",
            "seconds",
            "per_page",
            "message",
            "token",
        }
        unknown = set(data) - allowed
        if unknown:
            raise ValueError(f"unknown fault fields: {sorted(unknown)}")
        return cls(**data)

    def to_json(self) -> dict[str, Any]:
        """The fault as JSON-able data."""
        return asdict(self)

    def matches(self, method: str, target: str, per_page: int | None) -> bool:
        """Whether this fault applies to a request."""
        if self.count == 0:
            return False
        if self.method and self.method.upper() != method:
            return False
        if self.path and self.path not in target:
            return False
        return not (
            self.kind == "per_page_limit" and (per_page is None or per_page <= self.per_page)
        )

    def spend(self) -> None:
        """Count one firing."""
        self.fired += 1
        if self.count is not None and self.count > 0:
            self.count -= 1


class FaultQueue:
    """Faults in injection order; the first matching one (slow ones aside) fires."""

    def __init__(self) -> None:
        self._faults: list[Fault] = []
        self._next_id = 1

    def add(self, fault: Fault) -> Fault:
        """Queue a fault; returns it with its id set."""
        fault.id = self._next_id
        self._next_id += 1
        self._faults.append(fault)
        return fault

    def clear(self) -> None:
        """Drop every fault."""
        self._faults.clear()

    def active(self) -> list[Fault]:
        """Faults that can still fire."""
        return [f for f in self._faults if f.count != 0]

    def pick(self, method: str, target: str, per_page: int | None) -> tuple[float, Fault | None]:
        """Total delay of matching slow faults, and the first other matching fault (spent)."""
        delay, chosen = 0.0, None
        for fault in self._faults:
            if not fault.matches(method, target, per_page):
                continue
            if fault.kind == "slow":
                delay += fault.seconds
                fault.spend()
            elif chosen is None:
                chosen = fault
                fault.spend()
        self._faults = [f for f in self._faults if f.count != 0]
        return delay, chosen
