"""Reads the CI commands share: jobs, runs in a window, rosters, non-passing results."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import and_, select
from sqlalchemy.engine import Connection

from kubesift.errors import UserError
from kubesift.store.schema import ci_jobs, ci_results, ci_rosters, ci_runs, ci_tests, ci_texts
from kubesift.timeutil import to_iso, utcnow_iso

CHUNK = 900


@dataclass(frozen=True)
class Window:
    """``[start, end)`` as ISO times, with the days it spans."""

    start: str
    end: str

    @property
    def first_day(self) -> str:
        return self.start[:10]

    @property
    def last_day(self) -> str:  # exclusive end day, as text
        return self.end[:10]

    def describe(self) -> str:
        """``the 14 days 2026-11-23 – 2026-12-06`` (both days included)."""
        days = (_parse(self.end) - _parse(self.start)).total_seconds() / 86400
        last = (_parse(self.end) - timedelta(seconds=1)).date().isoformat()
        return f"the {days:g} days {self.first_day} – {last}"


#: How far back failure search and clusters look unless asked otherwise, in the CLI and
#: on the dashboard alike (Kubernetes Triage shows two weeks).
FAILURE_DAYS = 14.0

#: The longest window any CI figure may span: two years (a search or a cluster reads
#: every failure text in it; Sippy's longest basis is four weeks).
MAX_WINDOW_DAYS = 731.0


def check_days(days: float, limit: float = MAX_WINDOW_DAYS, what: str = "days") -> float:
    """``days`` when it is a finite number in ``(0, limit]``; else a one-line error."""
    if not math.isfinite(days) or not 0 < days <= limit:
        raise UserError(f"{what} must be more than 0 and at most {limit:g}, not {days:g}")
    return days


def window(days: float, end: str | None = None) -> Window:
    """The ``days`` before ``end`` (default: now), whole days at UTC midnight."""
    check_days(days)
    stop = _parse(end) if end else datetime.now(UTC)
    try:
        stop = (stop + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
        start = stop - timedelta(days=days)
    except OverflowError:
        raise UserError(f"the window ending {end} is outside the calendar") from None
    return Window(_iso(start), _iso(stop))


def moment(end: str | None) -> str:
    """``end`` (a date or an ISO time; default now) as an ISO UTC time."""
    return _iso(_parse(end)) if end else utcnow_iso()


def before(w: Window, days: float) -> Window:
    """The ``days`` just before ``w``."""
    start = _parse(w.start) - timedelta(days=days)
    return Window(_iso(start), w.start)


def _parse(text: str) -> datetime:
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise UserError(
            f"not a date or time: {text!r} (use 2026-01-31 or 2026-01-31T12:00:00Z)"
        ) from exc
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _iso(value: datetime) -> str:
    return to_iso(value)


def job_id(conn: Connection, name: str) -> int:
    found = conn.execute(select(ci_jobs.c.id).where(ci_jobs.c.name == name)).scalar()
    if found is None:
        close = (
            conn.execute(select(ci_jobs.c.name).where(ci_jobs.c.name.contains(name[:20])).limit(3))
            .scalars()
            .all()
        )
        hint = f"; did you mean {', '.join(close)}?" if close else "; `kubesift ci jobs` lists them"
        raise UserError(f"no CI job named {name!r} in the store{hint}")
    return int(found)


def rosters(conn: Connection, ids: Iterable[int]) -> dict[int, list[int]]:
    out: dict[int, list[int]] = {}
    todo = sorted({i for i in ids if i is not None})
    for k in range(0, len(todo), CHUNK):
        rows = conn.execute(
            select(ci_rosters.c.id, ci_rosters.c.tests).where(
                ci_rosters.c.id.in_(todo[k : k + CHUNK])
            )
        )
        for rid, tests in rows:
            out[rid] = [int(t) for t in tests.split(",") if t]
    return out


def tests_by_id(conn: Connection, ids: Iterable[int]) -> dict[int, tuple[str, str, str]]:
    """id → (suite, name, component)."""
    out: dict[int, tuple[str, str, str]] = {}
    todo = sorted(set(ids))
    for k in range(0, len(todo), CHUNK):
        rows = conn.execute(
            select(ci_tests.c.id, ci_tests.c.suite, ci_tests.c.name, ci_tests.c.component).where(
                ci_tests.c.id.in_(todo[k : k + CHUNK])
            )
        )
        out.update({i: (s, n, c) for i, s, n, c in rows})
    return out


def bad_results(
    conn: Connection, run_ids: list[int]
) -> dict[int, dict[int, tuple[int, int | None]]]:
    """run id → test id → (status, text id) for the non-passing results of those runs."""
    out: dict[int, dict[int, tuple[int, int | None]]] = {}
    for k in range(0, len(run_ids), CHUNK):
        rows = conn.execute(
            select(
                ci_results.c.run_id, ci_results.c.test_id, ci_results.c.status, ci_results.c.text_id
            ).where(
                and_(
                    ci_results.c.run_id.in_(run_ids[k : k + CHUNK]), ci_results.c.masked.is_(False)
                )
            )
        )
        for run, test, status, text in rows:
            out.setdefault(run, {})[test] = (status, text)
    return out


def texts(conn: Connection, ids: Iterable[int]) -> dict[int, str]:
    out: dict[int, str] = {}
    todo = sorted({i for i in ids if i is not None})
    for k in range(0, len(todo), CHUNK):
        rows = conn.execute(
            select(ci_texts.c.id, ci_texts.c.text).where(ci_texts.c.id.in_(todo[k : k + CHUNK]))
        )
        out.update(dict(rows.all()))
    return out


def run_rows(conn: Connection, *where: Any, limit: int | None = None) -> list[dict[str, Any]]:
    """Runs (newest first) with their job name."""
    stmt = (
        select(ci_runs, ci_jobs.c.name.label("job"), ci_jobs.c.variants)
        .join(ci_jobs, ci_jobs.c.id == ci_runs.c.job_id)
        .where(*where)
        .order_by(ci_runs.c.started_at.desc(), ci_runs.c.id.desc())
    )
    if limit:
        stmt = stmt.limit(limit)
    return [dict(r._mapping) for r in conn.execute(stmt)]
