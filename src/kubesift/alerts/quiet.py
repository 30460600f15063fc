"""Quiet defaults: what never becomes an incident, and what must repeat before one opens.
Pure: settings in, a reason or a verdict out.

What users of Keep, Botkube and kubewatch ask for most, set in one place, the
``[alerts.quiet]`` table of kubesift.toml::

    [alerts.quiet]
    ignore_namespaces = ["kube-node-lease", "dev-*"]   # shell globs
    ignore_names = ["CPUThrottlingHigh", "BackOff"]    # alertnames, Event reasons, LogError
    log_level = "error"          # the least severe log line that is a signal: warn, error, fatal
    open_after = 3               # logs and Events: an incident opens on the 3rd signal ...
    within_minutes = 10          # ... of its group within 10 minutes

An ignored signal is still stored (nothing received is lost, and ``alerts list`` counts
it); it opens and joins no incident. A signal that is held waits, stored, for the rest of
its group; the incident that opens links all of them and says why. Alertmanager's alerts
are not held (their rules have ``for:`` already), and a critical signal never is.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from kubesift.errors import ConfigError

#: Log levels by rank; a line's level is one of these names (or an alias of one).
LEVELS = {"trace": 0, "debug": 1, "info": 2, "warn": 3, "error": 4, "fatal": 5}
ALIASES = {
    "warning": "warn", "w": "warn", "err": "error", "e": "error", "critical": "fatal",
    "crit": "fatal", "panic": "fatal", "f": "fatal", "i": "info", "notice": "info",
}  # fmt: skip
#: Sources whose signals wait for ``open_after`` of their group.
HELD_SOURCES = ("log", "k8s-event")


def level_name(value: str) -> str | None:
    """``value`` as one of :data:`LEVELS`' names (None when it is not a level)."""
    name = value.strip().lower()
    name = ALIASES.get(name, name)
    return name if name in LEVELS else None


@dataclass(frozen=True)
class Quiet:
    ignore_namespaces: tuple[str, ...] = ()
    ignore_names: tuple[str, ...] = ()
    log_level: str = "error"
    open_after: int = 1
    within_minutes: float = 10.0

    def ignored(self, namespace: str, name: str) -> str | None:
        """Why a signal opens no incident (None when it may)."""
        for pattern in self.ignore_namespaces:
            if namespace and fnmatch.fnmatchcase(namespace, pattern):
                return f"namespace {namespace} is ignored ({pattern})"
        for pattern in self.ignore_names:
            if fnmatch.fnmatchcase(name, pattern):
                return f"{name} is ignored ({pattern})"
        return None

    def holds(self, source: str, severity: str) -> bool:
        """Whether a signal waits for ``open_after`` of its group before an incident opens."""
        return self.open_after > 1 and source in HELD_SOURCES and severity != "critical"

    def opened_because(self, count: int) -> str:
        return (
            f"opened on the {_ordinal(count)} signal of its group within "
            f"{self.within_minutes:g} min (open_after = {self.open_after})"
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "ignore_namespaces": list(self.ignore_namespaces),
            "ignore_names": list(self.ignore_names),
            "log_level": self.log_level,
            "open_after": self.open_after,
            "within_minutes": self.within_minutes,
        }


def from_mapping(table: Mapping[str, Any], where: str = "[alerts.quiet]") -> Quiet:
    """The settings of a kubesift.toml table; a wrong key or value is a one-line error."""
    known = set(Quiet.__dataclass_fields__)
    unknown = sorted(set(table) - known)
    if unknown:
        names = ", ".join(sorted(known))
        raise ConfigError(f"{where}: unknown setting {unknown[0]!r} (known: {names})")
    out: dict[str, Any] = {}
    for key in ("ignore_namespaces", "ignore_names"):
        value = table.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise ConfigError(f"{where}: {key} must be a list of names or globs")
        out[key] = tuple(value)
    level = table.get("log_level", "error")
    if not isinstance(level, str) or level_name(level) not in ("warn", "error", "fatal"):
        raise ConfigError(f"{where}: log_level must be warn, error or fatal, not {level!r}")
    out["log_level"] = level_name(level)
    after = table.get("open_after", 1)
    if not isinstance(after, int) or isinstance(after, bool) or not 1 <= after <= 1000:
        raise ConfigError(f"{where}: open_after must be a whole number from 1 to 1000")
    out["open_after"] = after
    within = table.get("within_minutes", 10.0)
    if not isinstance(within, int | float) or isinstance(within, bool) or not 0 < within <= 1440:
        raise ConfigError(f"{where}: within_minutes must be more than 0 and at most 1440")
    out["within_minutes"] = float(within)
    return Quiet(**out)


def from_config(extra: Mapping[str, Any]) -> Quiet:
    """The ``[alerts.quiet]`` table of kubesift.toml's settings (defaults when absent)."""
    alerts = extra.get("alerts") or {}
    if not isinstance(alerts, Mapping):
        raise ConfigError("[alerts] must be a table")
    table = alerts.get("quiet") or {}
    if not isinstance(table, Mapping):
        raise ConfigError("[alerts.quiet] must be a table")
    return from_mapping(table)


def _ordinal(n: int) -> str:
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"
