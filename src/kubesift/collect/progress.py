"""How long-running collection reports progress (the CLI renders it with Rich)."""

from __future__ import annotations

from typing import Protocol


class Progress(Protocol):
    def phase(self, name: str, total: int | None) -> None:
        """A new phase starts (``total`` items expected, if known)."""

    def advance(self, count: int, remaining_quota: int | None) -> None:
        """``count`` more items done; the quota left after the last request."""

    def waiting(self, seconds: float, reason: str) -> None:
        """About to sleep ``seconds`` because of ``reason`` (rate limit, retry)."""

    def note(self, message: str) -> None:
        """Something the user should know that is not an error."""


class SilentProgress:
    def phase(self, name: str, total: int | None) -> None:
        pass

    def advance(self, count: int, remaining_quota: int | None) -> None:
        pass

    def waiting(self, seconds: float, reason: str) -> None:
        pass

    def note(self, message: str) -> None:
        pass
