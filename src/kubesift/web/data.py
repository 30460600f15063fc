"""What only the dashboard composes: the overview (one look at every domain), the
Project page's charts, paging, and the cache. Each domain's figures come from its own
views (``kubesift.reconcile.views`` for models, ``kubesift.bot.views``, ``kubesift.ci.views``,
``kubesift.alerts.queries``), which the CLI's ``--json`` calls too; nothing here calls
the CLI.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import asdict
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import Connection, Engine

from kubesift.alerts import queries as alert_queries
from kubesift.analyze import ANALYSES, Filters, analyze, load, rows_of
from kubesift.bot import views as bot_views
from kubesift.ci import views as ci_views
from kubesift.errors import UserError
from kubesift.github.names import check_repo
from kubesift.reconcile import views as model_views
from kubesift.store.queries import page_args, summarize
from kubesift.store.schema import (
    items,
    label_events,
    release_notes,
)

# -- overview -----------------------------------------------------------------------------------


def overview(engine: Engine, models: dict[str, Path], cache: Cache | None = None) -> dict[str, Any]:
    """One look at everything: the store, models, the bot, CI and alerts. The per-repository
    counts read every item, so ``cache`` keeps them until the store changes."""
    with engine.connect() as conn:
        key = ("repositories", store_version(conn))
        count = lambda: {"rows": [asdict(r) for r in summarize(conn)]}  # noqa: E731
        repos = (cache.get(key, count) if cache else count())["rows"]
        bot = bot_views.bot_activity(conn)
        ci = ci_views.ci_health(conn)
        alerts = alert_queries.summary(conn)
    return {
        "repositories": repos,
        "models": {source: model_views.model_pointers(path) for source, path in models.items()},
        "bot": bot,
        "ci": ci,
        "alerts": {
            "incidents": alerts["incidents"],
            "signals": alerts["signals"],
            "feedback": alerts["feedback"],
            "model": (alerts["model"] or {}).get("id"),
        },
    }


# -- alerts -------------------------------------------------------------------------------------


def alert_inbox(
    conn: Connection,
    *,
    page: int = 1,
    per_page: int = 50,
    decision: str | None = None,
    missed: bool = False,
) -> dict[str, Any]:
    """:func:`kubesift.alerts.queries.inbox`, a page at a time."""
    limit, offset = page_args(page, per_page)
    found = alert_queries.inbox(conn, limit=limit, offset=offset, decision=decision,
                                missed=missed)  # fmt: skip
    return {**found, "page": page, "per_page": per_page}


# -- project ------------------------------------------------------------------------------------


def project_filters(
    repo: str | None, since: str | None, until: str | None, kind: str | None
) -> Filters:
    """The Project page's filters, checked like ``kubesift analyze``'s options."""
    try:
        start = date.fromisoformat(since) if since else None
        end = date.fromisoformat(until) if until else None
    except ValueError as exc:
        raise UserError(f"dates look like 2024-01-31 ({exc})") from exc
    if start and end and start > end:
        raise UserError("since must not be after until")
    if kind not in (None, "issue", "pr"):
        raise UserError(f"kind must be issue or pr, not {kind!r}")
    return Filters(
        kinds=(kind,) if kind else ("issue", "pr"),
        repo=check_repo(repo) if repo else None,
        since=start,
        until=end,
    )


def store_version(conn: Connection) -> tuple[Any, ...]:
    """Changes whenever an export, an import or a label change lands (four aggregates)."""
    return (
        conn.execute(select(func.count(), func.max(items.c.updated_at))).one()[:],
        conn.execute(select(func.count()).select_from(label_events)).scalar(),
        conn.execute(select(func.count()).select_from(release_notes)).scalar(),
    )


class Cache:
    """Results kept until the data they read changes (the key holds a version of it):
    the charts read every item and Component Readiness judges every cell, so each is
    done once per change of the store, not once per request. Callers asking for a key
    being computed wait for that computation instead of starting their own."""

    def __init__(self, size: int = 16) -> None:
        self.size = size
        self.entries: dict[tuple[Any, ...], dict[str, Any]] = {}
        self.computing: dict[tuple[Any, ...], threading.Lock] = {}
        self.lock = threading.Lock()

    def get(self, key: tuple[Any, ...], compute: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        with self.lock:
            if key in self.entries:
                return self.entries[key]
            busy = self.computing.setdefault(key, threading.Lock())
        with busy:  # one computation per key; the others wait for it
            with self.lock:
                if key in self.entries:
                    return self.entries[key]
            try:
                result = compute()
            except BaseException:
                with self.lock:
                    self.computing.pop(key, None)
                raise
            with self.lock:
                self.entries[key] = result
                self.computing.pop(key, None)
                while len(self.entries) > self.size:
                    self.entries.pop(next(iter(self.entries)))
        return result


def project(engine: Engine, filters: Filters, top: int = 10) -> dict[str, Any]:
    """Every analysis of ``kubesift analyze`` as chart-ready records."""
    frames = load(engine, filters)
    if frames.empty:
        return {"analyses": [], "items": 0}
    out = []
    for a in analyze(frames, list(ANALYSES), filters, top):
        rows = rows_of(a)
        out.append(
            {
                "name": a.name,
                "title": a.title,
                "chart": a.chart,
                "xlabel": a.xlabel,
                "ylabel": a.ylabel,
                "note": a.note,
                "units": {str(c): a.unit_of(str(c)) for c in a.table.columns},
                "columns": list(rows[0]) if rows else [],
                "rows": rows,
            }
        )
    return {"analyses": out, "items": len(frames.items)}
