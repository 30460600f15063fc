"""Settings from ``KUBESIFT_*`` environment variables and an optional kubesift.toml.

Precedence: explicit arguments > environment > kubesift.toml > defaults.
The toml file is looked up at ``$KUBESIFT_CONFIG`` or ``./kubesift.toml``.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kubesift.errors import ConfigError

DEFAULT_API_URL = "https://api.github.com"


@dataclass(frozen=True)
class Settings:
    home: Path
    database_url: str
    api_url: str = DEFAULT_API_URL
    datasets: Path | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def assets_dir(self) -> Path:
        return self.home / "assets"

    @property
    def models_dir(self) -> Path:
        return self.home / "models"

    def models_dir_for(self, source: str, repo: str | None = None) -> Path:
        """Where models of a dataset source live: release notes in ``models/``, models of
        issues' and PRs' own text in ``models-items/`` (each with its own production);
        a model of one repository's items in ``models-items/repos/OWNER/NAME/``."""
        base = self.models_dir if source == "release-notes" else self.home / f"models-{source}"
        return base / "repos" / repo if repo else base

    @property
    def ci_variants(self) -> Path | None:
        """The CI variant rules file (``[ci] variants`` in kubesift.toml), if set."""
        ci = self.extra.get("ci")
        value = ci.get("variants") if isinstance(ci, Mapping) else None
        return Path(str(value)) if value else None


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from exc
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from exc


def load_toml(env: Mapping[str, str]) -> dict[str, Any]:
    explicit = env.get("KUBESIFT_CONFIG")
    if explicit:
        path = Path(explicit)
        if not path.exists():
            raise ConfigError(f"KUBESIFT_CONFIG points to {path}, which does not exist")
        return _read_toml(path)
    default = Path("kubesift.toml")
    return _read_toml(default) if default.exists() else {}


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    """Build settings from the environment (``os.environ`` by default) and kubesift.toml."""
    env = os.environ if env is None else env
    toml = load_toml(env)
    home = Path(env.get("KUBESIFT_HOME") or toml.get("home") or "data")
    db_url = env.get("KUBESIFT_DATABASE_URL") or toml.get("database_url")
    if not db_url:
        db_url = f"sqlite:///{(home / 'kubesift.db').as_posix()}"
    datasets_raw = env.get("KUBESIFT_DATASETS") or toml.get("datasets")
    return Settings(
        home=home,
        database_url=str(db_url),
        api_url=str(env.get("KUBESIFT_API_URL") or toml.get("api_url") or DEFAULT_API_URL),
        datasets=Path(datasets_raw) if datasets_raw else None,
        extra=toml,
    )


#: Where the shared folder sits: beside the working directory or beside the checkout.
SHARED = Path("..") / "shared"


def find_shared() -> Path | None:
    """The ``shared/`` folder next to the project (``../shared`` from the working directory,
    or from the checkout this package runs from), if there is one."""
    checkout = Path(__file__).resolve().parents[2]
    for candidate in (SHARED, checkout / SHARED):
        if candidate.is_dir():
            return candidate.resolve()  # callers may change directory later
    return None


def find_datasets(env: Mapping[str, str] | None = None) -> Path | None:
    """The datasets folder: ``KUBESIFT_DATASETS`` (or ``datasets`` in kubesift.toml), else
    ``shared/datasets`` (see :func:`find_shared`); None when it is not there. The one
    place that answers this for the CLI, the tests, the benchmarks and the fake."""
    configured = load_settings(env).datasets
    if configured is not None:
        return configured if configured.is_dir() else None
    shared = find_shared()
    found = shared / "datasets" if shared is not None else None
    return found if found is not None and found.is_dir() else None


def find_fixtures(name: str) -> Path | None:
    """``shared/fixtures/<name>``: beside the datasets folder (``KUBESIFT_DATASETS/..``),
    or in :func:`find_shared`; None when absent."""
    roots = [p.parent for p in [find_datasets()] if p is not None]
    shared = find_shared()
    roots += [shared] if shared is not None else []
    for root in roots:
        path = root / "fixtures" / name
        if path.is_dir():
            return path
    return None
