"""The ``kubesift alerts`` commands other than ``templates``."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

import click

from kubesift.alerts import feedback as answers
from kubesift.alerts import learning, queries, quiet
from kubesift.errors import ConfigError, UserError


def _echo_json(value: Any) -> None:
    click.echo(json.dumps(value, indent=2, sort_keys=True, default=str))


@click.command("serve")
@click.option("--host", default="0.0.0.0", show_default=True)
@click.option("--port", default=9095, show_default=True, type=click.IntRange(0, 65535))
@click.option(
    "--token-file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="The token Alertmanager sends (bearer or basic-auth password). "
    "Default: $KUBESIFT_ALERTS_TOKEN_FILE, then $KUBESIFT_ALERTS_TOKEN.",
)
@click.option("--allow-anonymous", is_flag=True, help="Accept unauthenticated posts (tests).")
@click.option(
    "--shadow",
    is_flag=True,
    help="Record decisions but hold nothing back: every alert pages as before.",
)
@click.option(
    "--digest-every",
    default=3600.0,
    show_default=True,
    type=float,
    help="Seconds between digests of what was held back (0: never).",
)
def serve_command(host: str, port: int, token_file: Path | None, allow_anonymous: bool,
                  shadow: bool, digest_every: float) -> None:  # fmt: skip
    """Receive alerts, Events and logs; page what needs a human.

    \b
    POST /v1/alerts/alertmanager   Alertmanager webhook v4
    POST /v1/events/k8s            Event, EventList or watch envelope (either API)
    POST /v1/logs/fluentbit        Fluent Bit http output (format json)
    POST /v1/logs                  OTLP/HTTP logs (a Collector's otlphttp exporter)
    POST /v1/alerts/silences       Alertmanager silences (implicit feedback)
    POST /v1/feedback              {"incident": N, "label": "important"|"not-important"}
    POST /v1/slack/actions         Slack's interactive buttons (signed)
    GET  /v1/incidents, /metrics, /healthz

    What is ignored, which log level counts and how many signals open an incident:
    [alerts.quiet] in kubesift.toml (docs/alerts.md).

    Pages go to $KUBESIFT_ALERTS_SLACK_WEBHOOK (Slack incoming webhook, with feedback
    buttons) or $KUBESIFT_ALERTS_WEBHOOK (JSON); neither set: decisions are recorded only.
    """
    from kubesift.alerts.auth import load_auth
    from kubesift.alerts.service import serve
    from kubesift.cli.common import settings, store

    auth = load_auth(os.environ, token_file)
    if not auth.token and not allow_anonymous:
        raise ConfigError(
            "no token: set KUBESIFT_ALERTS_TOKEN (or --token-file), the one Alertmanager's "
            "http_config sends, or pass --allow-anonymous"
        )
    cfg = settings()
    serve(store(cfg), auth, os.environ, host=host, port=port, shadow=shadow,
          digest_every=digest_every, quiet=quiet.from_config(cfg.extra))  # fmt: skip


@click.command("list")
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 10000))
@click.option("--decision", type=click.Choice(queries.DECISIONS))
@click.option("--missed", is_flag=True, help="Only missed pages: needed a human, not paged.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def list_command(limit: int, decision: str | None, missed: bool, as_json: bool) -> None:
    """The newest incidents with their decisions, why, and the answers given; then counts
    of decisions (they add up to the incidents), the answers' verdict (precision of pages,
    recall of what needed a human, missed pages). --json adds the newest signals."""
    from kubesift.cli.common import store

    with store().connect() as conn:
        view = queries.inbox(conn, limit=limit, decision=decision, missed=missed)
        received = queries.signals(conn, limit=limit) if as_json else []
    found, summary = view["rows"], view["summary"]
    if as_json:
        _echo_json({**view, "incidents": found, "signals": received})
        return
    if not found:
        click.echo("No incident yet: point Alertmanager at `kubesift alerts serve`.")
        return
    for i in found:
        where = "/".join(p for p in (i["namespace"], i["workload"]) if p) or "-"
        said = i["feedback"][-1]["needs_human"] if i["feedback"] else None
        answer = {True: "needed a human", False: "did not", None: ""}[said]
        click.echo(f"#{i['id']:<5} {i['decision']:<7} {i['score']:.2f}  {i['severity']:<8} "
                   f"{i['name']:<32} {where:<28} {i['opened_at']}  {answer}")  # fmt: skip
        click.echo(f"        why: {i['why'].get('reason', '')}")
        if i["missed_page"]:
            click.echo("        MISSED PAGE: answered 'needed a human' but was not paged")
    click.echo(
        "signals: " + ", ".join(f"{k} {v:,}" for k, v in summary["signals"].items()) + "; ",
        err=True,
    )
    for line in queries.headlines(view):
        click.echo(line, err=True)


@click.command("feedback")
@click.argument("incident", type=int)
@click.argument("answer", metavar="important|not-important|ack|noise")
@click.option("--user", default="", help="Who says so.")
@click.option("--note", default="")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def feedback_command(incident: int, answer: str, user: str, note: str, as_json: bool) -> None:
    """Say whether INCIDENT needed a human; the next training uses it."""
    from kubesift.cli.common import store

    needs = answers.answer_of(answer)
    with store().begin() as conn:
        made = answers.record(conn, incident, needs, via="cli", user=user or os.environ.get(
            "USER", ""), note=note)  # fmt: skip
    if as_json:
        _echo_json({"feedback": made, "incident": incident, "needs_human": needs})
    else:
        click.echo(f"incident {incident}: {'needed' if needs else 'did not need'} a human")


@click.command("train")
@click.option("--force", is_flag=True, help="Train even if few answers came in.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def train_command(force: bool, as_json: bool) -> None:
    """Roll back production if it misses pages online, then train a candidate on every
    answer and promote it if it keeps recall and pages less (what `reconcile` does)."""
    from kubesift.cli.common import store

    engine = store()
    steps = [learning.rollback(engine), learning.retrain(engine, force=force)]
    if as_json:
        _echo_json([s.__dict__ for s in steps])
        return
    for s in steps:
        click.echo(f"{s.action}: {s.reason}")


@click.command("generate")
@click.argument("out", type=click.Path(dir_okay=False, allow_dash=True))
@click.option(
    "--rules",
    required=True,
    type=click.Path(exists=True, path_type=Path),
    help="Alerting rules: a PrometheusRule YAML, a directory of them, or a TSV.",
)
@click.option("--days", default=28, show_default=True, type=click.IntRange(2, 365))
@click.option("--per-day", default=60, show_default=True, type=click.IntRange(1, 10000))
@click.option("--seed", default=7, show_default=True, type=int)
def generate_command(out: str, rules: Path, days: int, per_day: int, seed: int) -> None:
    """Write a replay stream (JSON lines) with ground truth, from real alerting rules."""
    from kubesift.alerts.generate import generate
    from kubesift.alerts.rules import load_rules

    records = generate(load_rules(rules), days=days, per_day=per_day, seed=seed)
    text = "\n".join(json.dumps(r, sort_keys=True) for r in records) + "\n"
    if out == "-":
        click.echo(text, nl=False)
    else:
        Path(out).write_text(text)
        click.echo(f"{len(records) - 1:,} deliveries, {records[0]['episodes']:,} episodes "
                   f"-> {out}", err=True)  # fmt: skip


@click.command("replay")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--store-path",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Keep the replay's store here (default: a temporary file).",
)
@click.option(
    "--wrong",
    default=0.1,
    show_default=True,
    type=click.FloatRange(0, 0.5),
    help="Share of the simulated answers that are wrong.",
)
@click.option("--shadow", is_flag=True, help="Replay in shadow mode.")
@click.option(
    "--decisions",
    default=20,
    show_default=True,
    type=int,
    help="Print this many of the latest decisions (table output).",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON (figures and decisions).")
def replay_command(file: Path, store_path: Path | None, wrong: float, shadow: bool,
                   decisions: int, as_json: bool) -> None:  # fmt: skip
    """Replay FILE (from `generate`) through the receiver path, with simulated people on
    call answering pages; print decisions, and pages, recall and precision on the later
    half beside "page everything" and Alertmanager grouping alone."""
    from kubesift.alerts.replay import People, run
    from kubesift.cli.progress_lines import Ticker
    from kubesift.store.db import create_store_engine, ensure_schema

    records = _read_stream(file)
    with tempfile.TemporaryDirectory() as tmp:
        path = store_path or Path(tmp) / "replay.db"
        if path.exists():
            raise UserError(f"{path} exists: give a new --store-path")
        engine = create_store_engine(f"sqlite:///{path}")
        ensure_schema(engine)
        ticker = Ticker("replay", len(records), unit="deliveries")
        figures, state = run(engine, records, people=People(wrong=wrong), shadow=shadow,
                             on_record=ticker.tick)  # fmt: skip
        ticker.done()
        with engine.connect() as conn:
            latest = queries.incidents(conn, limit=max(decisions, 1))
        engine.dispose()
    for i in latest:
        i["truth"] = state.incidents.get(i["id"], False)
    if as_json:
        _echo_json({"figures": figures, "decisions": latest})
        return
    for i in latest[:decisions]:
        click.echo(f"#{i['id']:<6} {i['decision']:<7} {i['score']:.2f} truth={int(i['truth'])} "
                   f"{i['name']:<32} {i['namespace']}/{i['workload']}")  # fmt: skip
    width = max(len(k) for k in figures)
    for key, value in figures.items():
        click.echo(f"{key:<{width}}  {value:,}" if isinstance(value, int) else
                   f"{key:<{width}}  {value}")  # fmt: skip


def _read_stream(file: Path) -> list[dict[str, Any]]:
    records = []
    with file.open() as fh:
        for n, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError:
                raise UserError(f"{file}:{n}: not a JSON line") from None
    if not records or records[0].get("kind") != "meta":
        raise UserError(f"{file}: not a replay stream (make one with `kubesift alerts generate`)")
    return records


@click.command("watch")
@click.option(
    "--kubeconfig",
    type=click.Path(exists=True, dir_okay=False),
    help="Default: in-cluster config, else ~/.kube/config.",
)
@click.option("--server", help="The API server URL (no auth; for a proxy or a fake).")
@click.option("--all-types", is_flag=True, help="Normal Events too (rollouts feed a feature).")
def watch_command(kubeconfig: str | None, server: str | None, all_types: bool) -> None:
    """Watch the cluster's Events (list+watch, resumed; 410 Gone re-lists) into the store."""
    from kubesift.alerts.service import watch
    from kubesift.cli.common import settings, store

    cfg = settings()
    watch(store(cfg), kubeconfig=kubeconfig, server=server,
          field_selector="" if all_types else "type=Warning",
          quiet=quiet.from_config(cfg.extra))  # fmt: skip


