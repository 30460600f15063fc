"""Options and helpers shared by commands."""

from __future__ import annotations

import os
import re

import click
from sqlalchemy.engine import Engine

from kubesift.config import Settings, load_settings
from kubesift.errors import UserError
from kubesift.store import open_store

REPO_RE = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")


def settings() -> Settings:
    return load_settings(os.environ)


def store(cfg: Settings | None = None) -> Engine:
    return open_store(cfg or settings())


def check_repo(value: str) -> str:
    if not REPO_RE.match(value):
        raise UserError(f"--repo must look like OWNER/NAME, not {value!r}")
    return value


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
