"""Predictions for the bot: the production model in process, or a remote ``kubesift serve``."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import httpx

from kubesift.errors import GitHubError, KubesiftError

log = logging.getLogger("kubesift.bot")

DEFAULT_NAME = "kubernetes-analysis"


@dataclass(frozen=True)
class Scored:
    scores: dict[str, float]
    labels: list[str]  # above their calibrated thresholds
    words: dict[str, list[str]] = field(default_factory=dict)
    model: str = ""


class Model(Protocol):
    def score(self, item: Mapping[str, Any], key: str | None = None) -> Scored: ...


class LocalModel:
    """The registry's production model, plus the canary when the reconciler runs one.

    It follows ``production.json`` and ``canary.json`` (checked at most every
    ``check_every`` seconds), so a promotion, a canary or a rollback reaches a running
    bot without a restart. With a canary, the item ``key`` (``repo#number``) picks the
    model: the same item always gets the same one, and the decision records which.
    """

    def __init__(self, models_dir: Path, check_every: float = 2.0) -> None:
        self.models_dir = models_dir
        self.check_every = check_every
        self._loaded: dict[str, Any] = {}
        self._checked = 0.0
        self._lock = threading.Lock()
        self.production = ""
        self.canary: tuple[str, float] | None = None
        self._state: tuple[str, tuple[str, float] | None, dict[str, Any]] = ("", None, {})
        self._refresh(force=True)

    @property
    def name(self) -> str:
        return self.production

    def _load(self, version: Any) -> None:
        from kubesift.learn import registry
        from kubesift.learn.predictor import Predictor

        ref = registry.ref(version)
        if ref not in self._loaded:
            self._loaded[ref] = Predictor(registry.load_model(version), version.metadata)

    def _refresh(self, force: bool = False) -> None:
        from kubesift.learn import registry

        now = time.monotonic()
        if not force and now - self._checked < self.check_every:
            return
        with self._lock:
            self._checked = now
            try:
                prod = registry.production(self.models_dir)
                self._load(prod)
                canary = None
                pointer = registry.read_canary(self.models_dir)
                if pointer:
                    version = registry.find(self.models_dir, pointer["name"], pointer["version"])
                    self._load(version)
                    canary = (registry.ref(version), float(pointer.get("share", 0)))
            except KubesiftError:
                if force:
                    raise
                log.exception(
                    "model registry changed into an unusable state; keeping %s", self.production
                )
                return
            keep = {registry.ref(prod)} | ({canary[0]} if canary else set())
            # One assignment, so a scoring thread sees the old state or the new one.
            self._state = (registry.ref(prod), canary, {k: self._loaded[k] for k in keep})
            self._loaded = dict(self._state[2])
            self.production, self.canary = self._state[0], canary

    def pick(self, key: str | None) -> tuple[str, Any]:
        """The version ``key``'s item goes to, and its predictor."""
        from kubesift.reconcile.policy import in_canary

        self._refresh()
        production, canary, loaded = self._state
        if canary and key is not None and in_canary(key, canary[1]):
            return canary[0], loaded[canary[0]]
        return production, loaded[production]

    def score(self, item: Mapping[str, Any], key: str | None = None) -> Scored:
        ref, predictor = self.pick(key)
        p = predictor.predict([item], explain=5)[0]
        words = {n: [str(w) for w, _ in pairs] for n, pairs in p.explanation.items()}
        return Scored(p.scores, p.labels, words, ref)


class RemoteModel:
    """A KServe V1 endpoint: ``{"instances": [item]}`` → ``{"predictions": [{labels, scores}]}``."""

    def __init__(self, url: str, timeout: float = 30.0) -> None:
        url = url.rstrip("/")
        self.url = url if ":predict" in url else f"{url}/v1/models/{DEFAULT_NAME}:predict"
        self.http = httpx.Client(timeout=timeout)

    def score(self, item: Mapping[str, Any], key: str | None = None) -> Scored:
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
