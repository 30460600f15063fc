"""``kubesift alerts``: alert triage. Receivers, the incident list, feedback, training,
the replay generator and replay, the Kubernetes Events watcher, log templates."""

from __future__ import annotations

import json
import sys

import click

from kubesift.alerts.templates import mine
from kubesift.cli.alerts_commands import register
from kubesift.errors import UserError


@click.group("alerts")
def alerts_group() -> None:
    """Alert triage: alerts, events and logs in; only what needs a human out.

    `serve` receives Alertmanager's webhook, Kubernetes Events and Fluent Bit's logs,
    groups them into incidents and decides each one (page, digest, record, drop) with a
    model learned from the people on call; `feedback` and `train` teach it; `replay`
    measures it on a generated stream with ground truth.
    """


@alerts_group.command("templates")
@click.argument("file", type=click.Path(dir_okay=False, allow_dash=True))
@click.option(
    "--similarity",
    type=click.FloatRange(0.0, 1.0),
    default=0.5,
    show_default=True,
    help="The share of tokens a line must share with a template to join it.",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of text.")
def templates_command(file: str, similarity: float, as_json: bool) -> None:
    """Print, for each line of FILE (- for standard input), its template id and template.

    Variable parts are masked by general rules (times, UUIDs, IPs, hex, durations,
    numbers, generated name suffixes), then lines are grouped Drain-style; positions that
    differ within a group become <*>. Each line reports its template as the whole file
    shaped it.
    """
    lines = _read(file)
    found = mine(lines, similarity)
    if as_json:
        rows = [
            {"line": n, "template_id": tid, "template": text}
            for n, (tid, text) in enumerate(found, start=1)
        ]
        click.echo(json.dumps(rows, indent=2))
        return
    for tid, text in found:
        click.echo(f"T{tid}\t{text}")
    click.echo(f"{len(lines):,} lines, {len({t for t, _ in found}):,} templates", err=True)


def _read(file: str) -> list[str]:
    try:
        if file == "-":
            data = sys.stdin.buffer.read()
        else:
            with open(file, "rb") as fh:
                data = fh.read()
    except OSError as exc:
        raise UserError(f"cannot read {file}: {exc.strerror}") from exc
    return data.decode("utf-8", "replace").splitlines()


register(alerts_group)
