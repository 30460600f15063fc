"""Exporting a repository end to end: client → :class:`Exporter` → what was fetched.

The one recipe that ``kubesift export``, the reconciler and the dashboard call; the CLI
only parses options and renders the :class:`ExportReport`.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from typing import Any

import httpx
from sqlalchemy.engine import Engine

from kubesift.collect.export import PER_PAGE, Exporter
from kubesift.collect.progress import Progress, SilentProgress
from kubesift.github import Auth, GitHubClient


@dataclass(frozen=True)
class ExportReport:
    """What one export fetched and stored, and what it cost."""

    repo: str
    mode: str  # full | update | resume
    items: int
    events: int
    items_not_modified: bool  # the item listing answered 304
    watermark: str | None
    seconds: float
    requests: int
    not_modified_requests: int
    retries: int
    waited: float
    quota_left: int | None
    gaps: dict[str, int] | None = field(default=None)

    @property
    def unchanged(self) -> bool:
        """Nothing new at all: the listing answered 304 and no label event was stored."""
        return self.items_not_modified and self.items == 0 and self.events == 0

    def summary(self) -> str:
        """One line that says what was fetched (never "unchanged" when something was)."""
        if self.unchanged:
            return f"{self.repo}: unchanged since {self.watermark or 'last export'} (304)."
        if self.items_not_modified:
            return (
                f"{self.repo}: no item changed since {self.watermark or 'last export'} (304); "
                f"{self.events:,} label events stored (an interrupted label-history walk "
                f"finished) in {self.seconds:.1f} s."
            )
        return (
            f"{self.repo}: {self.mode} export stored {self.items:,} items and "
            f"{self.events:,} label events in {self.seconds:.1f} s."
        )

    def requests_line(self) -> str:
        quota = f", quota left {self.quota_left:,}" if self.quota_left is not None else ""
        return (
            f"requests: {self.requests:,} ({self.not_modified_requests} answered 304, "
            f"{self.retries} retried, waited {self.waited:.0f} s){quota}"
        )

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "unchanged": self.unchanged}


def export_repository(
    engine: Engine,
    repo: str,
    *,
    api_url: str,
    auth: Auth | None,
    full: bool = False,
    events: bool = True,
    verify: bool = False,
    per_page: int = PER_PAGE,
    max_wait: float = 3700.0,
    progress: Progress | None = None,
    transport: httpx.BaseTransport | None = None,
) -> ExportReport:
    """Mirror ``repo`` into the store: a full export the first time, an update after, a
    resume after an interruption; with ``verify``, probe the numbers the listing lacks."""
    progress = progress or SilentProgress()
    started = time.monotonic()
    with GitHubClient(
        api_url, auth, on_wait=progress.waiting, max_wait=max_wait, transport=transport
    ) as client:
        exporter = Exporter(engine, client, repo, progress=progress, per_page=per_page)
        result = exporter.run(full=full, events=events)
        gaps = exporter.verify() if verify else None
    stats = client.stats
    return ExportReport(
        repo=repo,
        mode=result.mode,
        items=result.items,
        events=result.events,
        items_not_modified=result.not_modified,
        watermark=result.watermark,
        seconds=time.monotonic() - started,
        requests=stats.requests,
        not_modified_requests=stats.not_modified,
        retries=stats.retries,
        waited=stats.waited,
        quota_left=client.rate.remaining,
        gaps=gaps,
    )
