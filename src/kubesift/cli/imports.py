"""``kubesift import``."""

from __future__ import annotations

import click
from rich.console import Console

from kubesift.cli.common import settings, store
from kubesift.collect.importer import DEFAULT_REPO, import_release_notes


@click.group("import")
def import_group() -> None:
    """Import data that does not come from the GitHub API."""


@import_group.command("release-notes")
@click.argument("sources", nargs=-1, required=True, metavar="PATH|URL...")
@click.option(
    "--repo",
    default=DEFAULT_REPO,
    show_default=True,
    metavar="OWNER/NAME",
    help="The repository the PRs belong to.",
)
def release_notes(sources: tuple[str, ...], repo: str) -> None:
    """Import Kubernetes release-note JSON files (the release tooling's format).

    SOURCES are files, directories (searched recursively for *.json), glob
    patterns or http(s) URLs. Each note becomes a PR of the repository with its
    kind/, sig/ and area/ labels and the first release it appears in. Running it
    again with the same files changes nothing.

    \b
    Example:
      kubesift import release-notes ../shared/datasets/k8s-release-notes
    """
    engine = store(settings())
    result = import_release_notes(engine, list(sources), repo)
    Console().print(
        f"Imported {result.notes:,} release notes from {result.files} files into {repo}: "
        f"{result.created:,} new PRs, {result.updated:,} refreshed, "
        f"{result.kept_github:,} already exported from GitHub (their labels kept); "
        f"releases {result.releases[0]} to {result.releases[-1]}."
    )
