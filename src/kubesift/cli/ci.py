"""``kubesift ci``: CI results in, grid / flakes / regressions / search / clusters out."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.markup import escape as esc

from kubesift.ci import clusters as clusters_mod
from kubesift.ci import flakes as flakes_mod
from kubesift.ci import grid as grid_mod
from kubesift.ci import jobs as jobs_mod
from kubesift.ci import queries, variants
from kubesift.ci import regressions as regressions_mod
from kubesift.ci import search as search_mod
from kubesift.ci.importer import BATCH, DEFAULT_LOG_TAIL, DEFAULT_MAX_JUNIT, import_runs
from kubesift.ci.junit import ABSENT, FAIL, FLAKY, PASS
from kubesift.ci.logs import DEFAULT_KEEP
from kubesift.ci.readiness import Settings
from kubesift.ci.sources import GCS_API, open_source
from kubesift.cli import tables
from kubesift.cli.common import settings, store
from kubesift.cli.progress import progress_for

json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
end_option = click.option(
    "--end", metavar="TIME", help="End of the window (a date or ISO time; default now)."
)
CELL = {PASS: "[green]■[/]", FAIL: "[red]■[/]", FLAKY: "[magenta]■[/]", ABSENT: "[dim]·[/]"}
#: Problems an import prints on stderr (every one is in --json).
SHOWN_PROBLEMS = 20


def _echo_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, default=str))


def _rules(path: Path | None) -> variants.Rules:
    return variants.load(path or settings().ci_variants)


@click.group("ci")
def ci_group() -> None:
    """CI results: Prow runs in; TestGrid's grid, Sippy's regressions and flakes, failure
    search and clusters, and the open issue that tracks a failure, out.

    \b
    Start with:
      kubesift ci import ./gcs-mirror            (logs/<job>/<build>/, pr-logs/pull/...)
      kubesift ci import gs://kubernetes-jenkins --job ci-kubernetes-e2e-gci-gce --latest 50
      kubesift ci regressions
    """


@ci_group.command("import")
@click.argument("source")
@click.option("--api-url", default=GCS_API, show_default=True, help="The GCS JSON API to use.")
@click.option(
    "--variants",
    "variants_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Variant, component and key-test rules (default: the packaged variants.toml).",
)
@click.option("--workers", type=click.IntRange(1, 64), default=2, show_default=True)
@click.option(
    "--log-tail",
    type=click.IntRange(0),
    default=DEFAULT_LOG_TAIL,
    show_default=True,
    help="Bytes of a failed run's build-log.txt end kept for symptoms and the failure "
    "panel (0: none).",
)
@click.option(
    "--log-keep-mb",
    type=click.FloatRange(0, 1024),
    default=DEFAULT_KEEP / 2**20,
    show_default=True,
    help="MiB of a failed run's build log kept whole and indexed for `ci search --in logs` "
    "(the end of a longer log; 0: none).",
)
@click.option(
    "--batch",
    type=click.IntRange(1, 100_000),
    default=BATCH,
    show_default=True,
    help="Runs committed per transaction (a run is never half-written).",
)
@click.option("--job", "job", metavar="REGEX", help="Only jobs whose name matches.")
@click.option(
    "--max-junit-mb",
    type=click.FloatRange(0.001, 4096),
    default=DEFAULT_MAX_JUNIT / 2**20,
    show_default=True,
    help="Skip (and name) a JUnit file larger than this: parsing streams, but a reader "
    "holds one file and one record per distinct test in it.",
)
@click.option(
    "--latest",
    type=click.IntRange(1),
    help="Only each job's newest N builds (a large bucket holds years of them).",
)
@click.option(
    "--notify-bot",
    is_flag=True,
    help="Queue a comment refresh for each PR with a newly failed presubmit (kubesift bot).",
)
@json_option
def import_command(
    source: str,
    api_url: str,
    variants_file: Path | None,
    workers: int,
    log_tail: int,
    log_keep_mb: float,
    batch: int,
    job: str | None,
    latest: int | None,
    max_junit_mb: float,
    notify_bot: bool,
    as_json: bool,
) -> None:
    """Import Prow runs from SOURCE: a directory in Prow's GCS layout or gs://BUCKET/PREFIX.

    Reads started.json, finished.json, prowjob.json, podinfo.json, every JUnit file
    (a path containing "junit" and ending .xml) and the tail of failed runs' build-log.txt.
    Only runs not stored yet are read; runs still going are read again next time. A
    bucket is read anonymously unless KUBESIFT_GCS_TOKEN holds an OAuth token.

    A bad file (malformed, a field of the wrong type, a time outside 2000-2100, nested
    too deep, too big, not a regular file) is skipped and named on stderr, one line
    each, and counted; the rest of its run and of the batch is stored.
    """
    rules = _rules(variants_file)
    engine = store()
    src = open_source(source, api_url=api_url, token=os.environ.get("KUBESIFT_GCS_TOKEN"))
    console = Console(stderr=True)
    # A bar on a terminal; plain periodic lines in a log or a pipe.
    with progress_for(console) as progress:
        report = import_runs(
            engine,
            src,
            rules,
            progress,
            workers=workers,
            log_tail=log_tail,
            log_keep=int(log_keep_mb * 2**20),
            batch_size=batch,
            job=job,
            latest=latest,
            max_junit=int(max_junit_mb * 2**20),
        )
    if notify_bot:
        from kubesift.bot.ci_update import enqueue

        newest = {(repo, pr): path for repo, pr, path in report.failed_prs}
        queued = enqueue(engine, [(r, n, p) for (r, n), p in newest.items()])
        if not as_json:
            click.echo(f"queued {queued} PR comment refreshes for the bot")
    if as_json:
        _echo_json(report.as_dict())
    else:
        click.echo(report.summary())
    if report.errors and not as_json:
        for line in report.errors[:SHOWN_PROBLEMS]:
            click.echo(f"  problem: {line}", err=True)
        if len(report.errors) > SHOWN_PROBLEMS:
            more = len(report.errors) - SHOWN_PROBLEMS
            click.echo(f"  … and {more:,} more (--json lists every one)", err=True)


@ci_group.command("jobs")
@click.option("--days", type=float, help="Only runs started in the last DAYS (default: all).")
@json_option
def jobs_command(days: float | None, as_json: bool) -> None:
    """List the CI jobs in the store with their runs, failures, pass rate and variants
    (the dashboard's job table is this over --days 7)."""
    with store().connect() as conn:
        rows = jobs_mod.jobs(conn, days)
    if as_json:
        _echo_json([r.as_dict() for r in rows])
        return
    table = tables.table(
        "job", "runs", "failed", "passed", "last run", "variants",
        numeric=("runs", "failed", "passed"),
        title=f"Runs in the last {days:g} days" if days else "Every stored run",
    )  # fmt: skip
    for r in rows:
        rate = f"{r.pass_pct:.1f}%" if r.pass_pct is not None else "–"
        table.add_row(esc(r.name), f"{r.runs:,}", f"{r.failed:,}", rate, r.last_run or "–",
                      esc(r.variants))  # fmt: skip
    Console().print(table)


@ci_group.command("grid")
@click.argument("job")
@click.option("--runs", type=click.IntRange(1, 1000), default=30, show_default=True)
@click.option("--failing", "only", flag_value="failing", help="Only rows with a failure.")
@click.option("--flaky", "only", flag_value="flaky", help="Only rows with a flake or flips.")
@json_option
def grid_command(job: str, runs: int, only: str | None, as_json: bool) -> None:
    """TestGrid's view of JOB: tests × its latest runs (newest first), with alerts after
    3 consecutive failures. Status codes: 0 no result, 1 pass, 12 fail, 13 flaky."""
    with store().connect() as conn:
        g = grid_mod.grid(conn, job, runs=runs, only=only)
    if as_json:
        _echo_json(g.as_dict())
        return
    console = Console()
    console.print(
        f"[bold]{esc(job)}[/]: {len(g.columns)} runs, {len(g.rows) - 1} tests, {g.alerts} alerts"
    )
    for row in g.rows:
        cells = "".join(CELL.get(c, "[yellow]■[/]") for c in row.cells)
        flag = " [red]ALERT[/]" if row.alert else ""
        console.print(f"{cells} {esc(row.name)}{flag}", highlight=False)


@ci_group.command("tabs")
@click.option("--job", help="Only this job.")
@end_option
@click.option("--stale-hours", type=click.FloatRange(min=1), default=72, show_default=True,
              help="A job whose newest run is older than this is STALE.")  # fmt: skip
@json_option
def tabs_command(job: str | None, end: str | None, stale_hours: float, as_json: bool) -> None:
    """TestGrid's tab summary per job: PASSING, FLAKY (a red or flaky cell in the 10 newest
    runs), FAILING (a test failing 3 times in a row), STALE (no run for --stale-hours) or
    PENDING; and the mean flip flakiness of its tests over 7 days against the 7 before
    (trend UP / DOWN at 1 point or more, else NO_CHANGE)."""
    from kubesift.ci import tabs

    with store().connect() as conn:
        rows = tabs.tab_states(conn, end=end, job=job, stale_hours=stale_hours)
    if as_json:
        _echo_json([t.as_dict() for t in rows])
        return
    table = tables.table("job", "state", "why", "flakiness 7 d", "before", "trend",
                         numeric=("flakiness 7 d", "before"))  # fmt: skip
    if not rows:
        click.echo("No CI jobs yet: run `kubesift ci import SOURCE`.")
        return
    colour = {"PASSING": "green", "FLAKY": "magenta", "FAILING": "red"}
    for t in rows:
        c = colour.get(t.state, "dim")
        table.add_row(esc(t.job), f"[{c}]{t.state}[/]", esc(t.reason), f"{t.flakiness:.2f}%",
                      f"{t.flakiness_before:.2f}%", t.trend)  # fmt: skip
    Console().print(table)


@ci_group.command("timeline")
@click.argument("job")
@click.argument("build")
@click.option(
    "--kind",
    "kinds",
    multiple=True,
    metavar="KIND",
    help="Only intervals of this kind (test, pod, node, alert, event...); repeatable.",
)
@click.option("--failed", "only_failed", is_flag=True, help="Only failed tests and containers.")
@json_option
def timeline_command(
    job: str, build: str, kinds: tuple[str, ...], only_failed: bool, as_json: bool
) -> None:
    """Build BUILD of JOB on one time axis: the run, its pod's containers, tests (from
    JUnit start times), and OpenShift's monitor intervals and Kubernetes Events where the
    run shipped them, each interval with its source. Failed tests are marked FAILED."""
    from kubesift.ci import views

    with store().connect() as conn:
        body = views.run_timeline(conn, job, build)
    shown = [i for i in body["intervals"]
             if (not kinds or i["kind"] in kinds) and (not only_failed or i["failed"])]  # fmt: skip
    if as_json:
        _echo_json({**body, "intervals": shown, "shown": len(shown)})
        return
    console = Console()
    sources = ", ".join(f"{k} {v:,}" for k, v in body["sources"].items()) or "none"
    console.print(
        f"[bold]{esc(job)}[/] build {esc(build)}: {esc(body['state'])}, "
        f"{body['count']:,} intervals ({sources}), {body['failed']:,} failed"
    )
    for i in shown:
        mark = "[red]FAILED[/] " if i["failed"] else ""
        span = i["from"][11:23] + (f" → {i['to'][11:23]}" if i["to"] != i["from"] else "")
        console.print(
            f"{span:<27} {esc(i['source']):<9} {esc(i['kind']):<10} {mark}{esc(i['row'])}: "
            f"{esc(i['text'])}",
            highlight=False, soft_wrap=True,
        )  # fmt: skip
    if body["failed_unplaced"]:
        console.print(
            f"{len(body['failed_unplaced']):,} failed tests have no start time in what the "
            "run shipped, so they are not on the axis: "
            + "; ".join(esc(t) for t in body["failed_unplaced"][:5])
        )
    if body["dropped"]:
        console.print(f"{body['dropped']:,} intervals over the per-run cap were not kept.")


@ci_group.group("symptoms")
def symptoms_group() -> None:
    """Symptoms: matchers (a string, an RE2 regex, a file that exists) that label every
    failed run they match, shown on runs, the grid, clusters, regressions and the bot's CI
    section. Defined in a TOML file (load) or from the dashboard by the token holder.

    \b
      [[symptom]]
      id = "infra-dns"
      summary = "Cluster DNS failed"
      regex = 'lookup [^ ]+ on [0-9.:]+: (server misbehaving|no such host)'
      in = "log"                # log | failures | any (default)
      # or: string = "..."      (a substring)   or: file = "*/must-gather/*"
    """


@symptoms_group.command("list")
@json_option
def symptoms_list(as_json: bool) -> None:
    """Every symptom, where it is defined, and how many failed runs carry it."""
    from kubesift.ci import symptom_store

    with store().connect() as conn:
        rows = symptom_store.listed(conn)
    if as_json:
        _echo_json(rows)
        return
    table = tables.table("id", "runs", "matcher", "in", "pattern", "summary", "from")
    for r in rows:
        table.add_row(esc(r["id"]), f"{r['runs']:,}", r["matcher"], r["in"], esc(r["pattern"]),
                      esc(r["summary"]), r["origin"])  # fmt: skip
    Console().print(table if rows else "No symptoms defined: kubesift ci symptoms load FILE")


@symptoms_group.command("load")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@json_option
def symptoms_load(file: Path, as_json: bool) -> None:
    """Make FILE's symptoms the file-defined ones: new and changed ones are applied to every
    stored failed run, ones no longer in FILE are removed with their labels."""
    _apply_symptoms(lambda engine, tick: _load_file(engine, file, tick), as_json)


@symptoms_group.command("apply")
@json_option
def symptoms_apply(as_json: bool) -> None:
    """Re-apply every symptom to every stored failed run (idempotent)."""
    from kubesift.ci import symptom_store

    def run(engine: Any, tick: Any) -> Any:
        with engine.connect() as conn:
            return symptom_store.reapply(engine, symptom_store.load(conn), progress=tick)

    _apply_symptoms(run, as_json)


@symptoms_group.command("remove")
@click.argument("ident", metavar="ID")
def symptoms_remove(ident: str) -> None:
    """Remove a symptom and its labels."""
    from kubesift.ci import symptom_store

    symptom_store.remove(store(), ident)
    click.echo(f"removed symptom {ident}")


def _load_file(engine: Any, file: Path, tick: Any) -> Any:
    from kubesift.ci import symptom_store
    from kubesift.ci import symptoms as sym

    text = _read_rules(file)
    found = sym.parse_file(text, str(file))
    return symptom_store.define(engine, found, "file", replace_all=True, progress=tick)


def _read_rules(file: Path) -> str:
    """A rules file's text (symptoms, allowances, renames), or a one-line error."""
    try:
        return file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise click.ClickException(f"{file}: cannot read ({exc})") from None


def _apply_symptoms(work: Any, as_json: bool) -> None:
    engine = store()
    console = Console(stderr=True)
    with progress_for(console) as progress:
        progress.phase("applying symptoms to failed runs", None)
        done = work(engine, lambda n: progress.advance(n, None))
    if as_json:
        _echo_json(done.as_dict())
        return
    parts = [f"{len(done.added)} added", f"{len(done.changed)} changed",
             f"{len(done.removed)} removed"]  # fmt: skip
    click.echo(f"symptoms: {', '.join(parts)}; {done.runs_examined:,} failed runs examined")
    for ident, count in sorted(done.matched.items()):
        click.echo(f"  {ident}: {count:,} failed runs")


@ci_group.group("allowances")
def allowances_group() -> None:
    """Intentional regressions: accepted pass rates that Component Readiness allows.

    \b
      [[allowance]]
      test = "[sig-network] Services should serve endpoints"
      variants = "Platform:aws,Release:4.17"
      reason = "the new endpoint controller trades latency for correctness"
      issue = "openshift/origin#123"
      regressed = { successes = 90, failures = 10, flakes = 0 }
    """


@allowances_group.command("load")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def allowances_load(file: Path) -> None:
    """Make FILE's allowances the ones Component Readiness applies (replacing the stored)."""
    from kubesift.ci import allowances

    text = _read_rules(file)
    count = allowances.define(store(), allowances.parse_file(text, str(file)))
    click.echo(f"{count} intentional regressions allowed")


@allowances_group.command("list")
@json_option
def allowances_list(as_json: bool) -> None:
    """The allowances Component Readiness applies."""
    from kubesift.ci import allowances

    with store().connect() as conn:
        rows = [a.as_dict() for a in allowances.load(conn)]
    if as_json:
        _echo_json(rows)
        return
    for a in rows:
        r = a["regressed"]
        click.echo(f"{a['test']} [{a['variants']}] accepted at {r['success']}/{r['failure']}/"
                   f"{r['flake']} (pass/fail/flake): {a['reason']}")  # fmt: skip


@ci_group.group("renames")
def renames_group() -> None:
    """Test renames: a renamed test keeps its history.

    \b
      [[rename]]
      from = "[sig-network] Services should serve endpoints"
      to = "[sig-network] Services should serve endpoints on every node"
    """


@renames_group.command("load")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--variants", "variants_file", type=click.Path(exists=True, path_type=Path),
              help="Variant rules (for a new name's component; default: packaged).")  # fmt: skip
