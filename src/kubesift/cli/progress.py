"""Rich progress bars for long collection runs."""

from __future__ import annotations

from types import TracebackType

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
