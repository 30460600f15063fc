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