@json_option
def renames_load(file: Path, variants_file: Path | None, as_json: bool) -> None:
    """Add FILE's renames and merge each old name's stored history (results, daily counts,
    rosters, regressions) into its new name, in one transaction; later imports record the
    old name as the new."""
    from kubesift.ci import renames

    text = _read_rules(file)
    done = renames.define(store(), renames.parse_file(text, str(file)), _rules(variants_file))
    if as_json:
        _echo_json(done.as_dict())
        return
    click.echo(
        f"{done.renames} renames; {done.tests_merged} stored tests merged into their new names "
        f"({done.results_moved:,} results moved, {done.results_dropped:,} dropped where a run had "
        f"both names, {done.regressions_moved} regressions, {done.rosters_rewritten:,} rosters)"
    )


@renames_group.command("list")
@json_option
def renames_list(as_json: bool) -> None:
    """The stored renames, old name → new name."""
    from kubesift.ci import renames

    with store().connect() as conn:
        rows = renames.listed(conn)
    if as_json:
        _echo_json(rows)
        return
    for r in rows:
        click.echo(f"{r['from']}  →  {r['to']}")


@ci_group.command("flakes")
@click.option("--days", type=float, default=7, show_default=True)
@end_option
@click.option("--job", help="Only this job.")
@click.option("--min-runs", type=click.IntRange(1), default=3, show_default=True)
@json_option
def flakes_command(
    days: float, end: str | None, job: str | None, min_runs: int, as_json: bool
) -> None:
    """Flaky tests per job: Sippy's flake % (failed, then passed on retry in the same run)
    and TestGrid's flip flakiness (pass→fail flips, runs of ≥3 failures skipped)."""
    with store().connect() as conn:
        rows = flakes_mod.flakes(conn, days=days, end=end, job=job, min_runs=min_runs)
    if as_json:
        _echo_json([r.as_dict() for r in rows])
        return
    table = tables.table(
        "test", "job", "runs", "flake %", "flips %", "working %",
        numeric=("runs", "flake %", "flips %", "working %"),
    )  # fmt: skip
    for r in rows[:100]:
        table.add_row(
            esc(r.test),
            esc(r.job),
            str(r.runs),
            f"{r.flake_pct:.1f}",
            f"{r.flip_flakiness:.1f}",
            f"{r.working_pct:.1f}",
        )
    Console().print(table)
    if not rows:
        click.echo("No flaky test in this window.")


