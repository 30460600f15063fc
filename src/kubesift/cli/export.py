"""``kubesift export``."""

from __future__ import annotations

import json
import os
from pathlib import Path

import click
from rich.console import Console

from kubesift.cli.common import check_repo, repo_option, settings, store
from kubesift.cli.progress import progress_for
from kubesift.collect.service import ExportReport, export_repository
from kubesift.errors import UserError
from kubesift.github import auth_from


@click.command()
@repo_option
@click.option("--update", is_flag=True, help="Only fetch what changed (the default once stored).")
@click.option("--full", is_flag=True, help="Walk the whole history again even if stored.")
@click.option(
    "--verify", is_flag=True, help="Then probe every missing number (deleted/transferred)."
)
@click.option("--no-events", is_flag=True, help="Skip the label history.")
@click.option(
    "--token-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Read the token from this file instead of GITHUB_TOKEN.",
)
@click.option("--app-id", help="GitHub App id (with --app-key-file): use an installation token.")
@click.option(
    "--app-key-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The GitHub App's private key (PEM).",
)
@click.option("--installation-id", type=int, help="The App installation (found if omitted).")
@click.option(
    "--api-url",
    help="GitHub API base URL (GitHub Enterprise: https://HOST/api/v3). "
    "Default $KUBESIFT_API_URL or https://api.github.com.",
)
@click.option(
    "--max-wait",
    type=float,
    default=3700.0,
    show_default=True,
    help="Longest rate-limit wait in seconds before stopping (rerun resumes).",
)
@click.option(
    "--per-page",
    type=click.IntRange(1, 100),
    default=100,
    show_default=True,
    help="Items per request; lowered automatically after 502/504.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the figures as JSON.")
def export(
    repo: str,
    update: bool,
    full: bool,
    verify: bool,
    no_events: bool,
    token_file: Path | None,
    app_id: str | None,
    app_key_file: Path | None,
    installation_id: int | None,
    api_url: str | None,
    max_wait: float,
    per_page: int,
    as_json: bool,
) -> None:
    """Mirror a repository's issues, pull requests and label history into the store.

    The first run exports everything (following GitHub's Link pagination, one
    request per 100 items); later runs fetch only what changed since the largest
    updated_at stored, and an unchanged repository costs one 304 answer. Every page
    is committed with its checkpoint: interrupt it at any moment and run it again.

    \b
    Examples:
      GITHUB_TOKEN=... kubesift export --repo kubernetes/kubernetes
      kubesift export --repo kubernetes/kubernetes --update
      kubesift export --repo kubernetes/kubernetes --verify
    """
    check_repo(repo)
    if update and full:
        raise UserError("--update and --full contradict each other; pick one")
    cfg = settings()
    auth = auth_from(
        os.environ,
        token_file=token_file,
        app_id=app_id,
        app_key_file=app_key_file,
        installation_id=installation_id,
        repo=repo,
    )
    console = Console(stderr=True)
    with progress_for(console) as progress:
        report = export_repository(
            store(cfg),
            repo,
            api_url=api_url or cfg.api_url,
            auth=auth,
            full=full,
            events=not no_events,
            verify=verify,
            per_page=per_page,
            max_wait=max_wait,
            progress=progress,
        )
    _render(console, report, as_json)


def _render(console: Console, report: ExportReport, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(report.as_dict()))
        return
    console.print(report.summary())
    if report.gaps is not None:
        console.print(
            "verify: "
            + ", ".join(f"{n:,} {k}" for k, n in report.gaps.items())
            + " (of the numbers missing from the listing)"
        )
    console.print(report.requests_line())
