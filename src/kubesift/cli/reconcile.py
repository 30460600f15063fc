"""``kubesift reconcile``: drive the store, the models and the bot towards the desired state."""

from __future__ import annotations

import json
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
from rich.console import Console
from rich.table import Table
from sqlalchemy.engine import Engine

from kubesift.config import Settings, load_settings
from kubesift.errors import UserError
from kubesift.reconcile.desired import Desired, desired_from, parse_duration
from kubesift.reconcile.records import Decision
from kubesift.reconcile.steps import STEPS
from kubesift.store import open_store

if TYPE_CHECKING:
    from kubesift.collect.service import ExportReport

_COLOURS = {
    "error": "red",
    "refused": "yellow",
    "aborted": "yellow",
    "rolled-back": "yellow",
    "hold": "yellow",
    "none": "dim",
}


def _settings(config: Path | None) -> Settings:
    env = dict(os.environ)
    if config is not None:
        env["KUBESIFT_CONFIG"] = str(config)
    return load_settings(env)


def _exporter(
    engine: Engine, cfg: Settings, max_wait: float, events: bool, console: Console
) -> Callable[[str], ExportReport]:
    """repo → what was fetched, with credentials from the environment (never logged)."""
    from kubesift.cli.progress import progress_for
    from kubesift.collect.service import export_repository
    from kubesift.github import auth_from

    def run(repo: str) -> ExportReport:
        with progress_for(console) as progress:
            return export_repository(
                engine,
                repo,
                api_url=cfg.api_url,
                auth=auth_from(os.environ, repo=repo),
                events=events,
                max_wait=max_wait,
                progress=progress,
            )

    return run


config_option = click.option(
    "--config",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The desired state (a kubesift.toml with a [reconcile] table); default "
    "$KUBESIFT_CONFIG or ./kubesift.toml.",
)


@click.group(invoke_without_command=True)
@click.option("--once", is_flag=True, help="Run one pass and exit (the default).")
@click.option("--interval", metavar="DURATION", help="Run a pass every DURATION (15m, 1h…).")
@click.option(
    "--step",
    "steps",
    multiple=True,
    type=click.Choice(STEPS),
    help="Run only these controllers (repeatable; always in the order " + " → ".join(STEPS) + ").",
)
@config_option
@click.option(
    "--max-wait",
    type=float,
    default=600.0,
    show_default=True,
    help="Longest GitHub rate-limit wait per repository, in seconds.",
)
@click.option(
    "--lock-ttl",
    type=float,
    default=120.0,
    show_default=True,
    help="Seconds a silent reconciler keeps the store lock.",
)
@click.pass_context
def reconcile_group(
    click_ctx: click.Context,
    once: bool,
    interval: str | None,
    steps: tuple[str, ...],
    config: Path | None,
    max_wait: float,
    lock_ttl: float,
) -> None:
    """Observe the store, the models and the bot's feedback, compare with the desired
    state in kubesift.toml ([reconcile]) and act: export → train → evaluate →
    promote → canary → rollback. Every decision is recorded with its reason.

    \b
    One reconciler acts at a time (a lock in the store); a second one exits at once
    with exit code 0 and says who holds the lock. A pass that is killed is picked
    up by the next one. A candidate is promoted only if no label's F1 drops by more
    than promotion.max_label_f1_drop and no family's micro-F1 drops, on the newest
    slice of the data; with canary.share > 0 the bot first sends that share of items
    to it and online precision from human corrections decides.

    \b
    Examples:
      kubesift reconcile --once
      kubesift reconcile --interval 15m
      kubesift reconcile --once --step train --step evaluate
      kubesift reconcile status
    """
    if click_ctx.invoked_subcommand is not None:
        return
    if once and interval:
        raise UserError("--once and --interval contradict each other; pick one")
    every = parse_duration(interval, "--interval") if interval else None
    if every is not None and every < 1:
        raise UserError("--interval must be at least 1s")
    cfg = _settings(config)
    desired = desired_from(cfg.extra)
    console = Console(stderr=True)
    if every is None:
        status = _one_pass(cfg, desired, steps, max_wait, lock_ttl, console)
        if status == "failed":
            sys.exit(1)
        return
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    while not stop.is_set():
        started = time.monotonic()
        _one_pass(cfg, desired, steps, max_wait, lock_ttl, console)
        console.print(f"next pass in {interval}", style="dim")
        stop.wait(max(every - (time.monotonic() - started), 0))


