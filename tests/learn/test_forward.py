"""Forward-in-time calibration: thresholds that keep their promise after drift."""

from __future__ import annotations

import random
from dataclasses import replace

import numpy as np
import pytest

from kubesift.learn.dataset import Dataset, Example
from kubesift.learn.forward import (
    NOT_FORWARD,
    calibrate_label,
    forward_blocks,
    lower_bound,
)
from kubesift.learn.train import TrainSpec, train

TARGET = 0.9


def drifting(seed: int = 5, per_release: int = 150) -> Dataset:
    """Releases 1.10–1.29. "panic" reports stay bugs (97 %); "crash" reports drift from
    bugs (98 % in 1.10) to mostly not (55 % by 1.29): a whole-period view averages the
    drift away, the newest releases show it."""
    rng = random.Random(seed)
    examples = []
    for minor in range(10, 30):
        crash_rate = 0.98 - (minor - 10) * (0.43 / 19)
        for i in range(per_release):
            kind = rng.choices(["crash", "panic", "other"], [0.3, 0.15, 0.55])[0]
            p = {"crash": crash_rate, "panic": 0.97, "other": 0.04}[kind]
            bug = rng.random() < p
            filler = " ".join(rng.sample(["node", "pod", "volume", "proxy", "api", "dns"], 2))
            examples.append(
                Example(
                    id=f"{minor}-{i}",
                    text=f"{kind} seen in {filler}",
                    release=f"1.{minor}.0",
                    positives=frozenset({"kind/bug"} if bug else {"kind/feature"}),
                )
            )
    return Dataset(examples)


def delivered(calibration: str) -> tuple[float, dict[str, object]]:
    spec = TrainSpec(
        labels=("kind/bug",),
        split="release:1.26",
        compare=(),
        folds=4,
        params={"use_char": False, "use_author": False, "use_docs": False},
        calibration=calibration,
        target_precision=TARGET,
    )
    trained = train(drifting(), spec)
    entry = trained.metrics["models"][spec.model]["kind/bug"]["target_precision"]["binary"]
    return float(entry["precision"]), trained.metrics["calibration"]


def test_whole_period_thresholds_miss_the_target_and_forward_ones_meet_it() -> None:
    oof_precision, _ = delivered("out-of-fold")
    forward_precision, cal = delivered("forward")
    assert oof_precision < TARGET  # the earlier method's promise breaks on newer releases
    assert forward_precision >= TARGET
    bug = cal["labels"]["kind/bug"]  # type: ignore[index]
    low, high = bug["interval"]
    assert TARGET <= low <= bug["expected_precision"] <= high
    assert bug["recent_rate"] < bug["positives"] / bug["scored"]  # bugs became rarer


def test_blocks_are_the_newest_items_in_time_order() -> None:
    data = drifting(per_release=20)
    blocks = forward_blocks(data, folds=4)
    minors = [int(e.release.split(".")[1]) for e in data.examples]  # type: ignore[union-attr]
    assert set(blocks.tolist()) == {NOT_FORWARD, 1, 2, 3, 4}
    newest_old = max(m for m, b in zip(minors, blocks, strict=True) if b == NOT_FORWARD)
    oldest_forward = min(m for m, b in zip(minors, blocks, strict=True) if b > 0)
    assert newest_old < oldest_forward  # whole releases, the old ones only trained on
    for b in (1, 2, 3):  # each block strictly before the next
        assert max(np.array(minors)[blocks == b]) < min(np.array(minors)[blocks == b + 1])
    assert 0.3 <= (blocks > 0).mean() <= 0.5


def test_a_label_that_cannot_reach_the_target_abstains_with_its_best() -> None:
    rng = np.random.default_rng(0)
    y = (rng.random(400) < 0.5).astype(np.int8)
    scores = rng.random(400)  # unrelated to the label: about half right at any threshold
    cal = calibrate_label("sig/weak", y, scores, TARGET)
    assert cal.threshold is None and cal.expected_precision is None
    assert cal.best_precision is not None and cal.best_lower_bound is not None
    assert cal.best_lower_bound < TARGET