@ci_group.command("regressions")
@click.option("--sample-days", type=float, default=7, show_default=True)
@click.option("--basis-days", type=float, default=30, show_default=True)
@end_option
@click.option("--confidence", type=click.IntRange(50, 99), default=95, show_default=True)
@click.option("--pity", type=float, default=5.0, show_default=True, help="Allowed drop, points.")
@click.option("--min-fail", type=click.IntRange(0), default=3, show_default=True)
@click.option(
    "--new-test-pass-rate", type=float, default=95.0, show_default=True, help="0 turns it off."
)
@click.option(
    "--fdr",
    type=click.FloatRange(0, 1),
    default=0.01,
    show_default=True,
    help="False discovery rate across cells (0: judge each cell alone, as Sippy does).",
)
@click.option("--no-record", is_flag=True, help="Report only; do not open or close records.")
@click.option("--release-fallback/--no-release-fallback", default=True, show_default=True,
              help="Judge Release:X against the release before when that passed more.")  # fmt: skip
@click.option("--variants", "variants_file", type=click.Path(dir_okay=False, path_type=Path))
@json_option
def regressions_command(
    sample_days: float,
    basis_days: float,
    end: str | None,
    confidence: int,
    pity: float,
    min_fail: int,
    new_test_pass_rate: float,
    fdr: float,
    no_record: bool,
    release_fallback: bool,
    variants_file: Path | None,
    as_json: bool,
) -> None:
    """Component Readiness: each test × variant combination, its last SAMPLE_DAYS against
    the BASIS_DAYS before, by Sippy's procedure (right-tailed Fisher, pity, minimum
    failures, extreme drop > 15 points, pass-rate floor for new tests), with the false
    discovery rate controlled across cells (Benjamini–Hochberg; --fdr 0 for Sippy's
    per-cell test). Regressions are recorded: opened, kept open with hysteresis, closed,
    reopened within 5 days."""
    s = Settings(
        confidence=confidence,
        pity=pity,
        minimum_failure=min_fail,
        pass_rate_new_tests=new_test_pass_rate,
        fdr=fdr,
        release_fallback=release_fallback,
    )
    rules = _rules(variants_file)
    with store().begin() as conn:
        rep = regressions_mod.report(
            conn, list(rules.columns), s, sample_days, basis_days, end, record=not no_record,
            key_tests=rules.key_tests,
        )  # fmt: skip
    if as_json:
        _echo_json(rep.as_dict())
        return
    _print_report(rep)


