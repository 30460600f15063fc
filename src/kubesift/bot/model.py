"""Predictions for the bot: the production model in process, or a remote ``kubesift serve``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import httpx

from kubesift.errors import GitHubError

DEFAULT_NAME = "kubernetes-analysis"


@dataclass(frozen=True)
class Scored:
    scores: dict[str, float]
    labels: list[str]  # above their calibrated thresholds
    words: dict[str, list[str]] = field(default_factory=dict)
    model: str = ""


class Model(Protocol):
    def score(self, item: Mapping[str, Any]) -> Scored: ...


class LocalModel:
    """The production model (``Predictor.load``), loaded once."""

    def __init__(self, models_dir: Path) -> None:
        from kubesift.learn import registry
        from kubesift.learn.predictor import Predictor

        found = registry.find(models_dir)
        self.predictor = Predictor(registry.load_model(found), found.metadata)
        self.name = f"{found.name}@{found.version}"

    def score(self, item: Mapping[str, Any]) -> Scored:
        p = self.predictor.predict([item], explain=5)[0]
        words = {n: [str(w) for w, _ in pairs] for n, pairs in p.explanation.items()}
        return Scored(p.scores, p.labels, words, self.name)


class RemoteModel:
    """A KServe V1 endpoint: ``{"instances": [item]}`` → ``{"predictions": [{labels, scores}]}``."""

    def __init__(self, url: str, timeout: float = 30.0) -> None:
        url = url.rstrip("/")
        self.url = url if ":predict" in url else f"{url}/v1/models/{DEFAULT_NAME}:predict"
        self.http = httpx.Client(timeout=timeout)

    def score(self, item: Mapping[str, Any]) -> Scored:
        try:
            response = self.http.post(self.url, json={"instances": [dict(item)]})
        except httpx.HTTPError as exc:
            raise GitHubError(f"model server unreachable at {self.url}: {exc}") from exc
        if response.status_code != 200:
            raise GitHubError(
                f"model server answered {response.status_code}: {response.text[:200]}"
            )
        first = response.json()["predictions"][0]
        scores = {str(k): float(v) for k, v in first["scores"].items()}
        return Scored(scores, [str(n) for n in first["labels"]], {}, self.url)
