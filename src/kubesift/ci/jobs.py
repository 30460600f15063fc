"""``kubesift ci jobs``: what the store holds per job."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.engine import Connection

from kubesift.store.schema import ci_jobs, ci_runs


@dataclass
class JobRow:
    name: str
    kind: str
    variants: str
    runs: int
    passed: int
    pass_pct: float
    last_run: str | None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def jobs(conn: Connection) -> list[JobRow]:
    stmt = (
        select(
            ci_jobs.c.name,
            ci_jobs.c.kind,
            ci_jobs.c.variants,
            func.count(ci_runs.c.id),
            func.sum(case((ci_runs.c.state == "success", 1), else_=0)),
            func.max(ci_runs.c.started_at),
        )
        .join(ci_runs, ci_runs.c.job_id == ci_jobs.c.id, isouter=True)
        .group_by(ci_jobs.c.name, ci_jobs.c.kind, ci_jobs.c.variants)
        .order_by(ci_jobs.c.name)
    )
    return [
        JobRow(
            n, k, v, int(r), int(p or 0), round(100 * int(p or 0) / int(r), 2) if r else 0.0, last
        )
        for n, k, v, r, p, last in conn.execute(stmt)
    ]
