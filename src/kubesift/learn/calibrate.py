"""Per-label thresholds from out-of-fold predictions of the training period.

Nothing here ever sees the test slice: :func:`out_of_fold` splits the *training*
items into folds by release (or by time order), and the thresholds are read off those
predictions.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.base import clone
from sklearn.metrics import precision_recall_curve

from kubesift.learn.dataset import Dataset, minor_of
from kubesift.learn.forward import MIN_PREDICTED

#: Per family: (at least, at most) labels an item gets. ``at least`` only applies
#: when deciding by best-F1 thresholds (every PR has a kind); acting never forces one.
FAMILY_LIMITS: dict[str, tuple[int, int]] = {"kind": (1, 2), "sig": (1, 3), "area": (0, 3)}

#: Per family: the caps tried for the F1 decode (:func:`top_decide`); the one with the
#: best out-of-fold micro-F1 on the training period is used.
F1_CAPS: dict[str, tuple[int, ...]] = {"kind": (1, 2, 3), "sig": (2, 3, 4, 6), "area": (1, 2, 3)}


def fold_ids(dataset: Dataset, folds: int = 5) -> np.ndarray:
    """A fold number per item: whole releases per fold (or time-ordered blocks)."""
    groups = [minor_of(e.release) if e.release else None for e in dataset.examples]
    if all(g is not None for g in groups):
        order = sorted(set(groups), key=lambda g: g or (0, 0))
        index = {g: i % folds for i, g in enumerate(order)}
        ids = np.array([index[g] for g in groups])
        if len(set(ids.tolist())) == folds:
            return ids
    return (np.arange(len(dataset)) * folds) // max(len(dataset), 1)


def stratified_fold_ids(
    Y: np.ndarray, known: np.ndarray, folds: int = 5, seed: int = 0
) -> np.ndarray:
    """A fold number per item with each label combination spread evenly over the folds
    (shuffled with ``seed``), so every fold holds the classes in the data's own mix, not
    in the mix of one period."""
    rng = np.random.default_rng(seed)
    keys = ["".join("1" if y and k else "0" for y, k in zip(row, ok, strict=True))
            for row, ok in zip(Y, known, strict=True)]  # fmt: skip
    ids = np.zeros(len(keys), dtype=np.int64)
    by_key: dict[str, list[int]] = {}
    for i, key in enumerate(keys):
        by_key.setdefault(key, []).append(i)
    start = 0
    for key in sorted(by_key):
        members = np.array(by_key[key])
        rng.shuffle(members)
        ids[members] = (start + np.arange(len(members))) % folds
        start += len(members)
    return ids


def out_of_fold(
    model: Any, X: Sequence[dict[str, Any]], Y: np.ndarray, known: np.ndarray, folds: np.ndarray
) -> np.ndarray:
    """Scores for every training item from a model that did not see its fold."""
    if hasattr(model, "out_of_fold"):  # models that share their features across folds
        return np.asarray(model.out_of_fold(X, Y, known, folds))
    oof = np.zeros(Y.shape, dtype=np.float64)
    for f in np.unique(folds):
        test = np.flatnonzero(folds == f)
        train = np.flatnonzero(folds != f)
        fitted = clone(model).fit([X[int(i)] for i in train], Y[train], known[train])
        oof[test] = fitted.predict_proba([X[int(i)] for i in test])
    return oof


def precision_threshold(y: np.ndarray, scores: np.ndarray, target: float) -> float | None:
    """The lowest threshold whose predictions reach ``target`` precision, or None."""
    if y.sum() == 0:
        return None
    precision, _recall, thresholds = precision_recall_curve(y, scores)
    predicted = np.array([(scores >= t).sum() for t in thresholds])
    ok = (precision[:-1] >= target) & (predicted >= MIN_PREDICTED)
    if not ok.any():
        return None
    return float(thresholds[np.argmax(ok)])


def f1_threshold(y: np.ndarray, scores: np.ndarray) -> float | None:
    """The threshold with the best F1 on these scores (None if no positives)."""
    if y.sum() == 0:
        return None
    precision, recall, thresholds = precision_recall_curve(y, scores)
    f1 = 2 * precision * recall / np.maximum(precision + recall, 1e-12)
    return float(thresholds[int(np.argmax(f1[:-1]))])


def thresholds_for(
    Y: np.ndarray, known: np.ndarray, oof: np.ndarray, target: float
) -> tuple[list[float | None], list[float | None]]:
    """(target-precision thresholds, best-F1 thresholds), one per label."""
    act, best = [], []
    for j in range(Y.shape[1]):
        rows = known[:, j]
        act.append(precision_threshold(Y[rows, j], oof[rows, j], target))
        best.append(f1_threshold(Y[rows, j], oof[rows, j]))
    return act, best


Thresholds = Sequence[float | None] | np.ndarray


def kind_thresholds(
    kinds: Sequence[str],
    default: Sequence[float | None],
    by_kind: dict[str, list[float | None]] | None,
) -> np.ndarray:
    """An n × L threshold matrix: each item's own kind's thresholds (``by_kind``), else
    ``default``; None (abstain) as +inf."""
    base = np.array([np.inf if v is None else v for v in default], dtype=np.float64)
    rows = {
        k: np.array([np.inf if v is None else v for v in t], dtype=np.float64)
        for k, t in (by_kind or {}).items()
    }
    if not kinds:
        return np.empty((0, len(base)), dtype=np.float64)
    return np.vstack([rows.get(k, base) for k in kinds])


def columns(thresholds: Thresholds, cols: Sequence[int]) -> Thresholds:
    """``thresholds`` for ``cols``: a list's entries, or a matrix's columns."""
    if isinstance(thresholds, np.ndarray):
        return thresholds[:, list(cols)]
    return [thresholds[c] for c in cols]


def decide(
    scores: np.ndarray,
    thresholds: Thresholds,
    limits: tuple[int, int] | None = None,
) -> np.ndarray:
    """0/1 decisions: score ≥ threshold (None = never), then the family's limits.

    ``thresholds`` is one per label, or an n × L matrix (per item: :func:`kind_thresholds`).

    With limits (at least, at most), only the ``at most`` labels with the largest
    margin over their thresholds are kept, and when ``at least`` is 1 an item with
    none gets its best label among those that can be predicted at all.
    """
    if isinstance(thresholds, np.ndarray) and thresholds.ndim == 2:
        t = thresholds.astype(np.float64)
    else:
        t = np.array([np.inf if v is None else v for v in thresholds], dtype=np.float64)
    out = (scores >= t).astype(np.int8)
    if limits is None:
        return out
    least, most = limits
    margin = np.where(np.isfinite(t), scores - np.where(np.isfinite(t), t, 0), -np.inf)
    margin = np.broadcast_to(margin, scores.shape)
    for i in range(len(scores)):
        on = np.flatnonzero(out[i])
        if len(on) > most:
            drop = on[np.argsort(-margin[i, on])][most:]
            out[i, drop] = 0
        if least and not len(on) and np.isfinite(margin[i]).any():
            out[i, int(np.argmax(margin[i]))] = 1
    return out


def top_decide(scores: np.ndarray, thresholds: Sequence[float | None], cap: int) -> np.ndarray:
    """The F1 decode of a family: every item gets its top-scoring label, plus further
    labels (by score) whose score passes their best-F1 threshold, ``cap`` labels at most.

    Used for the reported family F1 (each evaluated item has at least one label of the
    family); acting uses :func:`decide` with the target-precision thresholds instead.
    """
    n, width = scores.shape
    out = np.zeros((n, width), dtype=np.int8)
    if not width or not n:
        return out
    t = np.array([np.inf if v is None else v for v in thresholds], dtype=np.float64)
    order = np.argsort(-scores, axis=1, kind="stable")
    rows = np.arange(n)
    out[rows, order[:, 0]] = 1
    for rank in range(1, min(cap, width)):
        k = order[:, rank]
        out[rows, k] = (scores[rows, k] >= t[k]).astype(np.int8)
    return out


def micro_f1(Y: np.ndarray, known: np.ndarray, D: np.ndarray) -> float:
    """Micro-F1 over known cells."""
    tp = int(((Y == 1) & (D == 1) & known).sum())
    fp = int(((Y == 0) & (D == 1) & known).sum())
    fn = int(((Y == 1) & (D == 0) & known).sum())
    return 2 * tp / max(2 * tp + fp + fn, 1)


def choose_cap(
    Y: np.ndarray,
    known: np.ndarray,
    oof: np.ndarray,
    thresholds: Sequence[float | None],
    caps: Sequence[int],
) -> int:
    """The cap whose :func:`top_decide` has the best out-of-fold micro-F1 (training only)."""
    rows = known.any(axis=1)
    scored = [
        (micro_f1(Y[rows], known[rows], top_decide(oof[rows], thresholds, c)), -c) for c in caps
    ]
    return -max(scored)[1]
