"""``kubesift analyze`` and ``kubesift report``."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import click

from kubesift.analyze import (
    ANALYSES,
    Analysis,
    Filters,
    analyze,
    load,
    printable,
    rows_of,
    write_charts,
)
from kubesift.cli.common import check_repo, settings, store
from kubesift.errors import UserError
from kubesift.timeutil import utcnow_iso

DATE = click.DateTime(formats=["%Y-%m-%d"])


def filter_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    """The options that choose which items an analysis looks at."""
    options = [
        click.option("--issues", "only_issues", is_flag=True, help="Only issues."),
        click.option("--pull-requests", "only_prs", is_flag=True, help="Only pull requests."),
        click.option("--repo", "-r", metavar="OWNER/NAME", help="Only this repository."),
        click.option("--since", type=DATE, help="Only items created on or after this date."),
        click.option("--until", type=DATE, help="Only items created on or before this date."),
        click.option(
            "--include", multiple=True, metavar="REGEX", help="Only items with a matching label."
        ),
        click.option(
            "--exclude", multiple=True, metavar="REGEX", help="Drop items with a matching label."
        ),
        click.option("--top", default=25, show_default=True, help="How many rows in rankings."),
    ]
    for option in reversed(options):
        fn = option(fn)
    return fn


def make_filters(
    only_issues: bool,
    only_prs: bool,
    repo: str | None,
    since: datetime | None,
    until: datetime | None,
    include: Sequence[str],
    exclude: Sequence[str],
) -> Filters:
    """Filters from the command-line options, checked."""
    if since and until and since > until:
        raise UserError("--since must not be after --until")
    kinds: tuple[str, ...] = ("issue", "pr")
    if only_issues != only_prs:
        kinds = ("issue",) if only_issues else ("pr",)
    return Filters(
        kinds=kinds,
        repo=check_repo(repo) if repo else None,
        since=since.date() if since else None,
        until=until.date() if until else None,
        include=tuple(include),
        exclude=tuple(exclude),
    )


def _analysis_flags(fn: Callable[..., Any]) -> Callable[..., Any]:
    for name in reversed(list(ANALYSES)):
        flag = click.option(
            f"--{name}", f"want_{name.replace('-', '_')}", is_flag=True, help=ANALYSES[name].help
        )
        fn = flag(fn)
    return fn


@click.command("analyze")
@_analysis_flags
@click.option("--all", "want_all", is_flag=True, help="Every analysis above.")
@filter_options
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["chart", "csv", "json"]),
    default="chart",
    show_default=True,
    help="Draw charts (SVG and PNG under $KUBESIFT_HOME/assets) or print the numbers.",
)
def analyze_command(want_all: bool, top: int, fmt: str, **options: Any) -> None:
    """Chart the store: growth, labels, users, release notes and maintainers' metrics."""
    names = [n for n in ANALYSES if want_all or options.pop(f"want_{n.replace('-', '_')}", False)]
    if not names:
        raise UserError("choose an analysis (for example --created-vs-closed) or --all")
    filters = make_filters(**{k: v for k, v in options.items() if not k.startswith("want_")})
    cfg = settings()
    results = analyze(load(store(cfg), filters), names, filters, top)
    if fmt == "csv":
        click.echo(_as_csv(results), nl=False)
    elif fmt == "json":
        click.echo(json.dumps(_as_json(results), indent=2))
    else:
        for path in write_charts(results, cfg.assets_dir, filters.kinds):
            click.echo(str(path))


def _as_csv(results: Sequence[Analysis]) -> str:
    if len(results) == 1:
        return str(printable(results[0].table).to_csv(index=False))
    return "\n".join(f"# {a.name}\n{printable(a.table).to_csv(index=False)}" for a in results)


def _as_json(results: Sequence[Analysis]) -> dict[str, Any]:
    return {a.name: {"title": a.title, "note": a.note, "rows": rows_of(a)} for a in results}


@click.command("report")
@filter_options
@click.option(
    "--output",
    "-o",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Where to write the HTML (default $KUBESIFT_HOME/assets/report.html).",
)
def report_command(output: Path | None, top: int, **options: Any) -> None:
    """Write one self-contained HTML report with every chart and table (opens offline)."""
    from kubesift.analyze.report import render_report
    from kubesift.store.queries import summarize

    filters = make_filters(**options)
    cfg = settings()
    engine = store(cfg)
    frames = load(engine, filters)
    results = [] if frames.empty else analyze(frames, list(ANALYSES), filters, top)
    with engine.connect() as conn:
        summaries = summarize(conn)
    created = frames.items["created_at"].dropna()
    date_range = None
    if len(created):
        date_range = (f"{created.min():%Y-%m-%d}", f"{created.max():%Y-%m-%d}")
    page = render_report(results, summaries, _scope(filters), date_range, utcnow_iso())
    path = output or cfg.assets_dir / "report.html"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(page, encoding="utf-8")
    click.echo(str(path))


def _scope(filters: Filters) -> str:
    from kubesift.analyze.analyses import noun_for

    parts = [
        noun_for(filters.kinds),
        f"in {filters.repo}" if filters.repo else "in all repositories",
    ]
    if filters.since or filters.until:
        parts.append(f"created {filters.since or '…'} to {filters.until or '…'}")
    parts += [f"labels matching {p}" for p in filters.include]
    parts += [f"without labels matching {p}" for p in filters.exclude]
    return ", ".join(parts)
