"""Options and helpers shared by commands."""

from __future__ import annotations

import os

import click
from sqlalchemy.engine import Engine

from kubesift.config import Settings, load_settings
from kubesift.github.names import REPO_RE, check_repo
from kubesift.store import open_store

__all__ = ["REPO_RE", "check_repo", "settings", "store"]


def settings() -> Settings:
    return load_settings(os.environ)


def store(cfg: Settings | None = None) -> Engine:
    return open_store(cfg or settings())


def repo_option(fn: click.decorators.FC) -> click.decorators.FC:
    return click.option(
        "--repo", "-r", required=True, metavar="OWNER/NAME", help="The GitHub repository."
    )(fn)


def source_option(fn: click.decorators.FC) -> click.decorators.FC:
    """``--source``: the release-note models, or the items models (each its own registry)."""
    return click.option(
        "--source",
        type=click.Choice(["release-notes", "items"]),
        default="release-notes",
        show_default=True,
        help="Release-note models, or items models (issues' and PRs' title and body; "
        "use created: splits to train them).",
    )(fn)
