"""The one prediction path for the CLI, the server and the bot."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from kubesift.learn import registry
from kubesift.learn.calibrate import FAMILY_LIMITS, decide, kind_thresholds
from kubesift.learn.dataset import INPUT_FIELDS
from kubesift.learn.features import clip_item


@dataclass(frozen=True)
class Prediction:
    """Every label's score, the labels above their calibrated thresholds, and why."""

    scores: dict[str, float]
    labels: list[str]
    explanation: dict[str, list[tuple[str, float]]] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"labels": self.labels, "scores": self.scores, "explanation": self.explanation}


class Predictor:
    """A loaded model version: ``predict(items) -> list[Prediction]``.

    Items are mappings with ``text`` and optionally ``author``, ``kind``, ``title``,
    ``documentation``; other keys are ignored (a model never reads them). A label
    whose threshold is None ("never predicted") gets a score but is never returned.
    """

    def __init__(self, model: Any, metadata: Mapping[str, Any]) -> None:
        self.model = model
        self.metadata = dict(metadata)
        self.labels: list[str] = list(metadata["labels"])
        self.thresholds: list[float | None] = list(metadata["thresholds"])
        #: An items model acts on issues and on PRs each with its own kind's thresholds.
        self.by_kind: dict[str, list[float | None]] = dict(metadata.get("thresholds_by_kind") or {})
        ready = getattr(model, "ready", None)
        if callable(ready):  # a model that needs more than its file (sift-embed's encoder)
            ready()  # fails here, at load, not on the first item

    @classmethod
    def load(
        cls, models_dir: Path, name: str | None = None, version: str | None = None
    ) -> Predictor:
        """Load (and verify) a saved version; by default the production model."""
        found = registry.find(models_dir, name, version)
        return cls(registry.load_model(found), found.metadata)

    def scores(self, items: Sequence[Mapping[str, Any]]) -> np.ndarray:
        return np.asarray(self.model.predict_proba([_clean(i) for i in items]))

    def predict(self, items: Sequence[Mapping[str, Any]], explain: int = 5) -> list[Prediction]:
        """Score, decide per family (limits applied) and explain the chosen labels."""
        if not items:
            return []
        cleaned = [_clean(i) for i in items]
        S = np.asarray(self.model.predict_proba(cleaned))
        D = self._decide(S, [str(i.get("kind") or "pr") for i in cleaned])
        out = []
        for i, item in enumerate(cleaned):
            chosen = [self.labels[j] for j in np.flatnonzero(D[i])]
            why = {}
            if explain and hasattr(self.model, "explain"):
                top = chosen or [self.labels[int(np.argmax(S[i]))]]
                why = {n: self.model.explain(item, self.labels.index(n), explain) for n in top}
            scores = {n: round(float(S[i, j]), 4) for j, n in enumerate(self.labels)}
            out.append(Prediction(scores, chosen, why))
        return out

    def _decide(self, S: np.ndarray, kinds: Sequence[str]) -> np.ndarray:
        T = kind_thresholds(kinds, self.thresholds, self.by_kind)
        D = decide(S, T)
        for family, (_least, most) in FAMILY_LIMITS.items():
            cols = [j for j, n in enumerate(self.labels) if n.startswith(f"{family}/")]
            if cols:
                D[:, cols] = decide(S[:, cols], T[:, cols], (0, most))
        return D


def _clean(item: Mapping[str, Any]) -> dict[str, Any]:
    return clip_item({k: item.get(k) for k in INPUT_FIELDS})