def _one_pass(
    cfg: Settings,
    desired: Desired,
    steps: tuple[str, ...],
    max_wait: float,
    lock_ttl: float,
    console: Console,
) -> str:
    from kubesift.reconcile.runner import run_pass

    engine = open_store(cfg)
    from kubesift.reconcile.controllers import Context

    ctx = Context(
        engine,
        cfg.models_dir_for(desired.source),
        desired,
        export=_exporter(engine, cfg, max_wait, desired.events, console),
        note=lambda msg: console.print(msg, style="dim"),
    )
    result = run_pass(ctx, steps, lock_ttl=lock_ttl, on_decision=lambda d: _show(console, d))
    if result.status == "skipped":
        console.print(f"reconcile: skipped, {result.error}")
    else:
        console.print(
            f"reconcile: pass {result.run_id} {result.status}"
            + (f" ({result.error})" if result.error else "")
        )
    return result.status


def _show(console: Console, d: Decision) -> None:
    colour = _COLOURS.get(d.action, "green")
    subject = f" {d.subject}" if d.subject else ""
    console.print(
        f"[bold]{d.controller:<8}[/] [{colour}]{d.action}[/]{subject}: {d.reason}", soft_wrap=True
    )


@reconcile_group.command("status")
@config_option
@click.option(
    "--runs",
    default=3,
    show_default=True,
    type=click.IntRange(1, 1000),
    help="How many recent passes to show.",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of tables.")
def status_command(config: Path | None, runs: int, as_json: bool) -> None:
    """The desired state, the production / canary / candidate models, the lock, and
    the decisions of the most recent passes."""
    from kubesift.reconcile.status import gather

    cfg = _settings(config)
    desired = desired_from(cfg.extra)
    info = gather(open_store(cfg), cfg.models_dir_for(desired.source), desired, runs)
    if as_json:
        click.echo(json.dumps(info, indent=2, default=str))
        return
    _print_status(Console(), info)


def _print_status(console: Console, info: Mapping[str, Any]) -> None:
    models = info["models"]
    console.print(
        f"[bold]production[/] {models['production'] or '(none)'}"
        f"   [bold]canary[/] {models['canary'] or '(none)'}"
        f"   [bold]candidate[/] {models['candidate'] or '(none)'}"
    )
    lock = info["lock"]
    console.print(
        f"[bold]lock[/] {lock['holder'] or 'free'}"
        + (f" until {lock['expires_at']}" if lock["holder"] else "")
    )
    d = info["desired"]

    def listed(values: Any) -> str:
        return ", ".join(values) or "(none)"

    console.print(
        f"[bold]desired[/] {d['model']} on {d['source']}: labels {listed(d['labels'])}; "
        f"families {listed(d['families'])}; repositories {listed(d['repositories'])}"
    )
    if not info["runs"]:
        console.print("No reconcile pass has run yet: `kubesift reconcile --once`.")
    for run in info["runs"]:
        table = Table(
            title=f"pass {run['id']} · {run['status']} · {run['started_at']} · {run['holder']}",
            title_justify="left",
        )
        for column in ("controller", "action", "subject", "reason"):
            table.add_column(column, overflow="fold")
        for dec in run["decisions"]:
            table.add_row(dec["controller"], dec["action"], dec["subject"] or "", dec["reason"])
        if run.get("error") and not run["decisions"]:
            table.add_row("", run["status"], "", run["error"])
        console.print(table)
