"""Variants from job names and components from test names, by rules users can change.

The rules live in a TOML file (``variants.toml`` in this package is the default);
see that file for the format. Pure once loaded.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

from kubesift.errors import ConfigError

_SIG = re.compile(r"\[(sig-[A-Za-z0-9-]+)\]")


@dataclass(frozen=True)
class Variant:
    name: str
    default: str
    rules: tuple[tuple[re.Pattern[str], str], ...]

    def of(self, job: str) -> str:
        for pattern, value in self.rules:
            m = pattern.search(job)
            if m:
                return m.expand(value) if "\\" in value else value
        return self.default


@dataclass(frozen=True)
class Rules:
    variants: tuple[Variant, ...]
    columns: tuple[str, ...]
    components: tuple[tuple[re.Pattern[str], str], ...] = field(default=())
    key_tests: tuple[str, ...] = ()

    def of_job(self, job: str) -> dict[str, str]:
        """Every variant of a job, in the file's order."""
        return {v.name: v.of(job) for v in self.variants}

    def component(self, test: str) -> str:
        for pattern, value in self.components:
            if pattern.search(test):
                return value
        m = _SIG.search(test)
        return m.group(1) if m else "unknown"


def key(variants: dict[str, str]) -> str:
    """A stable text for a variant combination: ``Platform:aws,Topology:ha``."""
    return ",".join(f"{k}:{v}" for k, v in variants.items())


def parse_key(text: str) -> dict[str, str]:
    return dict(part.split(":", 1) for part in text.split(",") if ":" in part)


def load(path: Path | None = None) -> Rules:
    """The rules in ``path`` (default: the packaged ``variants.toml``)."""
    if path is None:
        text = resources.files("kubesift.ci").joinpath("variants.toml").read_text()
        where = "kubesift/ci/variants.toml"
    else:
        try:
            text = path.read_text()
        except OSError as exc:
            raise ConfigError(f"cannot read the variants file {path}: {exc.strerror}") from exc
        where = str(path)
    try:
        data = tomllib.loads(text)
        return _rules(data)
    except (tomllib.TOMLDecodeError, re.error, KeyError, TypeError, ValueError) as exc:
        raise ConfigError(f"{where}: invalid variant rules ({exc})") from exc


def _rules(data: dict[str, object]) -> Rules:
    raw = data.get("variant", [])
    if not isinstance(raw, list) or not raw:
        raise ValueError("needs at least one [[variant]]")
    variants = tuple(
        Variant(
            name=str(v["name"]),
            default=str(v.get("default", "unknown")),
            rules=tuple((re.compile(str(p)), str(val)) for p, val in v.get("rules", [])),
        )
        for v in raw
    )
    names = [v.name for v in variants]
    columns = tuple(str(c) for c in data.get("columns", names[:1]))  # type: ignore[attr-defined]
    unknown = set(columns) - set(names)
    if unknown:
        raise ValueError(f"columns name unknown variants {sorted(unknown)}")
    comps = data.get("components", {})
    components = tuple((re.compile(str(p)), str(v)) for p, v in comps.items())  # type: ignore[attr-defined]
    keys = tuple(str(k) for k in data.get("key_tests", []))  # type: ignore[attr-defined]
    return Rules(variants=variants, columns=columns, components=components, key_tests=keys)