def _print_report(rep: regressions_mod.Report) -> None:
    console = Console()
    console.print(
        f"sample {rep.sample.start} → {rep.sample.end}, basis {rep.basis.start} → "
        f"{rep.basis.end}: {rep.cells_judged:,} cells, {len(rep.regressed)} regressed "
        f"({rep.opened} opened, {rep.reopened} reopened, {rep.closed} closed)"
    )
    table = tables.table("id", "status", "test", "variants", "sample", "basis", "p", "issue")
    for c in rep.regressed:
        table.add_row(
            str(c.regression_id or "–"),
            c.assessment.name,
            esc(c.test),
            esc(c.column),
            f"{c.sample.fails()}/{c.sample.total}",
            f"{c.basis.fails()}/{c.basis.total}",
            f"{c.assessment.p:.2g}" if c.assessment.p is not None else "–",
            c.issue or "",
        )
    if rep.regressed:
        console.print(table)
    else:
        console.print("No regression in this window.")


@ci_group.command("rederive")
@click.option("--variants", "variants_file", type=click.Path(dir_okay=False, path_type=Path))
@json_option
def rederive_command(variants_file: Path | None, as_json: bool) -> None:
    """Apply changed variant or component rules to the runs already stored: every job's
    variants and test's component again, and the per-variant counts rebuilt."""
    from kubesift.ci.save import rederive

    result = rederive(store(), _rules(variants_file))
    if as_json:
        _echo_json(result)
    else:
        click.echo(
            f"{result['jobs_changed']} jobs and {result['tests_changed']} tests changed; "
            f"{result['variant_rows']:,} per-variant daily rows rebuilt"
        )