@click.command("logs")
@click.argument("file", type=click.Path(dir_okay=False, allow_dash=True))
@click.option("--namespace", required=True)
@click.option("--pod", required=True)
@click.option("--container", default="")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def logs_command(file: str, namespace: str, pod: str, container: str, as_json: bool) -> None:
    """Take the error lines of a plain log file of one pod into the store."""
    from kubesift.alerts.service import ingest_log_lines
    from kubesift.cli.alerts import _read
    from kubesift.cli.common import settings, store

    cfg = settings()
    rules = quiet.from_config(cfg.extra)
    out = ingest_log_lines(store(cfg), _read(file), namespace=namespace, pod=pod,
                           container=container, quiet=rules)  # fmt: skip
    made = {"stored": out.stored, "duplicates": out.duplicates, "ignored": out.ignored,
            "held": out.held, "incidents": out.opened}  # fmt: skip
    if as_json:
        _echo_json(made)
    else:
        click.echo(
            f"{out.stored:,} lines at {rules.log_level} or above stored, "
            f"{len(out.opened):,} incidents opened, {out.held:,} waiting for more of their "
            f"group, {out.ignored:,} ignored ([alerts.quiet])"
        )


def register(group: click.Group) -> None:
    for command in (serve_command, list_command, feedback_command, train_command,
                    generate_command, replay_command, watch_command, logs_command,
                    issues_command):  # fmt: skip
        group.add_command(command)


