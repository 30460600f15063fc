"""The controllers, run in this order: export → train → evaluate → promote → canary →
rollback. Each observes the store and the registry, compares with the desired state
(using the pure functions of :mod:`kubesift.reconcile.policy`) and acts at most once.

A candidate's state is read from the decisions recorded about it, so a pass killed at
any point is picked up where it stopped: every act is safe to repeat.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine

from kubesift.errors import KubesiftError, UserError
from kubesift.learn import registry
from kubesift.learn.dataset import Dataset, labelled_count, load_dataset
from kubesift.reconcile import judge, policy
from kubesift.reconcile.desired import Desired
from kubesift.reconcile.online import online
from kubesift.reconcile.records import Decision, decisions_about
from kubesift.timeutil import parse_iso, stamp

STEPS = ("export", "train", "evaluate", "promote", "canary", "rollback")

#: The candidate's state, from the decisions about it (the later stage wins).
_STATES = (
    ("rolled-back", "rolled back"),
    ("aborted", "aborted"),
    ("refused", "refused"),
    ("promoted", "promoted"),
    ("canary-started", "canary"),
    ("accepted", "accepted"),
)


@dataclass
class Context:
    """What the controllers work with; the clients are passed in, never built here."""

    engine: Engine
    models_dir: Path
    desired: Desired
    export: Callable[[str], dict[str, Any]] | None = None  # repo → figures
    note: Callable[[str], None] = lambda _msg: None
    _dataset: Dataset | None = field(default=None, repr=False)

    def dataset(self) -> Dataset:
        if self._dataset is None:
            self._dataset = load_dataset(self.engine, self.desired.source)
        return self._dataset

    def forget_dataset(self) -> None:
        self._dataset = None


# -- helpers --------------------------------------------------------------------------------------


def production_version(ctx: Context) -> registry.ModelVersion | None:
    try:
        return registry.production(ctx.models_dir)
    except UserError:  # nothing trained yet
        return None


def _age(version: registry.ModelVersion) -> float | None:
    created = version.metadata.get("created")
    if not created:
        return None
    return (datetime.now(UTC) - parse_iso(str(created))).total_seconds()


def state_of(engine: Engine, version: registry.ModelVersion) -> str:
    actions = {d["action"] for d in decisions_about(engine, registry.ref(version))}
    for action, state in _STATES:
        if action in actions:
            return state
    return "trained"


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


def _promoted_at(engine: Engine, version: registry.ModelVersion) -> tuple[str | None, str | None]:
    """When ``version`` last became production, and what it replaced when it was
    promoted (a restore after a rollback keeps the model that came before)."""
    found = decisions_about(engine, registry.ref(version), ("promoted", "restored"))
    if not found:
        return None, None
    previous = next((d["details"].get("from") for d in found if d["action"] == "promoted"), None)
    return found[0]["details"].get("at"), previous


# -- export ---------------------------------------------------------------------------------------


def export(ctx: Context) -> list[Decision]:
    if not ctx.desired.repositories:
        return [Decision("export", "none", "no repositories in the desired state")]
    if ctx.export is None:
        raise UserError("export needs GitHub access, which this run was not given")
    out = []
    for repo in ctx.desired.repositories:
        ctx.note(f"export: updating {repo}")
        try:
            figures = ctx.export(repo)
        except KubesiftError as exc:
            # Train on the data already stored; the next pass tries again.
            out.append(Decision("export", "error", exc.message, repo))
            continue
        action = "unchanged" if figures.get("not_modified") else "updated"
        reason = (
            f"unchanged (304), {figures.get('requests', 0)} request(s)"
            if action == "unchanged"
            else f"{figures.get('items', 0):,} items and {figures.get('events', 0):,} label "
            f"events stored, {figures.get('requests', 0)} requests"
        )
        out.append(Decision("export", action, reason, repo, figures))
    ctx.forget_dataset()
    return out


# -- train ----------------------------------------------------------------------------------------


def train(ctx: Context) -> list[Decision]:
    out = _clean_unfinished(ctx)
    pending = candidate(ctx)
    if pending and pending[1] in ("trained", "accepted", "canary"):
        ref = registry.ref(pending[0])
        return [
            *out,
            Decision("train", "none", f"candidate {ref} is in flight ({pending[1]})", ref),
        ]
    try:
        dataset = ctx.dataset()
    except UserError as exc:
        return [*out, Decision("train", "none", f"nothing to train on yet: {exc.message}")]
    prod = production_version(ctx)
    d = ctx.desired
    labelled = labelled_count(dataset, d.labels, d.families)
    verdict = policy.staleness(
        d,
        prod.metadata if prod else None,
        _age(prod) if prod else None,
        labelled,
        dataset.data_hash(),
    )
    subject = registry.ref(prod) if prod else None
    if not verdict.stale:
        return [*out, Decision("train", "none", verdict.reason, subject)]
    if pending and _same_as(pending[0], d, dataset):
        ref = registry.ref(pending[0])
        return [
            *out,
            Decision(
                "train",
                "none",
                f"{verdict.reason}, but {ref} was trained as desired on this same data and "
                f"{pending[1]}; waiting for new data",
                ref,
            ),
        ]
    if prod is not None and not (ctx.models_dir / registry.PRODUCTION).exists():
        # Without a pointer "production" is the newest version: pin it, or the
        # candidate about to be saved would be served before it is judged.
        registry.promote(ctx.models_dir, prod.name, prod.version)
        out.append(
            Decision(
                "train",
                "pinned",
                "production pinned before training a candidate",
                subject,
                {"at": stamp()},
            )
        )
    split = judge.later_split(
        judge.newest_split(dataset, d.eval_fraction), prod.metadata.get("split") if prod else None
    )
    ctx.note(
        f"train: {verdict.reason}; training {d.model} on {len(dataset):,} examples "
        f"(evaluation slice {split})"
    )
    version = _fit_and_save(ctx, dataset, split, labelled)
    figures = {
        "split": split,
        "examples": len(dataset),
        "labelled": labelled,
        "fit_seconds": version.metadata.get("fit_seconds"),
    }
    out.append(Decision("train", "trained", verdict.reason, registry.ref(version), figures))
    if prod is None:
        # Nothing to compare with: the first model serves at once, pinned explicitly.
        registry.promote(ctx.models_dir, version.name, version.version)
        out.append(
            Decision(
                "train",
                "promoted",
                "the first model becomes production",
                registry.ref(version),
                {"at": stamp(), "from": None},
            )
        )
    return out


def _same_as(version: registry.ModelVersion, desired: Desired, dataset: Dataset) -> bool:
    """Whether retraining now would repeat ``version``: same spec, same data."""
    meta = version.metadata
    same_spec = all(
        meta.get(k, "release-notes" if k == "source" else None) == v
        for k, v in desired.model_spec().items()
    )
    return same_spec and meta.get("data_hash") == dataset.data_hash()


def _clean_unfinished(ctx: Context) -> list[Decision]:
    out = []
    for path in registry.unfinished(ctx.models_dir):
        shutil.rmtree(path, ignore_errors=True)
        out.append(
            Decision(
                "train",
                "cleaned",
                "removed an unfinished model directory (a training that was interrupted)",
                str(path.relative_to(ctx.models_dir)),
            )
        )
    return out


def _fit_and_save(
    ctx: Context, dataset: Dataset, split: str, labelled: int
) -> registry.ModelVersion:
    from kubesift.learn.service import save_trained
    from kubesift.learn.train import TrainSpec
    from kubesift.learn.train import train as fit

    d = ctx.desired
    spec = TrainSpec(
        labels=d.labels,
        families=d.families,
        model=d.model,
        split=split,
        target_precision=d.target_precision,
        folds=d.folds,
        compare=(),
    )
    trained = fit(dataset, spec)
    extra = {
        "source": dataset.source,
        "examples": len(dataset),
        "labelled": labelled,
        "fit_seconds": trained.metrics.get("fit_seconds"),
        "reconcile": {"split": split},
    }
    return save_trained(ctx.models_dir, trained, None, extra)


# -- evaluate -------------------------------------------------------------------------------------


def evaluate(ctx: Context) -> list[Decision]:
    pending = candidate(ctx)
    if pending is None or pending[1] != "trained":
        return [Decision("evaluate", "none", "no candidate awaits evaluation")]
    cand = pending[0]
    ref = registry.ref(cand)
    prod = production_version(ctx)
    if prod is None:
        return [
            Decision("evaluate", "accepted", "there is no production model to compare with", ref)
        ]
    dataset = ctx.dataset()
    split = judge.later_split(str(cand.metadata["split"]), prod.metadata.get("split"))
    ctx.note(f"evaluate: {ref} against {registry.ref(prod)} on the slice {split}")
    c = judge.slice_scores(dataset, split, registry.load_model(cand), cand.metadata)
    p = judge.slice_scores(dataset, split, registry.load_model(prod), prod.metadata)
    verdict = policy.compare(c, p, ctx.desired.promotion)
    details = {
        "split": split,
        "production": registry.ref(prod),
        "table": verdict.table,
        "vetoes": verdict.vetoes,
    }
    return [
        Decision(
            "evaluate", "accepted" if verdict.accept else "refused", verdict.reason, ref, details
        )
    ]


# -- promote --------------------------------------------------------------------------------------


def promote(ctx: Context) -> list[Decision]:
    pending = candidate(ctx)
    if pending is None or pending[1] != "accepted":
        return [Decision("promote", "none", "no accepted candidate")]
    cand = pending[0]
    ref = registry.ref(cand)
    prod = production_version(ctx)
    share = ctx.desired.canary.share
    at = stamp()
    if prod is not None and share > 0:
        registry.start_canary(ctx.models_dir, cand, share, at)
        return [
            Decision(
                "promote",
                "canary-started",
                f"the bot sends {share:.0%} of items to {ref}; production stays "
                f"{registry.ref(prod)} until online precision decides",
                ref,
                {"at": at, "share": share, "production": registry.ref(prod)},
            )
        ]
    registry.promote(ctx.models_dir, cand.name, cand.version)
    registry.end_canary(ctx.models_dir)
    before = registry.ref(prod) if prod else None
    return [
        Decision(
            "promote",
            "promoted",
            "accepted offline" + ("" if prod else " (first model)") + " and no canary configured",
            ref,
            {"at": at, "from": before},
        )
    ]


# -- canary ---------------------------------------------------------------------------------------


def canary(ctx: Context) -> list[Decision]:
    pointer = registry.read_canary(ctx.models_dir)
    if pointer is None:
        return [Decision("canary", "none", "no canary running")]
    try:
        cand = registry.find(ctx.models_dir, str(pointer["name"]), str(pointer["version"]))
    except UserError:
        registry.end_canary(ctx.models_dir)
        return [
            Decision(
                "canary",
                "aborted",
                "the canary's model version is gone",
                f"{pointer.get('name')}@{pointer.get('version')}",
            )
        ]
    prod = production_version(ctx)
    ref = registry.ref(cand)
    since = str(pointer.get("started_at") or "")
    c = online(ctx.engine, ref, since)
    p = online(ctx.engine, registry.ref(prod), since) if prod else policy.Online(0, 0)
    age = (datetime.now(UTC) - parse_iso(since)).total_seconds() if since else 0.0
    action, reason = policy.canary_verdict(
        c, p, ctx.desired.canary, ctx.desired.rollback.min_precision, age
    )
    details: dict[str, Any] = {
        "candidate": [c.added, c.removed],
        "production": [p.added, p.removed],
        "since": since,
    }
    if action == "wait":
        return [Decision("canary", "waiting", reason, ref, details)]
    registry.end_canary(ctx.models_dir)
    if action == "abort":
        return [Decision("canary", "aborted", reason, ref, details)]
    registry.promote(ctx.models_dir, cand.name, cand.version)
    details |= {"at": stamp(), "from": registry.ref(prod) if prod else None}
    return [Decision("canary", "promoted", reason, ref, details)]


# -- rollback -------------------------------------------------------------------------------------


def rollback(ctx: Context) -> list[Decision]:
    prod = production_version(ctx)
    if prod is None:
        return [Decision("rollback", "none", "no production model")]
    ref = registry.ref(prod)
    since, previous = _promoted_at(ctx.engine, prod)
    stats = online(ctx.engine, ref, since)
    action, reason = policy.rollback_verdict(stats, ctx.desired.rollback, previous)
    details = {"online": [stats.added, stats.removed], "since": since}
    if action != "rollback" or previous is None:
        return [Decision("rollback", action, reason, ref, details)]
    name, _, version = previous.partition("@")
    back = registry.promote(ctx.models_dir, name, version)
    registry.end_canary(ctx.models_dir)
    at = stamp()
    return [
        Decision("rollback", "rolled-back", reason, ref, details | {"to": previous, "at": at}),
        Decision(
            "rollback",
            "restored",
            f"production again after {ref} was rolled back",
            registry.ref(back),
            {"at": at, "from": ref},
        ),
    ]


CONTROLLERS: dict[str, Callable[[Context], list[Decision]]] = {
    "export": export,
    "train": train,
    "evaluate": evaluate,
    "promote": promote,
    "canary": canary,
    "rollback": rollback,
}
