"""One reconcile pass: take the store lock, run the controllers in order, record it all."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from sqlalchemy import update

from kubesift.errors import KubesiftError, UserError
from kubesift.reconcile import lock as locks
from kubesift.reconcile import records
from kubesift.reconcile.controllers import CONTROLLERS, STEPS, Context
from kubesift.reconcile.records import Decision
from kubesift.store.schema import reconcile_runs

log = logging.getLogger("kubesift.reconcile")


@dataclass
class PassResult:
    run_id: int
    status: str  # ok | failed | skipped
    decisions: list[Decision] = field(default_factory=list)
    error: str | None = None


def check_steps(steps: Sequence[str]) -> list[str]:
    unknown = [s for s in steps if s not in STEPS]
    if unknown:
        raise UserError(f"unknown step {unknown[0]!r} (steps: {', '.join(STEPS)})")
    # Always in the controllers' order, whatever order they were given in.
    return [s for s in STEPS if s in steps] if steps else list(STEPS)


def run_pass(
    ctx: Context,
    steps: Sequence[str] = (),
    *,
    lock_ttl: float = 120.0,
    on_decision: Callable[[Decision], None] = lambda _d: None,
) -> PassResult:
    """Run the chosen controllers once, holding the store lock; never raises for a
    controller's failure (it is recorded, and the pass stops there)."""
    chosen = check_steps(steps)
    lock = locks.StoreLock(ctx.engine, ttl=lock_ttl)
    if not lock.acquire():
        state = locks.read(ctx.engine)
        run_id = records.start_run(ctx.engine, lock.holder, chosen, status="skipped")
        why = f"another reconciler ({state.holder}) holds the lock until {state.expires_at}"
        records.finish_run(ctx.engine, run_id, "skipped", why)
        return PassResult(run_id, "skipped", error=why)
    try:
        _interrupted(ctx, lock.holder)
        run_id = records.start_run(ctx.engine, lock.holder, chosen)
        result = PassResult(run_id, "ok")
        for step in chosen:
            try:
                made = CONTROLLERS[step](ctx)
            except KubesiftError as exc:
                made = [Decision(step, "error", exc.message)]
                result.status, result.error = "failed", f"{step}: {exc.message}"
            except Exception as exc:  # recorded for `reconcile status`, then re-raised
                records.record(ctx.engine, run_id, Decision(step, "error", repr(exc)))
                records.finish_run(ctx.engine, run_id, "failed", f"{step}: {exc!r}")
                raise
            for decision in made:
                records.record(ctx.engine, run_id, decision)
                result.decisions.append(decision)
                on_decision(decision)
                if decision.action == "error" and result.status != "failed":
                    # An export error still lets the pass train on what is stored.
                    result.status = "failed"
                    result.error = f"{step}: {decision.subject or ''} {decision.reason}".strip()
            if result.status == "failed" and step != "export":
                break
        records.finish_run(ctx.engine, run_id, result.status, result.error)
        return result
    finally:
        lock.release()


def _interrupted(ctx: Context, holder: str) -> None:
    """Runs still marked running belong to a reconciler that died (we hold the lock now)."""
    with ctx.engine.begin() as conn:
        conn.execute(
            update(reconcile_runs)
            .where(reconcile_runs.c.status == "running", reconcile_runs.c.holder != holder)
            .values(status="interrupted", error="the reconciler stopped before finishing")
        )
