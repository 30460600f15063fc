"""``kubesift web``: the dashboard."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import click

from kubesift.cli.common import settings, store
from kubesift.errors import UserError


def web_token(env: Mapping[str, str], token_file: Path | None) -> str | None:
    """The actions' token from ``token_file``, ``KUBESIFT_WEB_TOKEN_FILE`` or
    ``KUBESIFT_WEB_TOKEN``; None turns actions off (the pages stay readable)."""
    path = token_file or (
        Path(env["KUBESIFT_WEB_TOKEN_FILE"]) if env.get("KUBESIFT_WEB_TOKEN_FILE") else None
    )
    if path is not None:
        try:
            value = path.read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise UserError(f"cannot read the web token file {path}: {exc.strerror}") from exc
        if not value:
            raise UserError(f"the web token file {path} is empty")
        return value
    return env.get("KUBESIFT_WEB_TOKEN") or None


@click.command("web")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8787, show_default=True, type=click.IntRange(0, 65535))
@click.option(
    "--token-file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="The token actions need (default: KUBESIFT_WEB_TOKEN_FILE or KUBESIFT_WEB_TOKEN). "
    "Without one the dashboard is read-only.",
)
@click.option(
    "--allow-host",
    "allow_hosts",
    multiple=True,
    metavar="NAME",
    help="Another host name the dashboard answers to (repeatable; also KUBESIFT_WEB_HOSTS, "
    "comma-separated). Loopback names and the --host address always are; `*` allows any.",
)
def web_command(
    host: str, port: int, token_file: Path | None, allow_hosts: tuple[str, ...]
) -> None:
    """The web dashboard: overview, the project's charts, labels and models, the bot's
    decisions, CI (Component Readiness, TestGrid-like grids, flakes, failure clusters and
    search) and alerts, with the JSON API behind every page (under /api/).

    \b
    Reading needs no credentials. Actions (answering an alert, triaging a regression,
    promoting a model) need the token (16 characters or more), sent by the page as
    `Authorization: Bearer …` (type it in the header's token field). Slow views are
    computed once at startup and again only when the data changes.

    \b
    The dashboard answers only to its own host names (a page elsewhere cannot reach it
    through DNS rebinding): loopback, the --host address, this machine's name when it
    listens on 0.0.0.0, each --allow-host, and any IP address.

    \b
    Examples:
      kubesift web                                   # http://127.0.0.1:8787/
      export KUBESIFT_WEB_TOKEN=$(openssl rand -hex 24)   # actions need it
      kubesift web --host 0.0.0.0 --allow-host dash.example.org
      curl -s localhost:8787/api/overview
    """
    from kubesift import asgi
    from kubesift.cli.learn import models_dirs
    from kubesift.web import guard
    from kubesift.web.app import create_app

    cfg = settings()
    token = guard.check_token(web_token(os.environ, token_file))
    extra = [*allow_hosts, *os.environ.get("KUBESIFT_WEB_HOSTS", "").split(",")]
    hosts = guard.allowed_hosts(host, extra)
    models = models_dirs(cfg)
    app = create_app(store(cfg), models, token, cfg.ci_variants, hosts=hosts)
    actions = "actions need the token" if token else "read-only: no KUBESIFT_WEB_TOKEN"
    names = "any host" if "*" in hosts else ", ".join(sorted(hosts))
    line = f"kubesift web on http://{host}:{port}/ ({actions}; answers to {names})"
    asgi.run(app, port, host, lifespan="on", listening=lambda: click.echo(line, err=True))
