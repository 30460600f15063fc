"""The desired state: the ``[reconcile]`` table of kubesift.toml, parsed and checked.

Example::

    [reconcile]
    repositories = ["kubernetes/kubernetes"]
    source = "release-notes"        # or "items": issue/PR title and body
    labels = ["kind/bug"]
    families = ["kind", "sig"]
    model = "sift-linear"            # default: what `train` picks for the source (sift-embed
                                     # for items where an encoder is installed)
    target_precision = 0.9
    eval_fraction = 0.2             # the newest share of examples judges candidates
    folds = 3                       # cross-fitting folds for the thresholds (5 = `train`'s)
    events = true                   # walk GitHub's label history on export; false when the
                                    # bot receives the label webhooks (they bring the same)

    [reconcile.freshness]
    max_age = "7d"                  # retrain when production is older than this
    min_new_labels = 200            # ... or when this many newly labelled examples arrived

    [reconcile.promotion]
    max_label_f1_drop = 0.01        # no label may lose more F1 than this
    max_family_f1_drop = 0.0        # a family's micro-F1 may not drop
    min_support = 10                # labels with fewer positives in the slice cannot veto

    [reconcile.canary]
    share = 0.2                     # 0 promotes a better candidate at once
    min_judged = 20                 # online judgements per model before deciding
    max_precision_drop = 0.05       # the candidate may trail production by this much online
    max_wait = "14d"                # still too few judgements then: abort, keep production

    [reconcile.rollback]
    min_precision = 0.8             # production's online precision floor
    min_judged = 20
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any

from kubesift import defaults
from kubesift.errors import ConfigError

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([smhdw]?)\s*$")
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_REPO = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")


def parse_duration(value: object, what: str) -> float:
    """``90``, ``"90s"``, ``"15m"``, ``"12h"``, ``"7d"``, ``"2w"`` → seconds."""
    if isinstance(value, int | float) and not isinstance(value, bool) and value >= 0:
        return float(value)
    match = _DURATION.match(str(value))
    if not match:
        raise ConfigError(f"{what}: {value!r} is not a duration like 90s, 15m, 12h or 7d")
    return float(match.group(1)) * _UNITS[match.group(2)]


@dataclass(frozen=True)
class Freshness:
    max_age: float = 7 * 86400.0
    min_new_labels: int = 200


@dataclass(frozen=True)
class Promotion:
    max_label_f1_drop: float = 0.01
    max_family_f1_drop: float = 0.0
    min_support: int = 10


@dataclass(frozen=True)
class Canary:
    share: float = 0.0
    min_judged: int = 20
    max_precision_drop: float = 0.05
    max_wait: float = 14 * 86400.0


@dataclass(frozen=True)
class Rollback:
    min_precision: float = 0.8
    min_judged: int = 20


@dataclass(frozen=True)
class Desired:
    """What the reconciler drives the store, the registry and the bot towards."""

    repositories: tuple[str, ...] = ()
    source: str = "release-notes"
    labels: tuple[str, ...] = ("kind/bug",)
    families: tuple[str, ...] = ("kind", "sig")
    model: str = defaults.MODEL
    target_precision: float = defaults.TARGET_PRECISION
    eval_fraction: float = 0.2
    folds: int = 3
    events: bool = True
    freshness: Freshness = field(default_factory=Freshness)
    promotion: Promotion = field(default_factory=Promotion)
    canary: Canary = field(default_factory=Canary)
    rollback: Rollback = field(default_factory=Rollback)

    def model_spec(self) -> dict[str, Any]:
        """What a trained model must match to count as this desired model."""
        return {
            "model": self.model,
            "tasks": list(self.labels),
            "families": list(self.families),
            "target_precision": self.target_precision,
            "source": self.source,
            "calibration": "forward",
        }


_SECTIONS = {"freshness": Freshness, "promotion": Promotion, "canary": Canary, "rollback": Rollback}
_DURATIONS = {"max_age", "max_wait"}


def desired_from(toml: Mapping[str, Any]) -> Desired:
    """Parse ``toml["reconcile"]`` (absent → defaults); unknown keys are errors."""
    raw = toml.get("reconcile", {})
    if not isinstance(raw, Mapping):
        raise ConfigError("[reconcile] must be a table")
    top = {f.name: f for f in fields(Desired)}
    values: dict[str, Any] = {}
    for key, value in raw.items():
        if key in _SECTIONS:
            values[key] = _section(key, value)
        elif key in top:
            values[key] = _value(
                f"reconcile.{key}", Desired.__dataclass_fields__[key].default, value
            )
        else:
            raise ConfigError(f"reconcile.{key}: unknown setting (known: {', '.join(sorted(top))})")
    if "model" not in values:  # the model `train` picks for this source by default
        from kubesift.learn.embedded import choose_model

        values["model"] = choose_model(None, str(values.get("source", Desired.source)))[0]
    desired = replace(Desired(), **values)
    _check(desired)
    return desired


def _section(name: str, raw: object) -> Any:
    cls = _SECTIONS[name]
    if not isinstance(raw, Mapping):
        raise ConfigError(f"[reconcile.{name}] must be a table")
    known = {f.name: f for f in fields(cls)}
    values = {}
    for key, value in raw.items():
        if key not in known:
            raise ConfigError(
                f"reconcile.{name}.{key}: unknown setting (known: {', '.join(sorted(known))})"
            )
        what = f"reconcile.{name}.{key}"
        if key in _DURATIONS:
            values[key] = parse_duration(value, what)
        else:
            values[key] = _value(what, getattr(cls(), key), value)
    return cls(**values)


def _value(what: str, default: object, value: object) -> Any:
    if isinstance(default, tuple):
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise ConfigError(f"{what}: expected a list of strings, got {value!r}")
        return tuple(value)
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise ConfigError(f"{what}: expected true or false, got {value!r}")
        return value
    if isinstance(default, int | float):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(f"{what}: expected a number, got {value!r}")
        return type(default)(value)
    if not isinstance(value, str):
        raise ConfigError(f"{what}: expected a string, got {value!r}")
    return value


def _check(d: Desired) -> None:
    for repo in d.repositories:
        if not _REPO.match(repo):
            raise ConfigError(f"reconcile.repositories: {repo!r} is not OWNER/NAME")
    if d.source not in ("release-notes", "items"):
        raise ConfigError(f"reconcile.source: {d.source!r} is not release-notes or items")
    if not d.labels and not d.families:
        raise ConfigError("reconcile: give labels or families to train")
    ranges = {
        "reconcile.target_precision": (d.target_precision, 0.0, 1.0),
        "reconcile.eval_fraction": (d.eval_fraction, 0.0, 0.9),
        "reconcile.canary.share": (d.canary.share, -1e-9, 1.0),
        "reconcile.rollback.min_precision": (d.rollback.min_precision, -1e-9, 1.0),
    }
    for what, (value, low, high) in ranges.items():
        if not low < value <= high:
            raise ConfigError(f"{what}: {value} is out of range ({max(low, 0):g}..{high:g})")
    if not 2 <= d.folds <= 10:
        raise ConfigError(f"reconcile.folds: {d.folds} is out of range (2..10)")
    for what, number in {
        "reconcile.freshness.min_new_labels": d.freshness.min_new_labels,
        "reconcile.promotion.min_support": d.promotion.min_support,
        "reconcile.canary.min_judged": d.canary.min_judged,
        "reconcile.rollback.min_judged": d.rollback.min_judged,
    }.items():
        if number < 0:
            raise ConfigError(f"{what}: must not be negative")
