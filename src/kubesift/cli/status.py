"""``kubesift status``."""

from __future__ import annotations

import json
from dataclasses import asdict

import click
from rich.console import Console
from rich.table import Table
from sqlalchemy.engine import make_url

from kubesift.cli.common import settings, store
from kubesift.store.queries import RepoSummary, summarize


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def status(as_json: bool) -> None:
    """Show what the store holds for each repository."""
    cfg = settings()
    engine = store(cfg)
    with engine.connect() as conn:
        rows = summarize(conn)
    if as_json:
        click.echo(json.dumps([asdict(r) for r in rows], indent=2))
        return
    console = Console()
    console.print(f"store: {make_url(cfg.database_url).render_as_string(hide_password=True)}")
    if not rows:
        console.print(
            "The store is empty. Try `kubesift import release-notes PATH` or "
            "`kubesift export --repo OWNER/NAME`."
        )
        return
    for r in rows:
        table = Table(title=r.full_name, show_header=False, title_justify="left")
        table.add_column(style="bold")
        table.add_column(justify="right")
        for key, value in _lines(r):
            table.add_row(key, value)
        console.print(table)


def _lines(r: RepoSummary) -> list[tuple[str, str]]:
    return [
        ("issues", f"{r.issues:,}"),
        ("pull requests", f"{r.pull_requests:,}"),
        ("open", f"{r.open:,}"),
        ("deleted/transferred", f"{r.gone:,}"),
        ("labels", f"{r.labels:,}"),
        ("label events", f"{r.label_events:,}"),
        ("release notes", f"{r.release_notes:,}"),
        ("first created", r.first_created or "–"),
        ("last updated", r.last_updated or "–"),
        ("last sync", r.last_sync or "never"),
        ("export", "interrupted, run export to resume" if r.in_progress else "idle"),
    ]
