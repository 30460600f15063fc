"""The alerts controller: retrain the needs-a-human model when answers came in, promote a
better candidate, roll production back when it misses pages online
(:mod:`kubesift.alerts.learning`)."""

from __future__ import annotations

from kubesift.alerts import learning
from kubesift.reconcile.controllers.context import Context
from kubesift.reconcile.records import Decision


def alerts(ctx: Context) -> list[Decision]:
    made = []
    for step in (learning.rollback(ctx.engine), learning.retrain(ctx.engine)):
        subject = f"alerts-model-{step.model}" if step.model else "alerts-model"
        made.append(Decision("alerts", step.action, step.reason, subject, step.details or {}))
    return made
