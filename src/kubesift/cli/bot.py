"""``kubesift bot``: the labeling bot (webhook receiver + worker), its settings and stats."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from kubesift.cli.common import check_repo, settings, store
from kubesift.errors import UserError

FC = Callable[..., Any]


def _worker_options(fn: FC) -> FC:
    options = [
        click.option(
            "--github-token-path",
            type=click.Path(dir_okay=False, path_type=Path),
            default=None,
            help="File with a GitHub token (Prow's flag). GitHub App: KUBESIFT_GITHUB_APP_ID "
            "and KUBESIFT_GITHUB_APP_KEY_FILE instead.",
        ),
        click.option(
            "--github-endpoint",
            default=None,
            metavar="URL",
            help="GitHub API URL (default: KUBESIFT_API_URL or https://api.github.com).",
        ),
        click.option(
            "--dry-run",
            is_flag=True,
            help="Shadow mode: decide and record everything, write nothing to GitHub.",
        ),
        click.option("--no-comment", is_flag=True, help="Label without commenting."),
        click.option(
            "--model-url",
            default=None,
            metavar="URL",
            help="A `kubesift serve` URL (KServe V1) instead of the in-process production model.",
        ),
        click.option(
            "--items-model-url",
            default=None,
            metavar="URL",
            help="A `kubesift serve --source items` URL for issues (default: the in-process "
            "items model when one is trained, else the release-note model).",
        ),
        click.option(
            "--workers",
            default=1,
            show_default=True,
            type=click.IntRange(1, 32),
            help="Worker threads.",
        ),
        click.option(
            "--lease-seconds",
            default=60.0,
            show_default=True,
            type=click.FloatRange(0.5),
            help="How long a job is held before another worker may take it over.",
        ),
        click.option(
            "--github-retries",
            default=2,
            show_default=True,
            type=click.IntRange(0, 10),
            help="Quick retries of one GitHub request before the job is retried later.",
        ),
        click.option(
            "--retry-delay",
            default=5.0,
            show_default=True,
            type=click.FloatRange(0.01),
            help="First retry delay of a failed job (doubles each attempt).",
        ),
        click.option(
            "--model-check-every",
            default=2.0,
            show_default=True,
            type=click.FloatRange(0),
            help="Seconds between looks at the registry's production and canary pointers "
            "(a promotion or rollback reaches the bot within this).",
        ),
    ]
    for option in reversed(options):
        fn = option(fn)
    return fn


def _worker(kw: dict[str, Any]) -> Any:
    from kubesift.bot import runner
    from kubesift.bot.worker import BotOptions, Worker

    cfg = settings()
    endpoint = kw["github_endpoint"] or cfg.api_url
    pool = runner.github_pool(
        os.environ,
        runner.GitHubConfig(endpoint, kw["github_token_path"]),
        max_retries=kw["github_retries"],
    )
    options = BotOptions(
        dry_run=kw["dry_run"],
        comment=not kw["no_comment"],
        lease_seconds=kw["lease_seconds"],
        retry_delay=kw["retry_delay"],
    )
    model = runner.load_model(
        cfg.models_dir, kw["model_url"], cfg.models_dir_for("items"), kw["items_model_url"],
        check_every=kw["model_check_every"],
    )  # fmt: skip
    return Worker(store(cfg), pool, model, options)


@click.group("bot", invoke_without_command=True)
@click.option("--port", default=8888, show_default=True, type=click.IntRange(0, 65535))
@click.option("--host", default="0.0.0.0", show_default=True, help="Address to listen on.")
@click.option(
    "--hmac-secret-file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Webhook secret: one token, or Prow's YAML {org/repo|org|'*': [{value: ...}]} "
    "(default: KUBESIFT_WEBHOOK_SECRET).",
)
@click.option("--no-worker", is_flag=True, help="Only receive; run `kubesift bot worker` apart.")
@_worker_options
@click.pass_context
def bot_group(ctx: click.Context, **kw: Any) -> None:
    """The labeling bot: a GitHub App webhook receiver and Prow external plugin.

    \b
    Deliveries are taken at / and /hook (POST), verified (X-Hub-Signature-256 or
    X-Hub-Signature), queued in the store and answered at once; a worker predicts labels
    for opened/edited issues and PRs, adds those above their calibrated thresholds (never
    removing one, never re-adding one a person removed) and keeps one comment.
    POST /help answers Prow's PluginHelp; GET /healthz is liveness.

    \b
    Examples:
      KUBESIFT_WEBHOOK_SECRET=s3cret kubesift bot --github-token-path /etc/github/oauth
      kubesift bot --hmac-secret-file /etc/webhook/hmac --dry-run
      kubesift bot config kubernetes/kubernetes --family kind --target-precision 0.9
      kubesift bot stats
    """
    if ctx.invoked_subcommand is not None:
        return
    from kubesift.bot import runner

    secrets = runner.load_secrets(os.environ, kw["hmac_secret_file"])
    worker = None if kw["no_worker"] else _worker(kw)
    engine = worker.engine if worker is not None else store()
    runner.serve(engine, secrets, worker, kw["port"], host=kw["host"], workers=kw["workers"])


@bot_group.command("worker")
@_worker_options
def worker_command(**kw: Any) -> None:
    """Process queued deliveries (for a receiver started with --no-worker)."""
    from kubesift.bot import runner

    runner.run_worker(_worker(kw), kw["workers"])


@bot_group.command("config")
@click.argument("repo")
@click.option("--family", "families", multiple=True, help="Label family to apply (repeatable).")
@click.option("--all-families", is_flag=True, help="Apply every family the model predicts.")
@click.option("--target-precision", type=click.FloatRange(0.0, 1.0), default=None)
@click.option("--comment/--no-comment", default=None, help="Comment on this repository.")
@click.option("--dry-run/--no-dry-run", default=None, help="Shadow mode for this repository.")
def config_command(
    repo: str,
    families: tuple[str, ...],
    all_families: bool,
    target_precision: float | None,
    comment: bool | None,
    dry_run: bool | None,
) -> None:
    """Show or change a repository's bot settings (stored; read by running bots)."""
    from dataclasses import replace

    from kubesift.bot import records

    check_repo(repo)
    if families and all_families:
        raise UserError("--family and --all-families exclude each other")
    engine = store()
    with engine.begin() as conn:
        current = records.get_settings(conn, repo)
        changes: dict[str, Any] = {}
        if families or all_families:
            changes["families"] = tuple(families)
        for key, value in (
            ("target_precision", target_precision),
            ("comment", comment),
            ("dry_run", dry_run),
        ):
            if value is not None:
                changes[key] = value
        if changes:
            current = replace(current, **changes)
            records.put_settings(conn, repo, current)
    click.echo(
        json.dumps(
            {
                "repo": repo,
                "families": list(current.families),
                "target_precision": current.target_precision,
                "comment": current.comment,
                "dry_run": current.dry_run,
            }
        )
    )


