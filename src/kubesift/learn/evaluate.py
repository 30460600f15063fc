"""Evaluation of label scores on a test slice: per label, per family, binary task."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.metrics import average_precision_score, confusion_matrix

COVERAGE_GRID = (0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)


def prf(tp: int, fp: int, fn: int) -> dict[str, float]:
    """Precision, recall and F1 from counts (0 where undefined)."""
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return {"precision": round(p, 4), "recall": round(r, 4), "f1": round(f, 4)}


def _counts(y: np.ndarray, d: np.ndarray) -> tuple[int, int, int]:
    return (
        int(((y == 1) & (d == 1)).sum()),
        int(((y == 0) & (d == 1)).sum()),
        int(((y == 1) & (d == 0)).sum()),
    )


def label_metrics(
    labels: Sequence[str],
    Y: np.ndarray,
    known: np.ndarray,
    scores: np.ndarray,
    decisions: np.ndarray,
) -> dict[str, dict[str, Any]]:
    """Per label: P/R/F1 of ``decisions``, support, average precision of ``scores``."""
    out: dict[str, dict[str, Any]] = {}
    for j, name in enumerate(labels):
        rows = known[:, j]
        y, s, d = Y[rows, j], scores[rows, j], decisions[rows, j]
        ap = float(average_precision_score(y, s)) if 0 < y.sum() < len(y) else None
        out[name] = {
            **prf(*_counts(y, d)),
            "support": int(y.sum()),
            "predicted": int(d.sum()),
            "average_precision": None if ap is None else round(ap, 4),
        }
    return out


def family_metrics(Y: np.ndarray, known: np.ndarray, decisions: np.ndarray) -> dict[str, float]:
    """Micro and macro P/R/F1 over a family's labels (known cells only)."""
    tp = fp = fn = 0
    per = []
    for j in range(Y.shape[1]):
        rows = known[:, j]
        c = _counts(Y[rows, j], decisions[rows, j])
        tp, fp, fn = tp + c[0], fp + c[1], fn + c[2]
        if Y[rows, j].sum():
            per.append(prf(*c))
    micro = prf(tp, fp, fn)
    out = {f"micro_{k}": v for k, v in micro.items()}
    for key in ("precision", "recall", "f1"):
        out[f"macro_{key}"] = round(float(np.mean([m[key] for m in per])) if per else 0.0, 4)
    items_with = int((decisions.sum(axis=1) > 0).sum())
    out["coverage"] = round(items_with / max(len(decisions), 1), 4)
    return out


def binary_metrics(y: np.ndarray, decisions: np.ndarray) -> dict[str, Any]:
    """Accuracy, P/R/F1 and the confusion matrix [[tn, fp], [fn, tp]]."""
    cm = confusion_matrix(y, decisions, labels=[0, 1])
    return {
        "accuracy": round(float((y == decisions).mean()), 4),
        **prf(*_counts(y, decisions)),
        "confusion_matrix": cm.tolist(),
    }


def precision_coverage(y: np.ndarray, scores: np.ndarray) -> list[dict[str, float]]:
    """Precision and recall when acting on the top ``coverage`` share of items."""
    order = np.argsort(-scores)
    rows = []
    for cov in COVERAGE_GRID:
        k = max(round(cov * len(y)), 1)
        picked = order[:k]
        tp = int(y[picked].sum())
        rows.append(
            {
                "coverage": cov,
                "threshold": round(float(scores[order[k - 1]]), 4),
                "precision": round(tp / k, 4),
                "recall": round(tp / max(int(y.sum()), 1), 4),
            }
        )
    return rows
