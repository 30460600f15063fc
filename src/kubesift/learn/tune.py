"""Hyperparameter search (Optuna) on the training period only, within a time budget."""

from __future__ import annotations

import time
from typing import Any

import numpy as np
from sklearn.metrics import average_precision_score

from kubesift.errors import UserError
from kubesift.learn.calibrate import fold_ids, out_of_fold
from kubesift.learn.dataset import Dataset, targets, temporal_split
from kubesift.learn.models import make_model
from kubesift.learn.train import TrainSpec


def search_space(trial: Any, model: str) -> dict[str, Any]:
    """The parameters tried for a registered model."""
    if model == "sift-embed":
        return {
            "C": trial.suggest_float("C", 0.3, 30.0, log=True),
            "embed_C": trial.suggest_float("embed_C", 0.1, 10.0, log=True),
            "embed_weight": trial.suggest_float("embed_weight", 0.2, 0.8),
        }
    if model in ("sift-linear", "sift-linear-cv", "sift-linear-v1", "linear"):
        return {
            "C": trial.suggest_float("C", 0.1, 20.0, log=True),
            "class_weight": trial.suggest_categorical("class_weight", ["balanced", None]),
            "use_char": trial.suggest_categorical("use_char", [False, True]),
            "author_weight": trial.suggest_float("author_weight", 0.0, 3.0),
            "docs_weight": trial.suggest_float("docs_weight", 0.0, 2.0),
        }
    if model == "seed-mlp":
        return {"k": trial.suggest_int("k", 2000, 40000, log=True)}
    raise UserError(f"model {model!r} has no search space")


def objective_score(Y: np.ndarray, known: np.ndarray, oof: np.ndarray) -> float:
    """Mean average precision over labels with both classes, out of fold."""
    scores = []
    for j in range(Y.shape[1]):
        y = Y[known[:, j], j]
        if 0 < y.sum() < len(y):
            scores.append(average_precision_score(y, oof[known[:, j], j]))
    return float(np.mean(scores)) if scores else 0.0


def tune(dataset: Dataset, spec: TrainSpec, budget: float, seed: int = 0) -> dict[str, Any]:
    """Search ``spec.model``'s parameters for ``budget`` seconds on the training slice.

    Returns the best parameters and every trial (parameters, score, seconds).
    """
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    # The test slice is dropped here; a production fit (no split) searches on everything.
    train_set = temporal_split(dataset, spec.split)[0] if spec.split else dataset
    tr = targets(train_set, spec.labels, spec.families)
    X, folds = train_set.inputs(), fold_ids(train_set, spec.folds)
    trials: list[dict[str, Any]] = []

    def objective(trial: Any) -> float:
        params = {**spec.params, **search_space(trial, spec.model)}
        start = time.perf_counter()
        model = make_model(spec.model, len(dict.fromkeys(spec.labels)), **params)
        oof = out_of_fold(model, X, tr.y, tr.known, folds)
        score = objective_score(tr.y, tr.known, oof)
        trials.append(
            {
                "params": params,
                "score": round(score, 4),
                "seconds": round(time.perf_counter() - start, 2),
            }
        )
        return score

    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.TPESampler(seed=seed))
    study.optimize(objective, timeout=budget, n_trials=None, catch=())
    if not trials:
        raise UserError("--budget too small: no trial finished")
    best = max(trials, key=lambda t: t["score"])
    return {
        "budget_seconds": budget,
        "objective": "mean out-of-fold average precision (training period)",
        "best_params": best["params"],
        "best_score": best["score"],
        "trials": trials,
    }
