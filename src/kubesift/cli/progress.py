"""Rich progress bars for long collection runs."""

from __future__ import annotations

import time
from collections.abc import Callable
from types import TracebackType

import click
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    SpinnerColumn,
    Task,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text


class RateColumn(ProgressColumn):
    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        if not speed and task.finished and task.elapsed:
            speed = task.completed / task.elapsed
        return Text(f"{speed:,.0f} items/s" if speed else "– items/s", style="cyan")


class QuotaColumn(ProgressColumn):
    def render(self, task: Task) -> Text:
        quota = task.fields.get("quota")
        return Text(f"quota {quota:,}" if quota is not None else "", style="magenta")


class RichProgress:
    """Implements ``kubesift.collect.progress.Progress`` on a Rich progress display."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self._progress = Progress(
            SpinnerColumn(),
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            RateColumn(),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            QuotaColumn(),
            console=console,
            transient=False,
        )
        self._task: TaskID | None = None

    def __enter__(self) -> RichProgress:
        self._progress.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._progress.stop()

    def phase(self, name: str, total: int | None) -> None:
        if self._task is not None:
            self._progress.update(self._task, total=self._progress.tasks[-1].completed)
        self._task = self._progress.add_task(name, total=total, quota=None)

    def advance(self, count: int, remaining_quota: int | None) -> None:
        if self._task is None:
            self.phase("working", None)
        task_id = self._progress.tasks[-1].id  # the phase just started, if none was
        task = self._progress.tasks[-1]
        if task.total is not None and task.completed + count > task.total:
            self._progress.update(task_id, total=task.completed + count)
        self._progress.update(task_id, advance=count, quota=remaining_quota)

    def waiting(self, seconds: float, reason: str) -> None:
        self._progress.console.print(f"[yellow]waiting {seconds:.0f} s: {reason}[/]")

    def note(self, message: str) -> None:
        self._progress.console.print(f"[dim]{message}[/]")


class LineProgress:
    """The same progress as plain lines on standard error, one every ``every`` seconds and
    one when a phase ends: what a log file or a pipe can show (no spinner, no bar)."""

    def __init__(self, every: float = 5.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.every = every
        self.clock = clock
        self._name: str | None = None
        self._total: int | None = None
        self._done = 0
        self._start = self._last = clock()

    def __enter__(self) -> LineProgress:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, *exc: object) -> None:
        if exc_type is None:  # on an error, the error is the last word
            self._finish()

    def phase(self, name: str, total: int | None) -> None:
        self._finish()
        self._name, self._total, self._done = name, total, 0
        self._start = self._last = self.clock()

    def advance(self, count: int, remaining_quota: int | None) -> None:
        if self._name is None:
            self.phase("working", None)
        self._done += count
        now = self.clock()
        if now - self._last >= self.every:
            self._last = now
            self._emit(now, remaining_quota)

    def waiting(self, seconds: float, reason: str) -> None:
        click.echo(f"waiting {seconds:.0f} s: {reason}", err=True)

    def note(self, message: str) -> None:
        click.echo(message, err=True)

    def _finish(self) -> None:
        if self._name is not None:
            self._emit(self.clock(), None, done=True)
            self._name = None

    def _emit(self, now: float, quota: int | None, done: bool = False) -> None:
        elapsed = max(now - self._start, 1e-9)
        rate = self._done / elapsed
        total = f"/{self._total:,}" if self._total else ""
        line = f"{self._name}: {self._done:,}{total} items, {rate:,.0f} items/s"
        if done:
            line += f", done in {elapsed:,.0f} s"
        elif self._total and rate:
            line += f", ETA {max(self._total - self._done, 0) / rate:,.0f} s"
        if quota is not None:
            line += f", quota {quota:,}"
        click.echo(line, err=True)


def progress_for(console: Console) -> RichProgress | LineProgress:
    """Bars in a terminal; plain periodic lines in a log file or a pipe."""
    return RichProgress(console) if console.is_terminal else LineProgress()
