"""``kubesift ci jobs``: what the store holds per job."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import and_, case, func, select
from sqlalchemy.engine import Connection

from kubesift.ci import queries
from kubesift.store.schema import ci_jobs, ci_runs
from kubesift.timeutil import days_ago

#: Run states that count as failed (the rest: success, or still pending).
FAILED_STATES = ("failure", "error", "aborted")


@dataclass
class JobRow:
    name: str
    kind: str
    variants: str
    runs: int
    passed: int
    failed: int
    pass_pct: float | None  # passed over runs; None without runs
    last_run: str | None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def jobs(conn: Connection, days: float | None = None) -> list[JobRow]:
    """Every job with its runs started in the last ``days`` (default: every stored run):
    how many, passed, failed, the pass rate and the newest start. The CLI's ``ci jobs``
    and the dashboard's job table."""
    r = ci_runs.c
    joined = r.job_id == ci_jobs.c.id
    if days is not None:
        joined = and_(joined, r.started_at >= days_ago(queries.check_days(days)))
    stmt = (
        select(
            ci_jobs.c.name,
            ci_jobs.c.kind,
            ci_jobs.c.variants,
            func.count(r.id),
            func.sum(case((r.state == "success", 1), else_=0)),
            func.sum(case((r.state.in_(FAILED_STATES), 1), else_=0)),
            func.max(r.started_at),
        )
        .select_from(ci_jobs.outerjoin(ci_runs, joined))
        .group_by(ci_jobs.c.name, ci_jobs.c.kind, ci_jobs.c.variants)
        .order_by(ci_jobs.c.name)
    )
    return [
        JobRow(
            n,
            k,
            v,
            int(runs),
            int(p or 0),
            int(f or 0),
            round(100 * int(p or 0) / int(runs), 2) if runs else None,
            last,
        )
        for n, k, v, runs, p, f, last in conn.execute(stmt)
    ]
