"""Following the registry's production and canary pointers: one module for the bot and
the model server alike.

``production.json`` names the model in production (without it, the newest version);
``canary.json`` names a candidate and the share of items it gets. A :class:`ModelFollower`
re-reads both at most every ``check_every`` seconds, loads (and warms up) what they name,
and swaps the new state in as one assignment, so a promotion, a canary or a rollback
reaches a running process without a restart and a scoring thread sees the old state or
the new one, never half of each. Which model an item goes to is :func:`in_canary`, a
stable hash of its key (``repo#number``), so an item keeps its model across edits.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kubesift.errors import KubesiftError
from kubesift.learn import registry
from kubesift.learn.predictor import Predictor

log = logging.getLogger("kubesift.learn")


def in_canary(key: str, share: float) -> bool:
    """Whether the item ``key`` goes to the canary: a stable hash, so the same item
    always gets the same model while a canary runs."""
    if share <= 0:
        return False
    bucket = int(hashlib.sha256(key.encode()).hexdigest()[:8], 16) / 0x1_0000_0000
    return bucket < share


@dataclass(frozen=True)
class ModelSpec:
    """Which version to follow: production (no name, no version), the newest version of
    a name (which follows production while production is that model), or one pinned."""

    name: str | None = None
    version: str | None = None

    @classmethod
    def parse(cls, value: str | None) -> ModelSpec:
        """``None`` / ``""`` → production; ``name`` or ``name@version``."""
        if not value:
            return cls()
        name, _, version = value.partition("@")
        return cls(name or None, version or None)

    @property
    def pinned(self) -> bool:
        return self.version is not None

    @property
    def follows_canary(self) -> bool:
        """Only a process that serves production takes part in a canary."""
        return self.name is None and self.version is None

    def resolve(self, models_dir: Path) -> registry.ModelVersion:
        """The version this spec means now (the production pointer may have moved)."""
        if self.follows_canary:
            return registry.production(models_dir)
        if self.version is None:
            try:
                prod: registry.ModelVersion | None = registry.production(models_dir)
            except KubesiftError:
                prod = None
            if prod is not None and prod.name == self.name:
                return prod
        return registry.find(models_dir, self.name, self.version)


@dataclass(frozen=True)
class Loaded:
    """A loaded version: its predictor and its ``name@version``."""

    ref: str
    name: str
    version: str
    predictor: Predictor


@dataclass(frozen=True)
class Pointers:
    """What is being followed now: production, and the canary with its share."""

    production: Loaded
    canary: Loaded | None = None
    share: float = 0.0

    def pick(self, key: str | None) -> Loaded:
        """The version the item ``key`` goes to (no key: production)."""
        if self.canary is not None and key is not None and in_canary(key, self.share):
            return self.canary
        return self.production


@dataclass
class ModelFollower:
    """Loads what the pointers name and keeps following them.

    ``on_switch(old, new)`` is called after a new production version is swapped in (the
    server updates its metrics there); ``warmup`` items are scored once by each newly
    loaded version before it takes traffic.
    """

    models_dir: Path
    spec: ModelSpec = field(default_factory=ModelSpec)
    check_every: float = 2.0
    warmup: list[dict[str, Any]] = field(default_factory=list)
    on_switch: Callable[[Loaded | None, Loaded], None] | None = None
    state: Pointers | None = field(default=None, init=False)
    last_error: str = field(default="", init=False)
    _checked: float = field(default=float("-inf"), init=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, init=False)
    _cache: dict[str, Loaded] = field(default_factory=dict, init=False)

    def current(self) -> Pointers:
        """The state now, re-reading the pointers when ``check_every`` has passed.

        The first call raises when nothing can be loaded; later failures (a pointer that
        names a deleted version, a corrupt file) keep the state that works and are logged.
        """
        if self.state is None or time.monotonic() - self._checked >= self.check_every:
            self.refresh(strict=self.state is None)
        if self.state is None:
            raise KubesiftError(self.last_error or "no model loaded")
        return self.state

    def pick(self, key: str | None) -> Loaded:
        return self.current().pick(key)

    def refresh(self, *, strict: bool = False) -> bool:
        """Re-read the pointers now; True when the state changed."""
        with self._lock:
            self._checked = time.monotonic()
            try:
                new = self._read()
            except Exception as exc:  # keep what works; the next check tries again
                message = getattr(exc, "message", None) or str(exc)
                if strict:
                    self.last_error = message
                    raise
                if message != self.last_error:
                    log.warning("model pointers unusable, keeping the loaded model: %s", message)
                self.last_error = message
                return False
            self.last_error = ""
            old, self.state = self.state, new
            self._cache = {v.ref: v for v in (new.production, new.canary) if v is not None}
        changed = old is None or _refs(old) != _refs(new)
        if self.on_switch is not None and (old is None or old.production != new.production):
            self.on_switch(old.production if old else None, new.production)
        return changed

    def _read(self) -> Pointers:
        production = self._load(self.spec.resolve(self.models_dir))
        pointer = registry.read_canary(self.models_dir) if self.spec.follows_canary else None
        if not pointer:
            return Pointers(production)
        version = registry.find(self.models_dir, str(pointer["name"]), str(pointer["version"]))
        return Pointers(production, self._load(version), float(pointer.get("share", 0)))

    def _load(self, version: registry.ModelVersion) -> Loaded:
        ref = registry.ref(version)
        if ref not in self._cache:
            predictor = Predictor(registry.load_model(version), version.metadata)
            if self.warmup:
                predictor.predict(self.warmup, explain=0)  # first-call costs, before traffic
            self._cache[ref] = Loaded(ref, version.name, version.version, predictor)
        return self._cache[ref]


def _refs(p: Pointers) -> tuple[str, str | None, float]:
    return p.production.ref, p.canary.ref if p.canary else None, p.share
