"""Offline judgement: the candidate and production scored on the same newest slice."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kubesift.learn.dataset import Dataset, minor_of, parse_split, targets, temporal_split
from kubesift.learn.train import TrainSpec, align, evaluate
from kubesift.reconcile.policy import SliceScores

RULE = "best_f1"


def newest_split(dataset: Dataset, fraction: float) -> str:
    """A split spec whose test side is the newest ``fraction`` of the examples: by
    release when most examples have one (release notes), else by creation time."""
    examples = dataset.examples
    with_release = [e.release for e in examples if e.release]
    if len(with_release) * 2 >= len(examples):
        per_minor: dict[tuple[int, int], int] = {}
        for r in with_release:
            per_minor[minor_of(r)] = per_minor.get(minor_of(r), 0) + 1
        minors = sorted(per_minor)
        wanted, seen = fraction * len(with_release), 0
        for i in range(len(minors) - 1, 0, -1):
            seen += per_minor[minors[i]]
            if seen >= wanted:
                return f"release:{minors[i][0]}.{minors[i][1]}"
        first = minors[1] if len(minors) > 1 else minors[0]
        return f"release:{first[0]}.{first[1]}"
    created = sorted(e.created_at for e in examples if e.created_at)
    if len(created) < 2:
        return "created:9999-12-31"
    boundary = created[min(int(len(created) * (1 - fraction)), len(created) - 1)]
    return f"created:{boundary}"


def later_split(a: str, b: str | None) -> str:
    """Of two split specs of the same kind, the one whose test side starts later."""
    if not b:
        return a
    ka, sa, _ = parse_split(a)
    kb, sb, _ = parse_split(b)
    if ka != kb:
        return a
    if ka == "release":
        return a if minor_of(sa) >= minor_of(sb) else f"release:{sb}"
    return a if sa >= sb else f"created:{sb}"


def slice_scores(dataset: Dataset, split: str, model: Any, meta: Mapping[str, Any]) -> SliceScores:
    """F1 per label (at the model's own best-F1 rule) and micro-F1 per family."""
    _, test_set = temporal_split(dataset, split)
    spec = TrainSpec(
        labels=tuple(meta.get("tasks") or ()),
        families=tuple(meta.get("families") or ()),
        model=str(meta.get("model", "")),
        split=split,
    )
    labels = tuple(meta["labels"])
    te = align(targets(test_set, labels), test_set, spec)
    scores = model.predict_proba(test_set.inputs())
    caps = {k: int(v) for k, v in (meta.get("f1_caps") or {}).items()}
    best = meta.get("f1_thresholds") or meta["thresholds"]
    result = evaluate(spec, labels, te, scores, meta["thresholds"], best, caps)
    per_label: dict[str, tuple[float, int]] = {}
    families: dict[str, float] = {}
    for group, rules in result.items():
        entry = rules[RULE]
        family = group.removeprefix("family:") if group.startswith("family:") else None
        for name, m in entry["labels"].items():
            key = name if family is None else f"{name} [{family}]"
            per_label[key] = (float(m["f1"]), int(m["support"]))
        if family is not None:
            families[family] = float(entry["family"]["micro_f1"])
    return SliceScores(per_label, families)