@ci_group.command("triage")
@click.argument("regression_id", type=int)
@click.argument("issue", metavar="OWNER/NAME#N")
@click.option("--type", "kind", type=click.Choice(["ci-infra", "product-infra", "product", "test"]),
              default="product", show_default=True, help="What kind of failure it is.")  # fmt: skip
@click.option("--description", default="", help="What the triage is about.")
def triage_command(regression_id: int, issue: str, kind: str, description: str) -> None:
    """Record that ISSUE tracks regression REGRESSION_ID (into the issue's open triage, or a
    new one). Its cells then show as triaged regressions."""
    with store().begin() as conn:
        done = regressions_mod.triage(
            conn, regression_id, issue, kind=kind, description=description
        )
    click.echo(f"regression {regression_id} is tracked by {issue} (triage {done['triage_id']})")


@ci_group.command("triages")
@click.option("--all", "every", is_flag=True, help="Resolved triages too.")
@json_option
def triages_command(every: bool, as_json: bool) -> None:
    """Triages, newest first: the issue, its regressions, and what share of their failing
    runs carry each symptom. A triage resolves by itself 5 days after all its regressions
    closed (regressions-rolled-off)."""
    from kubesift.ci import triages

    with store().connect() as conn:
        rows = triages.listed(conn, include_resolved=every)
    if as_json:
        _echo_json(rows)
        return
    table = tables.table("id", "issue", "type", "regressions", "symptoms", "resolved")
    for t in rows:
        regs = "; ".join(f"#{r['id']} {r['test']}" + (" (closed)" if r["closed_at"] else "")
                         for r in t["regressions"])  # fmt: skip
        seen = "; ".join(f"{s['summary']} {100 * s['share']:.0f}%" for s in t["symptoms"][:3])
        done = f"{t['resolved_at']} ({t['resolution']})" if t["resolved_at"] else "–"
        table.add_row(str(t["id"]), esc(t["issue"]), t["type"], esc(regs), esc(seen or "–"), done)
    Console().print(table if rows else "No open triages.")