def test_the_bound_needs_evidence_not_only_a_perfect_record() -> None:
    # 10 of 10 right is 100 % precise, but its 95 % lower bound is 0.74: not 0.9.
    assert lower_bound(np.array([10]), np.array([10]))[0] == pytest.approx(0.741, abs=0.001)
    y = np.array([1] * 10 + [0] * 30, dtype=np.int8)
    scores = np.linspace(1, 0, 40)
    assert calibrate_label("x", y, scores, TARGET).threshold is None
    y = np.array([1] * 40 + [0] * 40, dtype=np.int8)
    scores = np.linspace(1, 0, 80)
    cal = calibrate_label("x", y, scores, TARGET)
    assert cal.threshold is not None and cal.predicted >= 28  # 0.95**(1/n) ≥ 0.9 from n = 29


def test_each_item_kind_acts_with_its_own_thresholds() -> None:
    from kubesift.learn.models import make_model
    from kubesift.learn.predictor import Predictor

    model = make_model("majority").fit([{"text": "a"}] * 4, np.array([[1], [0], [1], [0]]))
    meta = {"labels": ["kind/bug"], "thresholds": [0.4], "thresholds_by_kind": {"issue": [None]}}
    predictor = Predictor(model, meta)
    pr, issue = predictor.predict([{"text": "x", "kind": "pr"}, {"text": "x", "kind": "issue"}])
    assert pr.scores == issue.scores == {"kind/bug": 0.5}
    assert pr.labels == ["kind/bug"] and issue.labels == []  # issues abstain on kind/bug


def test_no_threshold_that_only_restates_the_base_rate() -> None:
    """react's kind/bug: a forward slice of 120 items, 100 of them bugs, scores that barely
    separate them. Labelling everything 'reaches' 0.83 precision re-weighted to a newest
    rate near 1; it must abstain and say why instead of promising 0.977."""
    rng = np.random.default_rng(1)
    y = np.array([1] * 100 + [0] * 20, dtype=np.int8)
    scores = rng.random(120)  # scores that do not separate bugs from the rest
    cal = calibrate_label("kind/bug", y, scores, TARGET, recent_rate=0.99)
    assert cal.threshold is None
    assert cal.why and "no better than the base rate" in cal.why
    # Too few negatives to tell a threshold from the base rate at all.
    few = np.array([1] * 100 + [0] * 5, dtype=np.int8)
    cal = calibrate_label("kind/bug", few, np.linspace(1, 0, 105), TARGET)
    assert cal.threshold is None and cal.why and "5 negatives" in cal.why
    # A threshold that does separate: it acts, with its lift and how much it labels.
    y = np.array([1] * 60 + [0] * 60, dtype=np.int8)
    cal = calibrate_label("kind/bug", y, np.linspace(1, 0, 120), TARGET)
    assert cal.threshold is not None and cal.why is None
    assert cal.lift is not None and cal.lift > 1.5
    assert cal.labelled_share is not None and 0 < cal.labelled_share <= 0.55


def test_the_more_conservative_of_forward_and_stratified_checks_is_kept() -> None:
    from kubesift.learn.calibrate import stratified_fold_ids
    from kubesift.learn.forward import conservative

    y = np.array([1] * 60 + [0] * 60, dtype=np.int8)
    loose = calibrate_label("kind/bug", y, np.linspace(1, 0, 120), TARGET)
    strict = replace(loose, threshold=(loose.threshold or 0) + 0.1)
    assert conservative(loose, strict).threshold == strict.threshold
    assert conservative(loose, strict).decided_by == "stratified"
    assert conservative(strict, loose) is strict
    refused = calibrate_label("kind/bug", y, np.random.default_rng(0).random(120), TARGET)
    both = conservative(loose, refused)
    assert both.threshold is None and both.why and both.why.startswith("class-stratified folds")
    # Each class is spread evenly over the folds, whatever order the items came in.
    Y = np.array([[1, 0]] * 90 + [[0, 1]] * 30)
    folds = stratified_fold_ids(Y, np.ones_like(Y, dtype=bool), 3)
    for f in range(3):
        assert Y[folds == f, 0].sum() == 30 and Y[folds == f, 1].sum() == 10
