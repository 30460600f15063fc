"""The controllers, one module each, run in this order: export → train → evaluate →
promote → canary → rollback, then alerts (the needs-a-human model of alert
triage). Each observes the store and the registry, compares with the
desired state (the pure functions of :mod:`kubesift.reconcile.policy`) and acts at most
once.

A candidate's state is read from the decisions recorded about it, so a pass killed at
any point is picked up where it stopped: every act is safe to repeat.
"""

from __future__ import annotations

from collections.abc import Callable

from kubesift.reconcile.controllers.alerts import alerts
from kubesift.reconcile.controllers.canary import canary
from kubesift.reconcile.controllers.context import Context, candidate, production_version
from kubesift.reconcile.controllers.evaluate import evaluate
from kubesift.reconcile.controllers.export import export
from kubesift.reconcile.controllers.promote import promote
from kubesift.reconcile.controllers.rollback import rollback
from kubesift.reconcile.controllers.train import train
from kubesift.reconcile.records import Decision
from kubesift.reconcile.steps import STEPS

CONTROLLERS: dict[str, Callable[[Context], list[Decision]]] = {
    "export": export,
    "train": train,
    "evaluate": evaluate,
    "promote": promote,
    "canary": canary,
    "rollback": rollback,
    "alerts": alerts,
}

__all__ = ["CONTROLLERS", "STEPS", "Context", "candidate", "production_version"]
