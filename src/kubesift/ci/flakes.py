"""``kubesift ci flakes``: Sippy's in-run flakes and TestGrid's flip flakiness per test × job.

Counts come from the daily table; only test × job pairs with a failure or a flake in
the window can be flaky, so only their run sequences are rebuilt (from the runs'
rosters and non-passing results) for the flip measure.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.engine import Connection

from kubesift.ci import queries
from kubesift.ci.junit import ABSENT, FAIL, FLAKY, PASS
from kubesift.ci.testgrid import flip_flakiness
from kubesift.store.schema import ci_daily, ci_jobs, ci_runs

#: A pair is called flaky at this flip flakiness (percent) or with any in-run flake.
FLAKY_FLIPS = 2.0


@dataclass
class FlakeRow:
    test: str
    component: str
    job: str
    runs: int
    passes: int
    flakes: int  # runs where it failed and passed on retry (Sippy's flake)
    failures: int
    flake_pct: float  # Sippy: flakes / runs
    working_pct: float  # Sippy: (passes + flakes) / runs
    flip_flakiness: float  # TestGrid, percent, runs of ≥ 3 failures skipped
    flaky: bool

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def flakes(
    conn: Connection,
    days: float = 7,
    end: str | None = None,
    job: str | None = None,
    min_runs: int = 3,
    all_pairs: bool = False,
) -> list[FlakeRow]:
    """Flaky test × job pairs in the ``days`` before ``end``, flakiest first."""
    w = queries.window(days, end)
    counts = _counts(conn, w, job)
    seqs = _sequences(conn, w, {(j, t) for (j, t) in counts})
    names = queries.tests_by_id(conn, {t for _, t in counts})
    jobs = dict(conn.execute(select(ci_jobs.c.id, ci_jobs.c.name)).all())
    out = []
    for (jid, tid), (runs, passes, fl, fails) in counts.items():
        if runs < min_runs:
            continue
        flips = flip_flakiness(seqs.get((jid, tid), []))
        row = FlakeRow(
            test=names[tid][1],
            component=names[tid][2],
            job=jobs[jid],
            runs=runs,
            passes=passes,
            flakes=fl,
            failures=fails,
            flake_pct=round(100 * fl / runs, 2),
            working_pct=round(100 * (passes + fl) / runs, 2),
            flip_flakiness=round(flips, 2),
            flaky=fl > 0 or flips >= FLAKY_FLIPS,
        )
        if row.flaky or all_pairs:
            out.append(row)
    out.sort(key=lambda r: (-r.flip_flakiness, -r.flake_pct, r.test, r.job))
    return out


def _counts(
    conn: Connection, w: queries.Window, job: str | None
) -> dict[tuple[int, int], tuple[int, int, int, int]]:
    where = [ci_daily.c.day >= w.first_day, ci_daily.c.day < w.last_day]
    if job:
        where.append(ci_daily.c.job_id == queries.job_id(conn, job))
    stmt = (
        select(
            ci_daily.c.job_id,
            ci_daily.c.test_id,
            func.sum(ci_daily.c.runs),
            func.sum(ci_daily.c.passes),
            func.sum(ci_daily.c.flakes),
            func.sum(ci_daily.c.failures),
        )
        .where(and_(*where))
        .group_by(ci_daily.c.job_id, ci_daily.c.test_id)
        .having(func.sum(ci_daily.c.flakes) + func.sum(ci_daily.c.failures) > 0)
    )
    return {(j, t): (int(r), int(p), int(f), int(x)) for j, t, r, p, f, x in conn.execute(stmt)}


def _sequences(
    conn: Connection, w: queries.Window, pairs: set[tuple[int, int]]
) -> dict[tuple[int, int], list[int]]:
    """Each pair's statuses over its job's finished runs in the window, newest first."""
    jobs = sorted({j for j, _ in pairs})
    seqs: dict[tuple[int, int], list[int]] = {p: [] for p in pairs}
    for jid in jobs:
        runs = queries.run_rows(
            conn,
            ci_runs.c.job_id == jid,
            ci_runs.c.started_at >= w.start,
            ci_runs.c.started_at < w.end,
            ci_runs.c.state != "pending",
        )
        rosters = queries.rosters(conn, (r["roster_id"] for r in runs))
        bad = queries.bad_results(conn, [int(r["id"]) for r in runs])
        tests = [t for j, t in pairs if j == jid]
        for r in runs:
            roster = set(rosters.get(r["roster_id"], ()))
            got = bad.get(int(r["id"]), {})
            for t in tests:
                status = got[t][0] if t in got else PASS if t in roster else ABSENT
                if status in (PASS, FAIL, FLAKY):
                    seqs[(jid, t)].append(status)
    return seqs
