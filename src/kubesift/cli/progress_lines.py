"""Progress as plain periodic lines on standard error (counts, rate, ETA): readable in a
terminal, a log file or a pipe alike."""

from __future__ import annotations

import time

import click


class Ticker:
    def __init__(self, what: str, total: int, *, unit: str = "items", every: float = 5.0) -> None:
        self.what, self.total, self.unit, self.every = what, total, unit, every
        self.start = self.last = time.monotonic()
        self.done_count = 0

    def tick(self, n: int) -> None:
        self.done_count = n + 1
        now = time.monotonic()
        if now - self.last >= self.every:
            self.last = now
            click.echo(self.line(now), err=True)

    def line(self, now: float) -> str:
        elapsed = max(now - self.start, 1e-9)
        rate = self.done_count / elapsed
        left = (self.total - self.done_count) / rate if rate else 0.0
        return (f"{self.what}: {self.done_count:,}/{self.total:,} {self.unit}, "
                f"{rate:,.0f}/s, about {left:,.0f} s left")  # fmt: skip

    def done(self) -> None:
        elapsed = time.monotonic() - self.start
        click.echo(f"{self.what}: {self.done_count:,} {self.unit} in {elapsed:,.1f} s", err=True)
