"""Needs a human? A calibrated score per incident, its explanation, and the thresholds.

Cold start: the rules' severity as a prior, moved by the feedback on the same alertname
(a Beta-Bernoulli rate). With enough feedback: a logistic regression on the fire-time
feature snapshot, recent feedback weighing more (so it follows drift), labels that the
model confidently contradicts set aside (the share of wrong feedback is real), and the
page threshold picked on forward-in-time folds so that recall of needs-a-human reaches
the target. Saved as plain JSON (weights by feature name), never pickled.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

PRIOR = {
    ("alertmanager", "critical"): 0.95,
    ("alertmanager", "warning"): 0.5,
    ("alertmanager", "info"): 0.1,
    ("k8s-event", "warning"): 0.2,
    ("log", "info"): 0.1,
}
PRIOR_STRENGTH = 2.0
COLD_PAGE = 0.4  # the prior's page threshold: warnings page, as Alertmanager would
COLD_DIGEST = 0.15
MIN_LABELS = 30  # and at least MIN_CLASS of each answer
MIN_CLASS = 5
#: Answers lose half their weight in this many days, so the model follows drift.
HALF_LIFE_DAYS = 7.0
MARGIN = 1.0  # scales the forward threshold (below 1: page more to be safe)


@dataclass(frozen=True)
class Example:
    """One judged incident: its snapshot, and what the people on call said."""

    at: float  # seconds since the epoch, when it opened
    features: Mapping[str, float]
    severity: str
    needs_human: bool
    weight: float = 1.0  # explicit feedback 1, implicit less


@dataclass
class TriageModel:
    kind: str  # prior | logistic
    page: float
    digest: float
    weights: dict[str, float] = field(default_factory=dict)
    intercept: float = 0.0
    rates: dict[str, list[int]] = field(default_factory=dict)  # name -> [yes, judged]
    meta: dict[str, Any] = field(default_factory=dict)

    def score(self, f: Mapping[str, float]) -> tuple[float, list[tuple[str, float]]]:
        """P(needs a human) and the features that weighed most, strongest first."""
        if self.kind == "prior":
            return self._prior(f)
        parts = [(k, self.weights[k] * v) for k, v in f.items() if k in self.weights and v]
        z = self.intercept + sum(w for _, w in parts)
        parts.sort(key=lambda kv: -abs(kv[1]))
        return _sigmoid(z), [(k, round(w, 3)) for k, w in parts[:5]]

    def _prior(self, f: Mapping[str, float]) -> tuple[float, list[tuple[str, float]]]:
        source = _value(f, "source=")
        severity = _value(f, "severity=")
        name = _value(f, "name=")
        prior = PRIOR.get((source, severity), 0.0 if severity == "none" else 0.3)
        yes, judged = self.rates.get(name, [0, 0])
        p = (PRIOR_STRENGTH * prior + yes) / (PRIOR_STRENGTH + judged)
        why = [(f"prior: {source} {severity}", round(prior, 3))]
        if judged:
            why.append((f"feedback on {name}: {yes} of {judged} needed a human", round(p, 3)))
        return p, why

    def to_json(self) -> str:
        return json.dumps(
            {
                "format": "kubesift-alerts-model/1",
                "kind": self.kind,
                "page": self.page,
                "digest": self.digest,
                "intercept": self.intercept,
                "weights": self.weights,
                "rates": self.rates,
                "meta": self.meta,
            },
            sort_keys=True,
        )

    @classmethod
    def from_json(cls, text: str) -> TriageModel:
        d = json.loads(text)
        if d.get("format") != "kubesift-alerts-model/1":
            raise ValueError(f"not a kubesift alerts model (format {d.get('format')!r})")
        return cls(
            kind=d["kind"],
            page=float(d["page"]),
            digest=float(d["digest"]),
            weights={k: float(v) for k, v in d["weights"].items()},
            intercept=float(d["intercept"]),
            rates={k: [int(a), int(b)] for k, (a, b) in d["rates"].items()},
            meta=d.get("meta", {}),
        )


def cold_start() -> TriageModel:
    return TriageModel(kind="prior", page=COLD_PAGE, digest=COLD_DIGEST)


def _value(f: Mapping[str, float], prefix: str) -> str:
    return next((k[len(prefix) :] for k in f if k.startswith(prefix)), "")


def _sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-max(-40.0, min(40.0, z))))


def prior_model(examples: Sequence[Example]) -> TriageModel:
    rates: dict[str, list[int]] = {}
    for e in examples:
        r = rates.setdefault(_value(e.features, "name="), [0, 0])
        r[0] += int(e.needs_human)
        r[1] += 1
    return TriageModel(
        kind="prior", page=COLD_PAGE, digest=COLD_DIGEST, rates=rates,
        meta={"examples": len(examples)},
    )  # fmt: skip


def enough(examples: Sequence[Example]) -> bool:
    yes = sum(e.needs_human for e in examples)
    return len(examples) >= MIN_LABELS and min(yes, len(examples) - yes) >= MIN_CLASS


def fit(
    examples: Sequence[Example],
    *,
    now: float,
    half_life_days: float = HALF_LIFE_DAYS,
    c: float = 1.0,
) -> TriageModel:
    """A logistic regression on ``examples`` (thresholds not yet chosen)."""
    from sklearn.feature_extraction import DictVectorizer
    from sklearn.linear_model import LogisticRegression

    vec = DictVectorizer()
    x = vec.fit_transform([dict(e.features) for e in examples])
    y = np.array([e.needs_human for e in examples], dtype=int)
    age = np.array([(now - e.at) / 86400.0 for e in examples])
    w = np.array([e.weight for e in examples]) * np.power(0.5, np.maximum(age, 0) / half_life_days)
    # No class re-weighting: the scores must stay probabilities (set-aside and thresholds
    # read them as such).
    clf = LogisticRegression(C=c, max_iter=2000)
    clf.fit(x, y, sample_weight=w / w.mean())
    weights = {
        name: round(float(coef), 6)
        for name, coef in zip(vec.get_feature_names_out(), clf.coef_[0], strict=True)
        if abs(coef) > 1e-9
    }
    return TriageModel(
        kind="logistic", page=0.5, digest=0.25, weights=weights,
        intercept=float(clf.intercept_[0]),
    )  # fmt: skip


def recall_threshold(
    scores: Sequence[float], labels: Sequence[bool], critical: Sequence[bool], target: float
) -> float:
    """The highest threshold at which paging ``score >= t`` (critical always paged)
    catches at least ``target`` of the incidents that needed a human."""
    positives = sum(labels)
    if positives == 0:
        return 0.5
    missable = math.floor((1.0 - target) * positives + 1e-9)
    pos = sorted(s for s, y, crit in zip(scores, labels, critical, strict=True) if y and not crit)
    if len(pos) <= missable:
        return 1.0
    return pos[missable]


def forward_scores(
    examples: Sequence[Example], *, folds: int, half_life_days: float
) -> list[tuple[float, Example]]:
    """Each later chunk scored by a model fitted on everything before it (time order)."""
    ordered = sorted(examples, key=lambda e: e.at)
    size = len(ordered) // (folds + 1)
    out: list[tuple[float, Example]] = []
    for k in range(1, folds + 1):
        past, chunk = ordered[: k * size], ordered[k * size : (k + 1) * size]
        if k == folds:
            chunk = ordered[k * size :]
        if not chunk or not enough(past):
            continue
        model = fit(past, now=past[-1].at, half_life_days=half_life_days)
        out.extend((model.score(e.features)[0], e) for e in chunk)
    return out


def out_of_fold(
    examples: Sequence[Example], *, now: float, half_life_days: float, folds: int = 5
) -> list[tuple[float, Example]]:
    """Each example scored by a model fitted on the other folds (shuffled, seeded)."""
    order = np.random.default_rng(0).permutation(len(examples))
    scored: list[tuple[float, Example] | None] = [None] * len(examples)
    for k in range(folds):
        held = set(order[k::folds].tolist())
        rest = [e for i, e in enumerate(examples) if i not in held]
        if not enough(rest):
            return [(0.5, e) for e in examples]
        model = fit(rest, now=now, half_life_days=half_life_days)
        for i in held:
            scored[i] = (model.score(examples[i].features)[0], examples[i])
    return [s for s in scored if s is not None]


def clean(scored: Sequence[tuple[float, Example]]) -> set[int]:
    """The indices of labels the model confidently contradicts (confident learning's
    rule, Northcutt et al. 2021: the other class's probability reaches that class's mean
    self-confidence, and is the larger)."""
    pos = [s for s, e in scored if e.needs_human]
    neg = [1 - s for s, e in scored if not e.needs_human]
    if not pos or not neg:
        return set()
    t_pos, t_neg = float(np.mean(pos)), float(np.mean(neg))
    return {
        i
        for i, (s, e) in enumerate(scored)
        if (e.needs_human and 1 - s >= t_neg and s < 0.5)
        or (not e.needs_human and s >= t_pos and s > 0.5)
    }


def train(
    examples: Sequence[Example],
    *,
    now: float,
    target_recall: float = 0.99,
    folds: int = 4,
    half_life_days: float = HALF_LIFE_DAYS,
) -> TriageModel:
    """The model the feedback supports: the prior while it is thin, else a logistic
    regression with its page threshold from forward-in-time folds."""
    if not enough(examples):
        return prior_model(examples)
    # Answers that out-of-fold, recency-weighted fits confidently contradict are set
    # aside: old answers that drift made wrong, and the share of answers that were mistakes.
    doubtful = clean(out_of_fold(examples, now=now, half_life_days=half_life_days))
    credible = [e for i, e in enumerate(examples) if i not in doubtful]
    if not enough(credible):
        return prior_model(examples)
    kept = forward_scores(credible, folds=folds, half_life_days=half_life_days)
    # The threshold comes from the later folds: the early ones had little to learn from
    # and score worse than the model being trained now.
    kept = kept[len(kept) // 3 :]
    model = fit(credible, now=now, half_life_days=half_life_days)
    if not kept or not any(e.needs_human for _, e in kept):
        return prior_model(examples)
    scores = [s for s, _ in kept]
    labels = [e.needs_human for _, e in kept]
    crit = [e.severity == "critical" for _, e in kept]
    model.page = recall_threshold(scores, labels, crit, target_recall) * MARGIN
    model.digest = min(model.page, recall_threshold(scores, labels, crit, 0.999)) / 2
    model.meta = {
        "examples": len(examples),
        "set_aside": len(doubtful),
        "target_recall": target_recall,
        "forward": forward_figures(scores, labels, crit, model.page),
    }
    return model


def forward_figures(
    scores: Sequence[float], labels: Sequence[bool], critical: Sequence[bool], page: float
) -> dict[str, float]:
    paged = [s >= page or c for s, c in zip(scores, critical, strict=True)]
    tp = sum(p and y for p, y in zip(paged, labels, strict=True))
    positives = sum(labels)
    return {
        "judged": len(labels),
        "positives": positives,
        "recall": round(tp / positives, 4) if positives else 1.0,
        "precision": round(tp / sum(paged), 4) if any(paged) else 1.0,
        "paged_share": round(sum(paged) / len(paged), 4) if paged else 0.0,
    }
