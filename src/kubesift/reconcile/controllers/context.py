"""What every controller works with, and the observations they share (production, the
candidate and its state), read from the registry and the decisions recorded about it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy.engine import Engine

from kubesift.collect.service import ExportReport
from kubesift.errors import UserError
from kubesift.learn import online, registry
from kubesift.learn.dataset import Dataset, load_dataset
from kubesift.reconcile import policy
from kubesift.reconcile.desired import Desired
from kubesift.reconcile.records import decisions_about
from kubesift.timeutil import parse_iso


@dataclass
class Context:
    """What the controllers work with; the clients are passed in, never built here."""

    engine: Engine
    models_dir: Path
    desired: Desired
    export: Callable[[str], ExportReport] | None = None  # repo → what was fetched
    note: Callable[[str], None] = lambda _msg: None
    _dataset: Dataset | None = field(default=None, repr=False)

    def dataset(self) -> Dataset:
        if self._dataset is None:
            self._dataset = load_dataset(self.engine, self.desired.source)
        return self._dataset

    def forget_dataset(self) -> None:
        self._dataset = None


def production_version(ctx: Context) -> registry.ModelVersion | None:
    try:
        return registry.production(ctx.models_dir)
    except UserError:  # nothing trained yet
        return None


def age_seconds(version: registry.ModelVersion) -> float | None:
    created = version.metadata.get("created")
    if not created:
        return None
    return (datetime.now(UTC) - parse_iso(str(created))).total_seconds()


def state_of(engine: Engine, version: registry.ModelVersion) -> str:
    actions = {d["action"] for d in decisions_about(engine, registry.ref(version))}
    return policy.candidate_state(actions)


def candidate(ctx: Context) -> tuple[registry.ModelVersion, str] | None:
    """The newest reconciler-trained version newer than production, with its state."""
    prod = production_version(ctx)
    newer = [
        v
        for v in registry.list_versions(ctx.models_dir)
        if v.metadata.get("reconcile")
        and (
            prod is None
            or (v.metadata.get("created", ""), v.version)
            > (prod.metadata.get("created", ""), prod.version)
        )
    ]
    if not newer:
        return None
    return newer[-1], state_of(ctx.engine, newer[-1])


def candidate_in(ctx: Context, state: str) -> registry.ModelVersion | None:
    """The candidate, when it is in ``state``."""
    pending = candidate(ctx)
    return pending[0] if pending is not None and pending[1] == state else None


def online_of(ctx: Context, model: str, since: str | None) -> online.Online:
    """The model's online precision since ``since`` (:mod:`kubesift.learn.online`)."""
    with ctx.engine.connect() as conn:
        return online.overall(online.label_stats(conn, model=model, since=since))
