"""``kubesift ci tabs``: TestGrid's tab summary per job (one job is one TestGrid tab), and
its weekly flakiness trend.

State (TestGrid's ``overallStatus`` order, ``pkg/summarizer/summary.go``; BROKEN and
ACCEPTABLE are off by default there and here):

- ``STALE``: the newest run started more than ``stale_hours`` ago (TestGrid's
  ``alert_stale_results_hours``; it defaults to off, kubesift to 72 h), or no run at all;
- ``FAILING``: a test (or the Overall row) alerts: 3 consecutive failures, absent cells
  skipped, one pass clears it (TestGrid's ``alertRow``);
- ``PENDING``: no finished run among the recent ones;
- ``FLAKY``: a failed or flaky cell in the ``recent`` (10) newest finished runs;
- ``PASSING``: every test of those runs passed.

Flakiness (TestGrid's summarizer, ``days_of_analysis`` 7): the mean of the tab's tests'
flip flakiness over the last 7 days (a test that never failed counts 0), and the same for
the 7 days before; the trend is ``UP`` / ``DOWN`` when they differ by at least
:data:`TREND_POINTS` percentage points, else ``NO_CHANGE``.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.engine import Connection

from kubesift.ci import flakes, queries
from kubesift.ci.junit import ABSENT, FAIL, FLAKY, PASS
from kubesift.ci.testgrid import alert_row
from kubesift.store.schema import ci_daily, ci_jobs, ci_runs
from kubesift.timeutil import parse_iso, shift

RECENT = 10  # TestGrid's num_columns_recent
STALE_HOURS = 72.0
ANALYSIS_DAYS = 7.0
TREND_POINTS = 1.0
_FAILED = ("failure", "error")


@dataclass
class Tab:
    job: str
    state: str  # PASSING | FLAKY | FAILING | STALE | PENDING
    reason: str
    recent_runs: int  # finished runs looked at
    passing_runs: int  # of them, with every test passing
    last_run: str | None
    alerts: int  # tests (and Overall) alerting
    flakiness: float  # mean flip flakiness of its tests, last 7 days (percent)
    flakiness_before: float  # the 7 days before
    trend: str  # UP | DOWN | NO_CHANGE

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def tab_states(
    conn: Connection,
    end: str | None = None,
    job: str | None = None,
    recent: int = RECENT,
    stale_hours: float = STALE_HOURS,
) -> list[Tab]:
    """Every job's tab state and flakiness trend as of ``end`` (default now)."""
    now = queries.moment(end)
    where = [ci_jobs.c.name == job] if job else []
    if job:
        queries.job_id(conn, job)  # NotFound with a clear message
    jobs = conn.execute(
        select(ci_jobs.c.id, ci_jobs.c.name).where(*where).order_by(ci_jobs.c.name)
    ).all()
    flaky_now = _flakiness(conn, ANALYSIS_DAYS, now, job)
    flaky_before = _flakiness(conn, ANALYSIS_DAYS, shift(now, -ANALYSIS_DAYS * 86_400), job)
    out = []
    for jid, name in jobs:
        runs = queries.run_rows(
            conn, ci_runs.c.job_id == jid, ci_runs.c.started_at <= now, limit=recent
        )
        state, reason, finished, passing, alerts = _state(conn, runs, now, stale_hours)
        current, before = flaky_now.get(name, 0.0), flaky_before.get(name, 0.0)
        delta = current - before
        out.append(Tab(
            job=name, state=state, reason=reason, recent_runs=finished, passing_runs=passing,
            last_run=runs[0]["started_at"] if runs else None, alerts=alerts,
            flakiness=round(current, 2), flakiness_before=round(before, 2),
            trend="UP" if delta >= TREND_POINTS else "DOWN" if delta <= -TREND_POINTS
            else "NO_CHANGE",
        ))  # fmt: skip
    return out


def _state(
    conn: Connection, runs: list[dict[str, Any]], now: str, stale_hours: float
) -> tuple[str, str, int, int, int]:
    """(state, reason, finished runs, passing runs, alerts) for a job's newest runs."""
    if not runs or not runs[0]["started_at"]:
        return "STALE", "no runs", 0, 0, 0
    age = (_at(now) - _at(runs[0]["started_at"])).total_seconds() / 3600
    finished = [r for r in runs if r["state"] != "pending"]
    bad = queries.bad_results(conn, [int(r["id"]) for r in finished])
    rosters = queries.rosters(conn, (r["roster_id"] for r in finished))
    passing = sum(1 for r in finished if r["state"] == "success" and not bad.get(int(r["id"])))
    alerts = _alerts(finished, bad, rosters)
    if age > stale_hours:
        return (
            "STALE",
            f"newest run {age:.0f} h old (over {stale_hours:.0f} h)",
            len(finished),
            passing,
            alerts,
        )
    if alerts:
        return (
            "FAILING",
            f"{alerts} alerting (3 consecutive failures)",
            len(finished),
            passing,
            alerts,
        )
    if not finished:
        return "PENDING", "no finished run yet", 0, 0, 0
    if passing < len(finished):
        return (
            "FLAKY",
            f"{len(finished) - passing} of the {len(finished)} newest runs not all green",
            len(finished),
            passing,
            0,
        )
    return "PASSING", f"the {len(finished)} newest runs all green", len(finished), passing, 0


def _alerts(
    runs: list[dict[str, Any]],
    bad: dict[int, dict[int, tuple[int, int | None]]],
    rosters: dict[int, list[int]],
) -> int:
    """Tests with TestGrid's consecutive-failure alert, plus the Overall row's."""
    overall = [(r["build"], FAIL if r["state"] in _FAILED else PASS) for r in runs]
    count = int(alert_row(overall) is not None)
    tests = {t for results in bad.values() for t, (status, _) in results.items() if status == FAIL}
    for t in tests:
        cells = []
        for r in runs:
            got = bad.get(int(r["id"]), {})
            roster = rosters.get(r["roster_id"], [])
            status = got[t][0] if t in got else PASS if t in roster else ABSENT
            cells.append((r["build"], status if status in (PASS, FAIL, FLAKY) else ABSENT))
        count += alert_row(cells) is not None
    return count


def _flakiness(conn: Connection, days: float, end: str, job: str | None) -> dict[str, float]:
    """Per job: the mean flip flakiness of its tests with runs in the window (percent)."""
    w = queries.window(days, end)
    pairs = flakes.flakes(conn, days=days, end=end, job=job, min_runs=1, all_pairs=True)
    summed: dict[str, float] = defaultdict(float)
    for p in pairs:
        summed[p.job] += p.flip_flakiness
    where = [ci_daily.c.day >= w.first_day, ci_daily.c.day < w.last_day]
    stmt = (
        select(ci_jobs.c.name, func.count(func.distinct(ci_daily.c.test_id)))
        .join(ci_jobs, ci_jobs.c.id == ci_daily.c.job_id)
        .where(and_(*where))
        .group_by(ci_jobs.c.name)
    )
    tests = {name: int(n) for name, n in conn.execute(stmt)}
    return {name: summed.get(name, 0.0) / n for name, n in tests.items() if n}


def _at(value: str) -> datetime:
    return parse_iso(value).astimezone(UTC)
