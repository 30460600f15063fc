"""Reconcile runs and decisions in the store: every decision is kept with its reason."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import desc, insert, select, update
from sqlalchemy.engine import Engine

from kubesift.store.schema import reconcile_decisions, reconcile_runs
from kubesift.timeutil import utcnow_iso


@dataclass(frozen=True)
class Decision:
    """What a controller decided, and why. ``action`` "none" means nothing needed doing."""

    controller: str
    action: str
    reason: str
    subject: str | None = None
    details: dict[str, Any] = field(default_factory=dict)


def start_run(engine: Engine, holder: str, steps: list[str], status: str = "running") -> int:
    with engine.begin() as conn:
        result = conn.execute(
            insert(reconcile_runs)
            .values(holder=holder, steps=",".join(steps), status=status, started_at=utcnow_iso())
            .returning(reconcile_runs.c.id)
        )
        return int(result.scalar_one())


def finish_run(engine: Engine, run_id: int, status: str, error: str | None = None) -> None:
    with engine.begin() as conn:
        conn.execute(
            update(reconcile_runs)
            .where(reconcile_runs.c.id == run_id)
            .values(status=status, finished_at=utcnow_iso(), error=error)
        )


def record(engine: Engine, run_id: int | None, decision: Decision) -> None:
    with engine.begin() as conn:
        conn.execute(
            insert(reconcile_decisions).values(
                run_id=run_id,
                controller=decision.controller,
                action=decision.action,
                subject=decision.subject,
                reason=decision.reason,
                details=json.dumps(decision.details, sort_keys=True, default=str),
                created_at=utcnow_iso(),
            )
        )


def decisions_about(
    engine: Engine, subject: str, actions: tuple[str, ...] = ()
) -> list[dict[str, Any]]:
    """Recorded decisions on one subject (a model name@version), newest first."""
    query = select(reconcile_decisions).where(reconcile_decisions.c.subject == subject)
    if actions:
        query = query.where(reconcile_decisions.c.action.in_(actions))
    with engine.connect() as conn:
        rows = conn.execute(query.order_by(desc(reconcile_decisions.c.id))).mappings().all()
    return [_decoded(r) for r in rows]


def recent_runs(engine: Engine, limit: int = 5) -> list[dict[str, Any]]:
    """The newest runs, each with its decisions in order."""
    with engine.connect() as conn:
        runs = [
            dict(r)
            for r in conn.execute(
                select(reconcile_runs).order_by(desc(reconcile_runs.c.id)).limit(limit)
            ).mappings()
        ]
        ids = [r["id"] for r in runs]
        rows = conn.execute(
            select(reconcile_decisions)
            .where(reconcile_decisions.c.run_id.in_(ids))
            .order_by(reconcile_decisions.c.id)
        ).mappings()
        by_run: dict[int, list[dict[str, Any]]] = {i: [] for i in ids}
        for row in rows:
            by_run[row["run_id"]].append(_decoded(row))
    for run in runs:
        run["decisions"] = by_run[run["id"]]
    return runs


def _decoded(row: Any) -> dict[str, Any]:
    out = dict(row)
    out["details"] = json.loads(out["details"]) if out.get("details") else {}
    return out
