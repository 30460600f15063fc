"""The train controller: when production is stale, train a candidate on the newest data
(the decision itself is :func:`kubesift.reconcile.policy.train_plan`)."""

from __future__ import annotations

import shutil

from kubesift.errors import UserError
from kubesift.learn import registry
from kubesift.learn.dataset import Dataset, labelled_count
from kubesift.learn.service import train_and_save
from kubesift.learn.train import TrainSpec
from kubesift.reconcile import judge, policy
from kubesift.reconcile.controllers.context import (
    Context,
    age_seconds,
    candidate,
    production_version,
)
from kubesift.reconcile.desired import Desired
from kubesift.reconcile.records import Decision
from kubesift.timeutil import stamp


def train(ctx: Context) -> list[Decision]:
    out = _clean_unfinished(ctx)
    pending = candidate(ctx)
    pending_ref = (registry.ref(pending[0]), pending[1]) if pending else None
    busy = policy.in_flight(pending_ref)
    if busy:
        return [*out, Decision("train", "none", busy, pending_ref[0] if pending_ref else None)]
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
        age_seconds(prod) if prod else None,
        labelled,
        dataset.data_hash(),
    )
    plan = policy.train_plan(
        verdict,
        registry.ref(prod) if prod else None,
        (ctx.models_dir / registry.PRODUCTION).exists(),
        pending_ref,
        pending is not None and _same_as(pending[0], d, dataset),
    )
    if plan.action == "none":
        return [*out, Decision("train", "none", plan.reason, plan.subject)]
    return [*out, *_train(ctx, plan, prod, dataset, labelled)]


def _train(
    ctx: Context,
    plan: policy.TrainPlan,
    prod: registry.ModelVersion | None,
    dataset: Dataset,
    labelled: int,
) -> list[Decision]:
    out = []
    if plan.pin_production and prod is not None:
        # Without a pointer "production" is the newest version: pin it, or the
        # candidate about to be saved would be served before it is judged.
        registry.promote(ctx.models_dir, prod.name, prod.version)
        out.append(
            Decision(
                "train",
                "pinned",
                "production pinned before training a candidate",
                plan.subject,
                {"at": stamp()},
            )
        )
    split = judge.later_split(
        judge.newest_split(dataset, ctx.desired.eval_fraction),
        prod.metadata.get("split") if prod else None,
    )
    ctx.note(
        f"train: {plan.reason}; training {ctx.desired.model} on {len(dataset):,} examples "
        f"(evaluation slice {split})"
    )
    # Both named steps: the evaluation run (judged on the slice after `split`), then the
    # production fit on everything, which is what a promotion deploys.
    version = train_and_save(
        ctx.models_dir,
        dataset,
        _spec(ctx.desired, split),
        extra={"reconcile": {"split": split}},
        production=True,
    )
    ref = registry.ref(version)
    figures = _figures(version, split, len(dataset), labelled)
    out.append(Decision("train", "trained", plan.reason, ref, figures))
    if plan.first_model:
        # Nothing to compare with: the first model serves at once, pinned explicitly.
        registry.promote(ctx.models_dir, version.name, version.version)
        out.append(
            Decision(
                "train",
                "promoted",
                "the first model becomes production",
                ref,
                {"at": stamp(), "from": None},
            )
        )
    return out


def _figures(
    version: registry.ModelVersion, split: str, examples: int, labelled: int
) -> dict[str, object]:
    return {
        "split": split,
        "examples": examples,
        "labelled": labelled,
        "fit_seconds": version.metadata.get("fit_seconds"),
        "fit": version.metadata.get("fit"),
        "abstains": sum(t is None for t in version.metadata.get("thresholds", [])),
    }


def _spec(d: Desired, split: str) -> TrainSpec:
    return TrainSpec(
        labels=d.labels,
        families=d.families,
        model=d.model,
        split=split,
        target_precision=d.target_precision,
        folds=d.folds,
        compare=(),
    )


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
