"""``kubesift dev``: tools for trying kubesift by hand."""

from __future__ import annotations

import click


@click.group()
def dev() -> None:
    """Developer tools: a fake GitHub to export from and try the bot against."""


@dev.command("fake-github")
@click.option(
    "--items",
    type=click.IntRange(0),
    default=2000,
    show_default=True,
    help="Issues and PRs in the generated kubernetes/kubernetes repository.",
)
@click.option("--port", type=click.IntRange(0, 65535), default=8765, show_default=True)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--seed", type=int, default=42, show_default=True)
@click.option("--token", help="Accept this token (a random one is printed otherwise).")
def fake_github(items: int, port: int, host: str, seed: int, token: str | None) -> None:
    """Serve a fake GitHub REST API with a generated Kubernetes-like repository.

    \b
    Then, in another shell:
      GITHUB_TOKEN=<printed token> kubesift export --repo kubernetes/kubernetes \\
        --api-url http://127.0.0.1:8765
    """
    from kubesift.testing.server import run_fake_github

    run_fake_github(items=items, port=port, host=host, seed=seed, token=token)