@click.command("issues")
@click.option(
    "--repo",
    "-r",
    required=True,
    metavar="OWNER/NAME",
    help="Where the issues of recurring incidents go.",
)
@click.option("--days", default=7.0, show_default=True, type=float, help="The window.")
@click.option(
    "--min-count",
    default=3,
    show_default=True,
    type=click.IntRange(2, 10000),
    help="Incidents of one alert on one workload in the window.",
)
@click.option("--label", "labels", multiple=True, default=("kind/bug",), show_default=True)
@click.option("--dry-run", is_flag=True, help="Say what would be opened or updated.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def issues_command(repo: str, days: float, min_count: int, labels: tuple[str, ...],
                   dry_run: bool, as_json: bool) -> None:  # fmt: skip
    """Open a GitHub issue for each alert that keeps firing on a workload and needed
    someone (paged, or answered as needing a human); comment on it when it recurs."""
    from kubesift.alerts.issues import GitHubIssues, sync
    from kubesift.cli.common import check_repo, settings, store
    from kubesift.github.auth import auth_from
    from kubesift.github.client import GitHubClient

    check_repo(repo)
    cfg = settings()
    gh = None
    client = None
    if not dry_run:
        client = GitHubClient(cfg.api_url, auth_from(os.environ))
        gh = GitHubIssues(client)
    try:
        done = sync(store(cfg), gh, repo, days=days, min_count=min_count, labels=labels)
    finally:
        if client is not None:
            client.close()
    if as_json:
        _echo_json(done)
        return
    if not done:
        click.echo(f"No alert recurred {min_count}+ times in {days:g} days and needed someone.")
    for d in done:
        click.echo(f"{d['action']}: #{d['issue']} {d['title']} ({d['occurrences']} times)")