@ci_group.command("resolve")
@click.argument("triage_id", type=int)
def resolve_command(triage_id: int) -> None:
    """Mark triage TRIAGE_ID fixed: its regressions show as FixedRegression until a failure
    after now makes them FailedFixedRegression."""
    from kubesift.ci import triages

    with store().begin() as conn:
        done = triages.resolve(conn, triage_id)
    click.echo(f"triage {triage_id} resolved at {done['resolved_at']}")


@ci_group.command("search")
@click.argument("pattern", metavar="REGEX")
@click.option("--days", type=float, default=queries.FAILURE_DAYS, show_default=True)
@end_option
@click.option("--job", metavar="REGEX", help="Only jobs whose name matches.")
@click.option(
    "--in", "kinds", type=click.Choice(search_mod.KINDS), multiple=True, help="Default: both."
)
@click.option("--by", "bucket", type=click.Choice(["hour", "day"]), help="Histogram buckets.")
@json_option
def search_command(
    pattern: str,
    days: float,
    end: str | None,
    job: str | None,
    kinds: tuple[str, ...],
    bucket: str | None,
    as_json: bool,
) -> None:
    """Runs whose failure texts or kept build logs match REGEX, per job with the
    share of runs hit, a histogram ("when did it start"), and the issues that mention it.
    A pattern without capitals ignores case."""
    with store().connect() as conn:
        res = search_mod.search(conn, pattern, days, end, job, kinds or search_mod.KINDS, bucket)
    if as_json:
        _echo_json(res.as_dict())
        return
    console = Console()
    console.print(f"{esc(repr(pattern))}: {res.headline()}", highlight=False)
    for j in res.jobs[:20]:
        console.print(
            f"  {esc(j.job)}: {j.matching_runs} runs, {j.pct_of_runs:.1f}% of runs, "
            f"{j.pct_of_failures:.1f}% of failures, {j.first_seen} → {j.last_seen}",
            highlight=False,
        )
    peak = max((c for _, c in res.histogram), default=0)
    for at, count in res.histogram:
        bar = "█" * (round(30 * count / peak) if peak else 0)
        console.print(f"  {at} {bar} {count}", highlight=False)
    for i in res.issues[:5]:
        console.print(
            esc(f"  issue: {i['repo']}#{i['number']} ({i['state']}) {i['title']}"), highlight=False
        )


@ci_group.command("clusters")
@click.option("--days", type=float, default=queries.FAILURE_DAYS, show_default=True)
@end_option
@click.option("--job", help="Only this job.")
@click.option("--limit", type=click.IntRange(1), default=30, show_default=True)
@json_option
def clusters_command(
    days: float, end: str | None, job: str | None, limit: int, as_json: bool
) -> None:
    """Failures clustered as Kubernetes Triage does (normalised text, < 10% edit distance),
    each with its tests, jobs, first seen, owning SIG and the open issue that tracks it."""
    with store().connect() as conn:
        rows = clusters_mod.clusters(conn, days, end, job, limit)
    if as_json:
        _echo_json([r.as_dict() for r in rows])
        return
    console = Console()
    for r in rows:
        issue = f"{r.issue.repo}#{r.issue.number}" if r.issue else "no tracking issue"
        console.print(
            f"[bold]{r.failures}[/] failures, {len(r.tests)} tests, {len(r.jobs)} jobs, "
            f"{esc(r.owner)}, since {r.first_seen} — {esc(issue)}",
        )
        console.print(f"  {esc(r.text[:200])}", highlight=False)
