"""Predictions for the bot: the production model in process, or a remote ``kubesift serve``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

import httpx

from kubesift import defaults
from kubesift.errors import ModelServerError

DEFAULT_NAME = defaults.SERVED_NAME


@dataclass(frozen=True)
class Scored:
    scores: dict[str, float]
    labels: list[str]  # above their calibrated thresholds
    words: dict[str, list[str]] = field(default_factory=dict)
    model: str = ""
    source: str = ""  # what the model was trained on: "release-notes" or "items"
    scope: str = ""  # an items model's repository ("" for one trained on every repository)

    def described(self) -> str:
        """The model and what it was trained on, as the bot's comment names it."""
        what = TRAINED_ON.get(self.source)
        if what and self.source == "items":
            what += f", {self.scope}'s own" if self.scope else ", every repository's"
        return f"{self.model} ({what})" if what and self.model else self.model


TRAINED_ON = {
    "release-notes": "trained on release notes",
    "items": "trained on issues' and PRs' title and body",
}


class Model(Protocol):
    def score(self, item: Mapping[str, Any], key: str | None = None) -> Scored: ...


class LocalModel:
    """The registry's production model, plus the canary when the reconciler runs one
    (:class:`kubesift.learn.pointer.ModelFollower`: a promotion, a canary or a rollback
    reaches a running bot without a restart; the item ``key`` picks the model, and the
    decision records which)."""

    def __init__(
        self,
        models_dir: Path,
        check_every: float = 2.0,
        source: str = "release-notes",
        scope: str = "",
    ) -> None:
        from kubesift.learn.pointer import ModelFollower

        self.source = source
        self.scope = scope
        self.follower = ModelFollower(models_dir, check_every=check_every)
        self.follower.current()  # fail at start, not on the first delivery

    def score(self, item: Mapping[str, Any], key: str | None = None) -> Scored:
        chosen = self.follower.pick(key)
        p = chosen.predictor.predict([item], explain=5)[0]
        words = {n: [str(w) for w, _ in pairs] for n, pairs in p.explanation.items()}
        return Scored(p.scores, p.labels, words, chosen.ref, self.source, self.scope)


class ByRepo:
    """A repository's own items model (``train --repo``) for its items, the pooled model
    (or ``fallback``) for the others. The item's repository is read from its ``key``
    (``OWNER/NAME#NUMBER``)."""

    def __init__(self, own: Mapping[str, Model], fallback: Model | None) -> None:
        self.own = dict(own)
        self.fallback = fallback

    def score(self, item: Mapping[str, Any], key: str | None = None) -> Scored:
        repo = (key or "").rpartition("#")[0]
        model = self.own.get(repo, self.fallback)
        if model is None:
            from kubesift.learn.registry import ModelError

            hint = f"kubesift train --source items [--repo {repo or 'OWNER/NAME'}]"
            raise ModelError(f"no items model for {repo or 'this item'}; train one with {hint}")
        return model.score(item, key)


class ByKind:
    """The model whose training source matches the item: the items model (issues' and
    PRs' own text) for issues and for PRs scored on their text, the release-note model for
    PRs scored on their release note. Without an items model, everything goes to
    ``notes``."""

    def __init__(self, notes: Model, items: Model | None) -> None:
        self.notes = notes
        self.items = items

    def score(self, item: Mapping[str, Any], key: str | None = None) -> Scored:
        on_text = item.get("kind") == "issue" or item.get("input") != "release-note"
        model = self.items if on_text and self.items is not None else self.notes
        return model.score(item, key)


class RemoteModel:
    """A KServe V1 endpoint: ``{"instances": [item]}`` → ``{"predictions": [{labels, scores}]}``."""

    def __init__(self, url: str, timeout: float = 30.0, source: str = "") -> None:
        self.source = source
        url = url.rstrip("/")
        self.url = url if ":predict" in url else f"{url}/v1/models/{DEFAULT_NAME}:predict"
        self.http = httpx.Client(timeout=timeout)

    def score(self, item: Mapping[str, Any], key: str | None = None) -> Scored:
        try:
            response = self.http.post(self.url, json={"instances": [dict(item)]})
        except httpx.HTTPError as exc:
            raise ModelServerError(f"model server unreachable at {self.url}: {exc}") from exc
        if response.status_code != 200:
            raise ModelServerError(
                f"model server answered {response.status_code}: {response.text[:200]}"
            )
        try:
            first = response.json()["predictions"][0]
            scores = {str(k): float(v) for k, v in first["scores"].items()}
            labels = [str(n) for n in first["labels"]]
        except (ValueError, KeyError, IndexError, TypeError, AttributeError) as exc:
            raise ModelServerError(
                f"model server at {self.url} sent no V1 predictions: {response.text[:200]}"
            ) from exc
        return Scored(scores, labels, {}, self.url, self.source)
