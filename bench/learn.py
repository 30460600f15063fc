"""Label-model benchmark: F1 on the reference split, and whether acting thresholds keep
their promise on later releases.

Imports the shared release notes into a temporary store and trains the default model on
``kind/bug`` and the ``kind`` and ``sig`` families. On the reference split (train ≤ 1.29,
test 1.30–1.33) it compares F1 with ``seed-mlp`` (the original recipe) and the majority
class. On that split and a second forward split (train ≤ 1.31, test 1.32–1.33) it reports,
at target precisions 0.8 / 0.9 / 0.95, the precision and recall delivered on the test
releases by thresholds chosen forward in time (the default) and by the earlier
whole-period out-of-fold method, side by side from the same fit. Also times batch
prediction and model load.

    python bench/learn.py             # 5 folds, full numbers
    python bench/learn.py --quick     # 3 folds, words+author only, no seed-mlp (< 60 s)
    python bench/learn.py --json out.json
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

from _measure import print_figures, quick_main

from kubesift.collect.importer import import_release_notes
from kubesift.config import load_settings
from kubesift.learn import Predictor
from kubesift.learn.dataset import Dataset, load_dataset, targets, temporal_split
from kubesift.learn.service import save_trained
from kubesift.learn.train import (
    TrainSpec,
    acting_thresholds,
    align,
    evaluate,
    fit_and_calibrate,
    train,
)
from kubesift.store import open_store

ROOT = Path(__file__).resolve().parent.parent


def notes_dir() -> Path:
    from kubesift.config import SHARED, find_datasets

    return (find_datasets() or SHARED / "datasets") / "k8s-release-notes"


GROUPS = (("kind/bug", "bug"), ("family:kind", "kind"), ("family:sig", "sig"))
SPLITS = (("ref", "release:1.30..1.33"), ("fwd", "release:1.32..1.33"))
TARGETS = (0.8, 0.9, 0.95)
METHODS = (("forward", "forward"), ("oof", "out-of-fold"))


def figures_of(
    metrics: dict[str, Any], model: str, prefix: str, wanted: tuple[tuple[str, str], ...] = GROUPS
) -> dict[str, Any]:
    out: dict[str, Any] = {}
    groups = metrics["models"][model]
    for group, key in wanted:
        entry = groups[group]
        for rule in ("at_0.5", "best_f1", "target_precision"):
            if rule not in entry:
                continue
            m = entry[rule].get("binary") or entry[rule]["family"]
            f1 = m.get("f1", m.get("micro_f1"))
            tag = rule.replace("at_0.5", "t05").replace("target_precision", "p90")
            out[f"{prefix}_{key}_f1_{tag}"] = f1
            if rule == "target_precision":
                out[f"{prefix}_{key}_precision_p90"] = m.get("precision", m.get("micro_precision"))
                out[f"{prefix}_{key}_recall_p90"] = m.get("recall", m.get("micro_recall"))
        if key == "bug":
            out[f"{prefix}_bug_accuracy_t05"] = entry["at_0.5"]["binary"]["accuracy"]
    return out


def embed_side_by_side(dataset: Dataset, folds: int) -> dict[str, Any]:
    """sift-linear and sift-embed fit on the same split in one run (``train``'s compare):
    does the sentence encoder help on release notes? (``KUBESIFT_BENCH_EMBED_ONLY=1``)"""
    from kubesift.learn.embedded import NAME, unavailable

    why = unavailable()
    if why is not None:
        sys.exit(f"sift-embed cannot run: {why}")
    spec = TrainSpec(labels=("kind/bug",), families=("kind", "sig"),
                     split="release:1.30..1.33", folds=folds, compare=(NAME,))  # fmt: skip
    start = time.perf_counter()
    trained = train(dataset, spec)
    figures: dict[str, Any] = {"seconds": round(time.perf_counter() - start, 1)}
    figures |= figures_of(trained.metrics, spec.model, "linear")
    figures |= figures_of(trained.metrics, NAME, "embed")
    figures["embed_fit_seconds"] = trained.metrics["models"][NAME].get("fit_seconds")
    return figures


def run(quick: bool) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="kubesift-bench-learn-") as tmp:
        home = Path(tmp)
        engine = open_store(load_settings({"KUBESIFT_HOME": str(home)}))
        import_release_notes(engine, [str(notes_dir())])
        dataset = load_dataset(engine)
        if os.environ.get("KUBESIFT_BENCH_EMBED_ONLY") == "1":
            return embed_side_by_side(dataset, 3 if quick else 5)
        spec = TrainSpec(
            labels=("kind/bug",),
            families=("kind", "sig"),
            split="release:1.30..1.33",
            folds=3 if quick else 5,
            params={"use_char": False} if quick else {},
            compare=("majority",) if quick else ("seed-mlp", "majority"),
        )
        start = time.perf_counter()
        trained = train(dataset, spec)
        total = time.perf_counter() - start
        promises = promise_figures(dataset, spec, trained)
        version = save_trained(home / "models", trained)
        start = time.perf_counter()
        predictor = Predictor.load(home / "models")
        load_s = time.perf_counter() - start
        texts = [{"text": e.text, "author": e.author} for e in dataset.examples[-2000:]]
        start = time.perf_counter()
        predictor.predict(texts, explain=0)
        per_s = len(texts) / (time.perf_counter() - start)
        metrics = trained.metrics
        figures: dict[str, Any] = {
            "quick": quick,
            "cpus": os.cpu_count(),
            "train_items": metrics["train_items"],
            "test_items": metrics["test_items"],
            "fit_seconds_all_three": metrics["fit_seconds"],
            "train_and_compare_seconds": round(total, 2),
            "seed_mlp_fit_seconds": metrics["models"].get("seed-mlp", {}).get("fit_seconds"),
            "predict_texts_per_s": round(per_s),
            "model_load_seconds": round(load_s, 3),
            "model_bytes": (version.path / "model.skops").stat().st_size,
            "majority_bug_accuracy": metrics["models"][spec.model]["kind/bug"]["majority_accuracy"],
        }
        figures |= figures_of(metrics, spec.model, "default")
        if "seed-mlp" in metrics["models"]:
            figures |= figures_of(metrics, "seed-mlp", "seed")
        figures |= promises
        never = [n for n, t in zip(trained.labels, trained.thresholds, strict=True) if t is None]
        figures["never_predicted_labels"] = len(never)
        figures["labels"] = len(trained.labels)
        figures["f1_decode_caps"] = trained.f1_caps
        if not quick:
            figures |= area_figures(dataset, spec)
            figures |= embed_figures(dataset, spec)
        return figures


def embed_figures(dataset: Dataset, spec: TrainSpec) -> dict[str, Any]:
    """sift-embed (sentence embeddings beside sift-linear) on the same splits, when an
    encoder is installed: F1 on the reference split and the promises it delivers."""
    from kubesift.learn.embedded import NAME, unavailable

    why = unavailable()
    if why is not None:
        print(f"sift-embed not measured: {why}")
        return {"embed_measured": False}
    embed = replace(spec, model=NAME, compare=())
    start = time.perf_counter()
    trained = train(dataset, embed)
    figures: dict[str, Any] = {
        "embed_measured": True,
        "embed_fit_seconds": trained.metrics["fit_seconds"],
        "embed_train_seconds": round(time.perf_counter() - start, 2),
    }
    figures |= figures_of(trained.metrics, NAME, "embed")
    figures |= {f"embed_{k}": v for k, v in promise_figures(dataset, embed, trained).items()}
    return figures


def promise_figures(dataset: Dataset, spec: TrainSpec, reference: Any) -> dict[str, Any]:
    """Delivered vs promised precision, per split × target × method, from one fit per split
    (the reference split's fit is the one ``train`` already made)."""
    out: dict[str, Any] = {}
    for key, split in SPLITS:
        train_set, test_set = temporal_split(dataset, split)
        fitted = reference.fitted if split == spec.split else fit_and_calibrate(train_set, spec)
        tr = fitted.tr
        te = align(targets(test_set, tr.labels), test_set, spec)
        scores = fitted.model.predict_proba(test_set.inputs())
        out[f"{key}_train_items"], out[f"{key}_test_items"] = len(train_set), len(test_set)
        out |= ceiling(key, te, scores, list(tr.labels).index("kind/bug"))
        for target in TARGETS:
            for tag, method in METHODS:
                how = replace(spec, calibration=method)
                act, cal = acting_thresholds(how, tr, fitted.oof, fitted.fwd, fitted.blocks, target)
                result = evaluate(how, tr.labels, te, scores, act, None)
                prefix = f"{key}_{tag}_{round(target * 100)}"
                out |= delivered_figures(prefix, result)
                out[f"{prefix}_abstains"] = sum(t is None for t in act)
                if cal is not None:
                    bug = cal[list(tr.labels).index("kind/bug")]
                    out[f"{prefix}_bug_promised"] = bug.expected_precision
                    out[f"{prefix}_bug_interval"] = list(bug.interval) if bug.interval else None
    return out


def delivered_figures(prefix: str, result: dict[str, Any]) -> dict[str, Any]:
    """Delivered precision and recall per group, and the 90 % interval (Clopper–Pearson)
    of that precision on the test slice: a slice of a few hundred items measures it only
    to a few points, so a miss counts when even the interval's top is under the promise."""
    import numpy as np

    from kubesift.learn.forward import lower_bound, upper_bound

    out: dict[str, Any] = {}
    for group, key in GROUPS:
        entry = result[group]["target_precision"]
        m = entry.get("binary") or entry["family"]
        out[f"{prefix}_{key}_precision"] = m.get("precision", m.get("micro_precision"))
        out[f"{prefix}_{key}_recall"] = m.get("recall", m.get("micro_recall"))
        labels = entry["labels"].values()
        predicted = sum(int(v["predicted"]) for v in labels)
        tp = sum(round(float(v["precision"] or 0) * int(v["predicted"])) for v in labels)
        out[f"{prefix}_{key}_predicted"] = predicted
        if predicted:
            tp_a, n_a = np.array([tp]), np.array([predicted])
            low, high = lower_bound(tp_a, n_a)[0], upper_bound(tp_a, n_a)[0]
            out[f"{prefix}_{key}_precision_interval"] = [
                round(float(low), 3),
                round(float(high), 3),
            ]
    return out


def ceiling(key: str, te: Any, scores: Any, j: int) -> dict[str, Any]:
    """The best precision any threshold reaches on the test slice itself at kind/bug
    recall ≥ 0.60: what no calibration can beat."""
    import numpy as np
    from sklearn.metrics import precision_recall_curve

    rows = te.known[:, j]
    precision, recall, _ = precision_recall_curve(te.y[rows, j], scores[rows, j])
    best = float(np.max(precision[recall >= 0.6]))
    return {f"{key}_bug_best_precision_at_recall_60": round(best, 4)}


def area_figures(dataset: Any, spec: TrainSpec) -> dict[str, Any]:
    """The ``area`` family on its own (not part of the "all three" timing)."""
    area = TrainSpec(
        labels=(), families=("area",), split=spec.split, folds=spec.folds, compare=("seed-mlp",)
    )
    trained = train(dataset, area)
    wanted = (("family:area", "area"),)
    figures = figures_of(trained.metrics, area.model, "default", wanted)
    figures |= figures_of(trained.metrics, "seed-mlp", "seed", wanted)
    figures["area_labels"] = len(trained.labels)
    figures["area_fit_seconds"] = trained.metrics["fit_seconds"]
    return figures


def print_table(f: dict[str, Any]) -> None:
    rows = [
        ("kind/bug F1 (t=0.5)", "bug_f1_t05", 0.80),
        ("kind/bug F1 (best-F1 thr, OOF)", "bug_f1_best_f1", 0.80),
        ("kind family micro-F1 (t=0.5)", "kind_f1_t05", 0.72),
        ("kind family micro-F1 (top-1 + OOF thr)", "kind_f1_best_f1", 0.72),
        ("sig family micro-F1 (t=0.5)", "sig_f1_t05", 0.70),
        ("sig family micro-F1 (top-1 + OOF thr)", "sig_f1_best_f1", 0.70),
        ("area family micro-F1 (t=0.5)", "area_f1_t05", None),
        ("area family micro-F1 (top-1 + OOF thr)", "area_f1_best_f1", None),
    ]
    print(f"{'metric':40} {'default':>9} {'seed-mlp':>9} {'target':>7}")
    print("(seed-mlp acts at 0.5 only, as the original recipe did; family F1 at best-F1 uses")
    print(f" the top-1 decode with caps {f.get('f1_decode_caps')} chosen out of fold)")
    for title, key, target in rows:
        d, s = f.get(f"default_{key}"), f.get(f"seed_{key}")
        if d is not None:
            print(f"{title:40} {_fmt(d):>9} {_fmt(s):>9} {target or '–':>7}")
    for fam in ("bug", "kind", "sig", "area"):
        if f"default_{fam}_precision_p90" not in f:
            continue
        p, r = f.get(f"default_{fam}_precision_p90"), f.get(f"default_{fam}_recall_p90")
        print(f"default, {fam} at the p=0.9 thresholds: precision {_fmt(p)}, recall {_fmt(r)}")
    print_promises(f)
    if f.get("embed_measured"):
        print()
        print("sift-embed (sentence embeddings beside sift-linear), same reference split:")
        for title, key, _ in rows[:6]:
            ours, linear = f.get(f"embed_{key}"), f.get(f"default_{key}")
            print(f"{title:40} {_fmt(ours):>9} (default {_fmt(linear)})")
        print_promises(
            {k.removeprefix("embed_"): v for k, v in f.items() if k.startswith("embed_")}
        )
        print(f"sift-embed fit (all three): {f['embed_fit_seconds']} s")
    print(f"fit (all three, incl. OOF and forward calibration): {f['fit_seconds_all_three']} s")
    print(f"batch prediction: {f['predict_texts_per_s']} texts/s (≥ 2000)")
    print(f"model load: {f['model_load_seconds']} s (≤ 1)")


def print_promises(f: dict[str, Any]) -> None:
    print()
    print("Delivered precision / recall on the test releases at each promised precision")
    print("(forward: thresholds chosen forward in time with a 95 % lower bound, the default;")
    print(" oof: whole-period out-of-fold point estimate, the earlier method; same fit)")
    header = f"{'split':22} {'promised':>8} {'method':>8}"
    for _, key in GROUPS:
        header += f" {key + ' P':>8} {key + ' R':>8}"
    print(header + f" {'abstain':>7}")
    for key, split in SPLITS:
        name = f"{split.split(':')[1]} ({f[f'{key}_train_items']}/{f[f'{key}_test_items']})"
        for target in TARGETS:
            for tag, _ in METHODS:
                prefix = f"{key}_{tag}_{round(target * 100)}"
                row = f"{name:22} {target:>8} {tag:>8}"
                for _, g in GROUPS:
                    p, r = f[f"{prefix}_{g}_precision"], f[f"{prefix}_{g}_recall"]
                    high = (f.get(f"{prefix}_{g}_precision_interval") or [0, 1])[1]
                    mark = "!" if high < target else ("~" if p < target and r else " ")
                    row += f" {_fmt(p):>7}{mark} {_fmt(r):>8}"
                print(row + f" {f[f'{prefix}_abstains']:>7}")
        best = f[f"{key}_bug_best_precision_at_recall_60"]
        print(f"{'':22} kind/bug: best precision at recall ≥ 0.60 on this test slice: {best}")
    print("(~ = under the promise, within the 90 % interval of the test slice's precision;")
    print(" ! = under it beyond that interval; a precision of 0 with recall 0 = abstains)")


def _fmt(v: Any) -> str:
    return "–" if v is None else f"{v:.3f}"


def main() -> None:
    table = print_table
    if os.environ.get("KUBESIFT_BENCH_EMBED_ONLY") == "1":

        def table(figures: dict[str, Any]) -> None:
            print_figures({k: v for k, v in figures.items() if v is not None}, None)

    quick_main(__doc__ or "", run, table, "3 folds, words+author only, no seed-mlp")


if __name__ == "__main__":
    main()
