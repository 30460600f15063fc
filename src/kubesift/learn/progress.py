"""Progress of long training work, told to whoever asked: the CLI prints each step as a
line on standard error (with the time left); a library caller that did not ask hears
nothing. A context variable, so nothing is threaded through every fitting function and
nothing happens at import."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

Report = Callable[[str], None]
_REPORT: ContextVar[Report | None] = ContextVar("kubesift_learn_progress", default=None)


@contextmanager
def reporting(report: Report) -> Iterator[None]:
    """Send the training steps run inside this block to ``report``, one line each."""
    token = _REPORT.set(report)
    try:
        yield
    finally:
        _REPORT.reset(token)


def say(line: str) -> None:
    report = _REPORT.get()
    if report is not None:
        report(line)


class Steps:
    """``total`` steps of one piece of work; each finished step is reported with the
    time spent and, from the pace so far, the time left."""

    def __init__(self, what: str, total: int) -> None:
        self.what, self.total, self.done = what, total, 0
        self.start = time.monotonic()

    def step(self, doing: str) -> None:
        self.done += 1
        elapsed = time.monotonic() - self.start
        left = elapsed / self.done * max(self.total - self.done, 0)
        say(
            f"{self.what}: {doing} ({self.done}/{self.total}), {elapsed:,.0f} s so far, "
            f"about {left:,.0f} s left"
        )