@bot_group.command("stats")
@click.option("--repo", "-r", default=None, metavar="OWNER/NAME")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def stats_command(repo: str | None, as_json: bool) -> None:
    """Online precision and recall per label: the bot's additions that people kept or
    removed later (shadow decisions: whether people ended up adding the label), and labels
    people added that the bot missed; plus the queue and the jobs that failed."""
    from kubesift.bot import queue
    from kubesift.learn import online

    engine = store()
    with engine.connect() as conn:
        rows = online.stats_rows(online.label_stats(conn, repo=repo))
        jobs = queue.counts(conn)
        failed = queue.failures(conn)
    if as_json:
        click.echo(json.dumps({"labels": rows, "jobs": jobs, "failures": failed}))
        return
    click.echo(f"jobs: {', '.join(f'{k} {v}' for k, v in sorted(jobs.items())) or 'none'}")
    for f in failed:
        item = f"{f['repo']}#{f['number']}" if f["repo"] else f["event"]
        click.echo(f"failed: {item} (delivery {f['delivery_id']}): {f['outcome']}: {f['error']}")
    click.echo(
        f"{'label':30} {'added':>6} {'kept':>6} {'removed':>7} {'missed':>6} "
        f"{'precision':>9} {'recall':>7}"
    )
    for r in rows:
        click.echo(
            f"{r['label']:30} {r['added']:>6} {r['kept']:>6} {r['removed']:>7} "
            f"{r['missed']:>6} {_pct(r['precision']):>9} {_pct(r['recall']):>7}"
        )


@bot_group.command("decisions")
@click.option("--repo", "-r", default=None, metavar="OWNER/NAME")
@click.option("--label", default=None, help="Only this label.")
@click.option("--action", type=click.Choice(["added", "held_back"]), default=None)
@click.option("--page", type=click.IntRange(1), default=1, show_default=True)
@click.option("--per-page", type=click.IntRange(1, 200), default=50, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON (the dashboard's Bot page).")
def decisions_command(repo: str | None, label: str | None, action: str | None, page: int,
                      per_page: int, as_json: bool) -> None:  # fmt: skip
    """The bot's decisions, newest first, each marked when a human corrected it, with the
    link to the item where it was fetched from."""
    from kubesift.bot import views

    with store().connect() as conn:
        found = views.decisions(conn, page=page, per_page=per_page, repo=repo, label=label,
                                action=action)  # fmt: skip
    if as_json:
        click.echo(json.dumps(found, default=str))
        return
    click.echo(f"{found['total']:,} decisions; page {page} ({len(found['rows'])} shown)")
    for r in found["rows"]:
        fixed = "  corrected by a human" if r["corrected"] else ""
        shadow = " (shadow)" if r["dry_run"] else ""
        click.echo(f"{r['created_at']}  {r['repo']}#{r['number']}  {r['label']}  "
                   f"{r['action']}{shadow}  {r['score']:.2f}{fixed}")  # fmt: skip


def _pct(value: object) -> str:
    """A share, or "no feedback" when no human has judged any (never a made-up 100 %)."""
    return "no feedback" if value is None else f"{100 * float(value):.0f}%"  # type: ignore[arg-type]
