"""The items model (``--source items``): issues' and PRs' own title and body.

Exports a generated Kubernetes-like history from the fake GitHub over loopback into a
temporary store, then trains ``kind/bug`` with the ``kind`` and ``sig`` families on a
``created:`` split (the newest fifth is the test slice). Reports F1, and the precision
and recall delivered at the 0.9 promise by forward thresholds (the default) and by the
earlier whole-period out-of-fold ones, overall and on issues alone (what the bot uses the
items model for).

The text is generated (titles and symptoms from a vocabulary; PR bodies carry real
release notes from ``../shared`` when found), so these figures show what the pipeline
does on a Kubernetes-shaped history, not how well it reads real issues.

    python bench/learn_items.py             # 20,000 items
    python bench/learn_items.py --quick     # 4,000 items (< 60 s)
    python bench/learn_items.py --json out.json
"""

from __future__ import annotations

import os
import tempfile
import time
from dataclasses import replace
from typing import Any

import numpy as np
from _measure import export_generated, quick_main

from kubesift.config import load_settings
from kubesift.learn.calibrate import decide, kind_thresholds
from kubesift.learn.dataset import Dataset, load_dataset, targets, temporal_split
from kubesift.learn.train import TrainSpec, acting_thresholds, align, train
from kubesift.reconcile.judge import newest_split
from kubesift.store import open_store

TARGET = 0.9


def delivered(Y: np.ndarray, known: np.ndarray, D: np.ndarray) -> tuple[float | None, float]:
    tp = int(((Y == 1) & (D == 1) & known).sum())
    predicted = int(((D == 1) & known).sum())
    positives = int(((Y == 1) & known).sum())
    return (round(tp / predicted, 4) if predicted else None), round(tp / max(positives, 1), 4)


def promise(dataset: Dataset, spec: TrainSpec, trained: Any) -> dict[str, Any]:
    """Delivered precision/recall at the 0.9 promise, per method, overall and on issues."""
    _, test_set = temporal_split(dataset, str(spec.split))
    fitted = trained.fitted
    te = align(targets(test_set, fitted.tr.labels), test_set, spec)
    scores = fitted.model.predict_proba(test_set.inputs())
    issues = np.array([e.kind == "issue" for e in test_set.examples])
    labels = list(fitted.tr.labels)
    out: dict[str, Any] = {"test_issues": int(issues.sum())}
    for tag, method in (("forward", "forward"), ("oof", "out-of-fold")):
        how = replace(spec, calibration=method)
        act, _ = acting_thresholds(how, fitted.tr, fitted.oof, fitted.fwd, fitted.blocks, TARGET)
        if tag == "forward" and fitted.by_kind:  # what the bot does: each kind its own
            kinds = [e.kind for e in test_set.examples]
            D = decide(scores, kind_thresholds(kinds, act, fitted.act_by_kind()))
        else:
            D = decide(scores, act)
        for group, cols in (
            ("bug", [labels.index("kind/bug")]),
            ("kind", [i for i, n in enumerate(labels) if n.startswith("kind/")]),
            ("sig", [i for i, n in enumerate(labels) if n.startswith("sig/")]),
        ):
            for scope, rows in (("all", np.ones(len(issues), bool)), ("issues", issues)):
                p, r = delivered(te.y[rows][:, cols], te.known[rows][:, cols], D[rows][:, cols])
                out[f"{tag}_{scope}_{group}_precision"] = p
                out[f"{tag}_{scope}_{group}_recall"] = r
        out[f"{tag}_abstains"] = sum(t is None for t in act)
    return out


def run(quick: bool) -> dict[str, Any]:
    count = 4_000 if quick else 20_000
    with tempfile.TemporaryDirectory(prefix="kubesift-bench-items-") as tmp:
        start = time.perf_counter()
        engine = open_store(load_settings({"KUBESIFT_HOME": tmp}))
        export_generated(engine, count)
        export_s = time.perf_counter() - start
        dataset = load_dataset(engine, "items")
        spec = TrainSpec(
            labels=("kind/bug",),
            families=("kind", "sig"),
            split=newest_split(dataset, 0.2),
            folds=3 if quick else 5,
            params={"use_char": False} if quick else {},
            compare=("majority",),
        )
        start = time.perf_counter()
        trained = train(dataset, spec)
        fit_s = time.perf_counter() - start
        m = trained.metrics["models"][spec.model]
        figures: dict[str, Any] = {
            "quick": quick,
            "cpus": os.cpu_count(),
            "generated_items": count,
            "examples": len(dataset),
            "split": spec.split,
            "train_items": trained.metrics["train_items"],
            "test_items": trained.metrics["test_items"],
            "export_seconds": round(export_s, 1),
            "train_seconds": round(fit_s, 1),
            "bug_f1_t05": m["kind/bug"]["at_0.5"]["binary"]["f1"],
            "bug_majority_accuracy": m["kind/bug"]["majority_accuracy"],
            "kind_f1_best_f1": m["family:kind"]["best_f1"]["family"]["micro_f1"],
            "sig_f1_best_f1": m["family:sig"]["best_f1"]["family"]["micro_f1"],
        }
        return figures | promise(dataset, spec, trained)


def print_table(f: dict[str, Any]) -> None:
    print(
        f"items model on {f['examples']:,} exported items ({f['split']}: "
        f"{f['train_items']:,} train / {f['test_items']:,} test, {f['test_issues']:,} issues)"
    )
    print(
        f"kind/bug F1 at 0.5: {f['bug_f1_t05']}; kind micro-F1 {f['kind_f1_best_f1']}; "
        f"sig micro-F1 {f['sig_f1_best_f1']}"
    )
    print(
        f"\nat the {TARGET} promise   {'bug P':>7} {'bug R':>7} {'kind P':>7} {'kind R':>7} "
        f"{'sig P':>7} {'sig R':>7}"
    )
    for tag in ("forward", "oof"):
        for scope in ("all", "issues"):
            row = f"{tag + ', ' + scope:22}"
            for g in ("bug", "kind", "sig"):
                for what in ("precision", "recall"):
                    v = f[f"{tag}_{scope}_{g}_{what}"]
                    row += f" {'–' if v is None else f'{v:.3f}':>7}"
            print(row)
    print(f"\nexport {f['export_seconds']} s, train (evaluation run) {f['train_seconds']} s")


def main() -> None:
    quick_main(__doc__ or "", run, print_table, "4,000 items, words only")


if __name__ == "__main__":
    main()
