"""Training end to end: store → dataset → model → registry (with metrics and card)."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

from kubesift.learn import card, registry
from kubesift.learn.dataset import Dataset, labelled_count
from kubesift.learn.models import short_params
from kubesift.learn.train import Trained, TrainSpec, evaluation_run, production_fit, train
from kubesift.learn.tune import tune


def train_and_save(
    models_dir: Path,
    dataset: Dataset,
    spec: TrainSpec,
    *,
    budget: float | None = None,
    extra: dict[str, Any] | None = None,
    production: bool = False,
) -> registry.ModelVersion:
    """Train per ``spec`` on ``dataset`` (from :func:`~kubesift.learn.dataset.load_dataset`) and
    save a new model version: the one recipe ``kubesift train``, the reconciler and the
    dashboard use.

    With ``budget`` (seconds), first search the model's parameters on the training
    period (Optuna); the search is saved as ``tuning.json`` beside the model. ``extra``
    goes into the metadata beside the data facts (the reconciler marks its candidates).

    With ``production``, the saved model is the production fit on every labelled example,
    after an evaluation run on ``spec.split`` whose figures (and model, for the
    reconciler's judge) are saved with it.
    """
    search = None
    if budget is not None:
        search = tune(dataset, spec, budget)
        spec = replace(spec, params=search["best_params"])
    if production:
        evaluation = evaluation_run(dataset, spec) if spec.split else None
        trained = production_fit(dataset, replace(spec, split=None), evaluation)
    else:
        trained = train(dataset, spec)
    facts = {
        **data_facts(dataset, spec),
        "fit_seconds": trained.metrics.get("fit_seconds"),
        **(extra or {}),
    }
    return save_trained(models_dir, trained, search, facts)


def data_facts(dataset: Dataset, spec: TrainSpec) -> dict[str, Any]:
    """What the reconciler compares later: the source and how many examples had labels."""
    return {
        "source": dataset.source,
        "examples": len(dataset),
        "labelled": labelled_count(dataset, spec.labels, spec.families),
    }


def save_trained(
    models_dir: Path,
    trained: Trained,
    search: dict[str, Any] | None = None,
    extra: dict[str, Any] | None = None,
) -> registry.ModelVersion:
    """Write the model, metrics.json, the card (md, html) and PR curves; hashes in metadata."""
    metadata: dict[str, Any] = {
        **(extra or {}),
        "model": trained.spec.model,
        "params": short_params(trained.model),
        "labels": list(trained.labels),
        "thresholds": trained.thresholds,
        "thresholds_by_kind": trained.fitted.act_by_kind() if trained.fitted else {},
        "f1_thresholds": trained.f1_thresholds,
        "f1_caps": trained.f1_caps,
        "target_precision": trained.spec.target_precision,
        "families": list(trained.spec.families),
        "tasks": list(trained.spec.labels),
        "split": trained.evaluation.spec.split if trained.evaluation else trained.spec.split,
        "fit": trained.fit,
        "calibration": trained.spec.calibration,
        "confidence": trained.spec.confidence,
        "data_hash": trained.data_hash,
    }
    if hasattr(trained.model, "encoder_fingerprint_"):  # sift-embed: the encoder it needs
        metadata["encoder"] = trained.model.encoder_fingerprint_
        metadata["encoder_backend"] = trained.model.encoder_backend_
    evaluation = trained.evaluation
    if evaluation is not None:
        metadata["evaluation"] = {
            "split": evaluation.spec.split,
            "thresholds": evaluation.thresholds,
            "f1_thresholds": evaluation.f1_thresholds,
            "f1_caps": evaluation.f1_caps,
        }
    card_md = card.markdown({**metadata, "name": trained.spec.model}, trained.metrics)
    files = {
        "metrics.json": (json.dumps(trained.metrics, indent=2, default=str) + "\n").encode(),
        "card.md": card_md.encode(),
        "card.html": card.to_html(card_md).encode(),
        "pr-curves.png": card.pr_curves_png(trained.curves),
    }
    if search is not None:
        files["tuning.json"] = (json.dumps(search, indent=2, default=str) + "\n").encode()
        metadata["tuning"] = {k: search[k] for k in ("best_params", "best_score", "budget_seconds")}
    twin = evaluation.model if evaluation is not None else None
    return registry.save(models_dir, trained.spec.model, trained.model, metadata, files, twin)
