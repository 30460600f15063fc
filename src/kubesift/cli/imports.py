"""``kubesift import``."""

from __future__ import annotations

from pathlib import Path

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


@import_group.command("issues")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--repo",
    default=None,
    metavar="OWNER/NAME",
    help="Every row's repository (default: each row's 'repo' column).",
)
@click.option(
    "--label-map",
    "label_map",
    multiple=True,
    metavar="FROM=TO",
    help="Rename a label as it is imported (repeatable), e.g. bug=kind/bug.",
)
@click.option("--json", "as_json", is_flag=True, help="Print what was imported as JSON.")
def issues_command(file: Path, repo: str | None, label_map: tuple[str, ...], as_json: bool) -> None:
    """Import labelled issues from a CSV or JSON-lines FILE, to train issue models on.

    Columns: repo, created_at, title, body, and label or labels (a JSON list or
    comma-separated); optional number, author, kind (issue or pr). Each row becomes an
    item of its repository with those labels; importing the same file again changes
    nothing, and an item exported from GitHub is never overwritten. Bad rows are named
    and skipped; the rest is kept.

    \b
    Example (the NLBSE'24 issue-classification data as published):
      kubesift import issues ../shared/datasets/nlbse24/issues_train.csv \\
        --label-map bug=kind/bug --label-map feature=kind/feature \\
        --label-map question=kind/support
      kubesift train --source items --family kind --repo facebook/react --production
    """
    import json

    from kubesift.collect.issuefile import SHOWN_BAD, import_issues, parse_label_map
    from kubesift.github.names import check_repo

    mapping = parse_label_map(label_map)
    found = import_issues(store(settings()), file, check_repo(repo) if repo else None, mapping)
    if as_json:
        click.echo(json.dumps(found.as_dict()))
        return
    labels = ", ".join(f"{k} {v:,}" for k, v in sorted(found.labels.items()))
    Console().print(
        f"Imported {found.rows:,} issues from {file} into {len(found.repos)} repositories: "
        f"{found.created:,} new, {found.updated:,} refreshed, {found.kept_github:,} kept as "
        f"exported from GitHub; labels: {labels or 'none'}.",
        highlight=False,
    )
    if found.bad:
        click.echo(f"skipped {len(found.bad):,} bad rows:", err=True)
        for line in found.bad[:SHOWN_BAD]:
            click.echo(f"  {line}", err=True)
        if len(found.bad) > SHOWN_BAD:
            click.echo(f"  … and {len(found.bad) - SHOWN_BAD:,} more (--json lists them)", err=True)
