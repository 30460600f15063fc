"""Training, as two named steps.

- :func:`evaluation_run`: fit on the training side of a temporal split, choose acting
  thresholds on forward folds of that side, and measure everything on the test side.
- :func:`production_fit`: the same recipe on *every* labelled example (the model that is
  deployed), with thresholds from forward folds over all of it and the evaluation run's
  figures attached.

Acting thresholds come from :mod:`kubesift.learn.forward` (forward in time, with a
confidence bound); best-F1 thresholds, used for the F1 figures and the reconciler's judge,
from out-of-fold predictions (:mod:`kubesift.learn.calibrate`).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from kubesift import defaults
from kubesift.errors import UserError
from kubesift.learn import progress
from kubesift.learn.calibrate import (
    F1_CAPS,
    FAMILY_LIMITS,
    Thresholds,
    choose_cap,
    columns,
    decide,
    fold_ids,
    kind_thresholds,
    out_of_fold,
    stratified_fold_ids,
    thresholds_for,
    top_decide,
)
from kubesift.learn.dataset import BUG_TASK, Dataset, Targets, targets, temporal_split
from kubesift.learn.evaluate import (
    binary_metrics,
    family_metrics,
    label_metrics,
    precision_coverage,
)
from kubesift.learn.forward import (
    CONFIDENCE,
    Calibration,
    calibrate,
    calibrate_label,
    conservative,
    forward_blocks,
    forward_scores,
)
from kubesift.learn.models import DEFAULT_MODEL, make_model

REFERENCE_SPLIT = "release:1.30..1.33"

#: How acting thresholds are chosen: forward in time with a confidence bound (default),
#: or the earlier whole-period out-of-fold point estimate (kept for comparison).
CALIBRATIONS = ("forward", "out-of-fold")

#: How the ``best_f1`` rule decides, as written into metrics.json and the model card.
F1_DECODE = (
    "single labels: score >= the label's best-F1 threshold; families: the top-scoring "
    "label always, plus further labels over their best-F1 thresholds, at most `cap` "
    "(thresholds and caps from out-of-fold predictions of the training period)"
)


@dataclass
class TrainSpec:
    """What to train: single labels, whole families, which model, how to split."""

    labels: tuple[str, ...] = (BUG_TASK,)
    families: tuple[str, ...] = ()
    model: str = DEFAULT_MODEL
    params: dict[str, Any] = field(default_factory=dict)
    split: str | None = REFERENCE_SPLIT  # None: a production fit on every labelled example
    target_precision: float = defaults.TARGET_PRECISION
    folds: int = 5
    compare: tuple[str, ...] = ("seed-mlp", "majority")
    calibration: str = "forward"
    confidence: float = CONFIDENCE


@dataclass
class Trained:
    """A fitted model with its labels, thresholds and evaluation."""

    spec: TrainSpec
    model: Any
    labels: tuple[str, ...]
    thresholds: list[float | None]
    f1_thresholds: list[float | None]
    metrics: dict[str, Any]
    data_hash: str
    curves: dict[str, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)
    f1_caps: dict[str, int] = field(default_factory=dict)
    fit: str = "evaluation"  # or "production"
    evaluation: Trained | None = None  # a production fit's evaluation run
    fitted: Fitted | None = field(default=None, repr=False)


@dataclass
class Fitted:
    """A model fitted on ``tr`` with everything its thresholds were read from."""

    model: Any
    tr: Targets
    oof: np.ndarray  # out-of-fold scores of the training items
    fwd: np.ndarray  # forward scores (NaN where an item is not in a forward block)
    blocks: np.ndarray
    act: list[float | None]
    best: list[float | None]
    caps: dict[str, int]
    calibration: list[Calibration] | None
    seconds: float
    by_kind: dict[str, list[Calibration]] = field(default_factory=dict)

    def act_by_kind(self) -> dict[str, list[float | None]]:
        return {k: [c.threshold for c in cal] for k, cal in self.by_kind.items()}


def groups(spec: TrainSpec, labels: Sequence[str]) -> dict[str, list[int]]:
    """Evaluation groups: each single label, each family → column indices."""
    out = {name: [labels.index(name)] for name in spec.labels}
    for family in spec.families:
        out[f"family:{family}"] = [i for i, n in enumerate(labels) if n.startswith(f"{family}/")]
    return out


def train(dataset: Dataset, spec: TrainSpec) -> Trained:
    """The evaluation run when ``spec.split`` is set, else a production fit on everything."""
    return evaluation_run(dataset, spec) if spec.split else production_fit(dataset, spec)


def fit_and_calibrate(train_set: Dataset, spec: TrainSpec, what: str = "fit") -> Fitted:
    """Fit on ``train_set``; acting thresholds per ``spec.calibration``, best-F1 out of fold.
    Each step is reported (:mod:`kubesift.learn.progress`) under ``what``."""
    if not spec.labels and not spec.families:
        raise UserError("nothing to train: give --label or --family")
    if spec.calibration not in CALIBRATIONS:
        raise UserError(f"unknown calibration {spec.calibration!r} ({', '.join(CALIBRATIONS)})")
    tr = targets(train_set, spec.labels, spec.families)
    X = train_set.inputs()
    start = time.perf_counter()
    n_tasks = len(dict.fromkeys(spec.labels))
    blocks = forward_blocks(train_set, spec.folds)
    n_blocks = len([b for b in np.unique(blocks) if b > 0])
    steps = progress.Steps(f"{what} on {len(train_set):,} items", 2 + n_blocks)
    model = make_model(spec.model, n_tasks, **spec.params).fit(X, tr.y, tr.known)
    steps.step("fitted")
    oof = out_of_fold(model, X, tr.y, tr.known, fold_ids(train_set, spec.folds))
    steps.step(f"{spec.folds} out-of-fold scores")
    fwd = forward_scores(
        model, X, tr.y, tr.known, blocks, lambda b: steps.step(f"forward block {b}/{n_blocks}")
    )
    act, cal = acting_thresholds(spec, tr, oof, fwd, blocks, spec.target_precision)
    if cal is not None:  # a second check, over the data's own class mix
        cal = stratified_check(model, X, tr, cal, spec)
        act = [c.threshold for c in cal]
    by_kind = per_kind(spec, tr, fwd, blocks, [e.kind for e in train_set.examples])
    best = thresholds_for(tr.y, tr.known, oof, spec.target_precision)[1]
    caps = f1_caps(spec, tr, oof, best)
    seconds = time.perf_counter() - start
    return Fitted(model, tr, oof, fwd, blocks, act, best, caps, cal, seconds, by_kind)


def stratified_check(
    model: Any, X: Sequence[dict[str, Any]], tr: Targets, cal: list[Calibration], spec: TrainSpec
) -> list[Calibration]:
    """Each forward calibration checked over class-stratified folds; the more conservative
    is kept (:func:`kubesift.learn.forward.conservative`)."""
    folds = stratified_fold_ids(tr.y, tr.known, spec.folds)
    scores = out_of_fold(model, X, tr.y, tr.known, folds)
    out = []
    for j, c in enumerate(cal):
        rows = tr.known[:, j]
        again = calibrate_label(
            c.label, tr.y[rows, j], scores[rows, j], spec.target_precision, spec.confidence
        )
        out.append(conservative(c, again))
    return out


def per_kind(
    spec: TrainSpec, tr: Targets, fwd: np.ndarray, blocks: np.ndarray, kinds: Sequence[str]
) -> dict[str, list[Calibration]]:
    """Forward calibration per item kind when the data mixes issues and PRs: one promise
    over both would hold for the mix and not for issues alone (their text differs)."""
    kind = np.asarray(kinds)
    forward = blocks > 0
    found = sorted(set(kind[forward].tolist()))
    if spec.calibration != "forward" or len(found) < 2:
        return {}
    out = {}
    for k in found:
        known = tr.known & (kind == k)[:, None]
        out[k] = calibrate(
            tr.labels, tr.y, known, fwd, spec.target_precision, spec.confidence, blocks
        )
    return out


def acting_thresholds(
    spec: TrainSpec,
    tr: Targets,
    oof: np.ndarray,
    fwd: np.ndarray,
    blocks: np.ndarray,
    target: float,
) -> tuple[list[float | None], list[Calibration] | None]:
    """Thresholds for ``target`` precision by ``spec.calibration`` (None = abstain)."""
    if spec.calibration == "out-of-fold":
        return thresholds_for(tr.y, tr.known, oof, target)[0], None
    cal = calibrate(tr.labels, tr.y, tr.known, fwd, target, spec.confidence, blocks)
    return [c.threshold for c in cal], cal


def calibration_report(spec: TrainSpec, fitted: Fitted) -> dict[str, Any]:
    """What metrics.json and the card say about the acting thresholds."""
    blocks = fitted.blocks
    report: dict[str, Any] = {
        "method": spec.calibration,
        "target_precision": spec.target_precision,
        "forward_blocks": {int(b): int((blocks == b).sum()) for b in np.unique(blocks) if b > 0},
    }
    if fitted.calibration is not None:
        report["confidence"] = spec.confidence
        report["labels"] = {c.label: c.as_dict() for c in fitted.calibration}
    report["abstains"] = [n for n, t in zip(fitted.tr.labels, fitted.act, strict=True) if t is None]
    if fitted.by_kind:
        report["by_kind"] = {
            k: {
                "labels": {c.label: c.as_dict() for c in cal},
                "abstains": [c.label for c in cal if c.threshold is None],
            }
            for k, cal in fitted.by_kind.items()
        }
    return report


def evaluation_run(dataset: Dataset, spec: TrainSpec) -> Trained:
    """Split, fit and calibrate on the training side, evaluate on the test side, compare."""
    if not spec.split:
        raise UserError("an evaluation run needs a split (release:… or created:…)")
    train_set, test_set = temporal_split(dataset, spec.split)
    fitted = fit_and_calibrate(train_set, spec, "evaluation run")
    tr, model, act, best, caps = fitted.tr, fitted.model, fitted.act, fitted.best, fitted.caps
    te = align(targets(test_set, tr.labels), test_set, spec)
    scores = model.predict_proba(test_set.inputs())
    acting: Thresholds = act
    if fitted.by_kind:
        kinds = [e.kind for e in test_set.examples]
        acting = kind_thresholds(kinds, act, fitted.act_by_kind())
    metrics: dict[str, Any] = {
        "fit": "evaluation",
        "split": spec.split,
        "train_items": len(train_set),
        "test_items": len(test_set),
        "target_precision": spec.target_precision,
        "fit_seconds": round(fitted.seconds, 2),
        "calibration": calibration_report(spec, fitted),
        "f1_decode": {"rule": F1_DECODE, "caps": caps},
        "models": {spec.model: evaluate(spec, tr.labels, te, scores, acting, best, caps)},
    }
    for other in spec.compare:
        if other != spec.model:
            progress.say(f"evaluation run: comparing with {other}")
            metrics["models"][other] = _compare(other, spec, train_set, test_set, tr, te)
    curves = {
        name: (te.y[te.known[:, j], j], scores[te.known[:, j], j])
        for j, name in enumerate(tr.labels)
    }
    return Trained(
        spec,
        model,
        tr.labels,
        act,
        best,
        metrics,
        dataset.data_hash(),
        curves,
        caps,
        fitted=fitted,
    )


def production_fit(dataset: Dataset, spec: TrainSpec, evaluation: Trained | None = None) -> Trained:
    """The deployed model: every labelled example, thresholds from forward folds over all
    of it. ``evaluation`` (the same recipe's :func:`evaluation_run`) supplies the figures."""
    fitted = fit_and_calibrate(dataset, spec, "production fit")
    base = dict(evaluation.metrics) if evaluation is not None else {"models": {}}
    metrics = {
        **base,
        "fit": "production",
        "production": {
            "train_items": len(dataset),
            "fit_seconds": round(fitted.seconds, 2),
            "evaluated_by": evaluation.spec.split if evaluation is not None else None,
        },
        "calibration": calibration_report(spec, fitted),
        "evaluation_calibration": base.get("calibration"),
    }
    metrics.setdefault("split", None)
    metrics.setdefault("train_items", len(dataset))
    metrics.setdefault("test_items", 0)
    metrics.setdefault("target_precision", spec.target_precision)
    metrics.setdefault("fit_seconds", round(fitted.seconds, 2))
    return Trained(
        spec,
        fitted.model,
        fitted.tr.labels,
        fitted.act,
        fitted.best,
        metrics,
        dataset.data_hash(),
        evaluation.curves if evaluation is not None else {},
        fitted.caps,
        fit="production",
        evaluation=evaluation,
        fitted=fitted,
    )


def f1_caps(
    spec: TrainSpec, tr: Targets, oof: np.ndarray, best: Sequence[float | None]
) -> dict[str, int]:
    """Per family, the F1-decode cap with the best out-of-fold micro-F1 (training only)."""
    caps = {}
    for group, cols in groups(spec, list(tr.labels)).items():
        family = group.removeprefix("family:")
        if group.startswith("family:") and cols:
            caps[family] = choose_cap(
                tr.y[:, cols],
                tr.known[:, cols],
                oof[:, cols],
                [best[c] for c in cols],
                F1_CAPS.get(family, (1, 2, 3)),
            )
    return caps


def align(te: Targets, test_set: Dataset, spec: TrainSpec) -> Targets:
    """``te``'s labels with targets computed as ``spec`` (tasks and families) defines them."""
    full = targets(test_set, spec.labels, spec.families)
    known = np.zeros(te.y.shape, dtype=bool)
    y = np.zeros(te.y.shape, dtype=np.int8)
    for j, name in enumerate(te.labels):
        if name in full.labels:
            k = full.labels.index(name)
            y[:, j], known[:, j] = full.y[:, k], full.known[:, k]
    return Targets(te.labels, y, known)


def evaluate(
    spec: TrainSpec,
    labels: tuple[str, ...],
    te: Targets,
    scores: np.ndarray,
    act: Thresholds | None,
    best: Sequence[float | None] | None,
    caps: dict[str, int] | None = None,
) -> dict[str, Any]:
    """Metrics per group at three decision rules: 0.5, best-F1 (OOF) and target precision.

    For a family, ``best_f1`` is the F1 decode (:func:`top_decide` with ``caps``).
    """
    rules: dict[str, Thresholds] = {"at_0.5": [0.5] * len(labels)}
    if best is not None:
        rules["best_f1"] = best
    if act is not None:
        rules["target_precision"] = act
    out: dict[str, Any] = {}
    for group, cols in groups(spec, list(labels)).items():
        out[group] = _group_metrics(group, labels, te, scores, cols, rules, caps or {})
    return out


def _group_metrics(
    group: str,
    labels: tuple[str, ...],
    te: Targets,
    scores: np.ndarray,
    cols: list[int],
    rules: dict[str, Thresholds],
    caps: dict[str, int],
) -> dict[str, Any]:
    family = group.removeprefix("family:") if group.startswith("family:") else None
    names = tuple(labels[c] for c in cols)
    Y, known, S = te.y[:, cols], te.known[:, cols], scores[:, cols]
    result: dict[str, Any] = {}
    for rule, thresholds in rules.items():
        limits = FAMILY_LIMITS.get(family or "") if family else None
        if limits and rule == "target_precision":
            limits = (0, limits[1])
        if family and rule == "best_f1" and family in caps:
            D = top_decide(S, [thresholds[c] for c in cols], caps[family])
        else:
            D = decide(S, columns(thresholds, cols), limits)
        entry: dict[str, Any] = {"labels": label_metrics(names, Y, known, S, D)}
        if not isinstance(thresholds, np.ndarray):  # per item kind: in the calibration report
            entry["thresholds"] = {n: thresholds[c] for n, c in zip(names, cols, strict=True)}
        if family and rule == "best_f1" and family in caps:
            entry["decode"] = {"top1_plus_thresholds_cap": caps[family]}
        if family:
            rows = known.any(axis=1)
            entry["family"] = family_metrics(Y[rows], known[rows], D[rows])
        else:
            rows = known[:, 0]
            entry["binary"] = binary_metrics(Y[rows, 0], D[rows, 0])
            entry["binary"]["coverage"] = round(float(D[rows, 0].mean()), 4)
        result[rule] = entry
    if not family:
        rows = known[:, 0]
        result["precision_coverage"] = precision_coverage(Y[rows, 0], S[rows, 0])
        result["majority_accuracy"] = round(float(max(Y[rows, 0].mean(), 1 - Y[rows, 0].mean())), 4)
    return result


def _compare(
    name: str, spec: TrainSpec, train_set: Dataset, test_set: Dataset, tr: Targets, te: Targets
) -> dict[str, Any]:
    """A comparison model on the same split, at 0.5 (as the original recipe acted)."""
    start = time.perf_counter()
    scores = np.zeros(te.y.shape)
    X, Xt = train_set.inputs(), test_set.inputs()
    for group, cols in groups(spec, list(tr.labels)).items():
        model = make_model(name, 0 if group.startswith("family:") else 1).fit(
            X, tr.y[:, cols], tr.known[:, cols]
        )
        scores[:, cols] = model.predict_proba(Xt)
    out = evaluate(spec, tr.labels, te, scores, None, None)
    out["fit_seconds"] = round(time.perf_counter() - start, 2)
    return out
