"""Render the CLI reference (docs/cli.md) from the commands' own ``--help``."""

from __future__ import annotations

import click

from kubesift.cli import cli


def _walk(command: click.Command, path: list[str]) -> list[tuple[list[str], click.Command]]:
    found = [(path, command)]
    if isinstance(command, click.Group):
        ctx = click.Context(command, info_name=" ".join(path))
        for name in command.list_commands(ctx):
            sub = command.get_command(ctx, name)
            if sub is not None:
                found += _walk(sub, [*path, name])
    return found


def render() -> str:
    """Markdown with one section per command, each the exact ``--help`` output."""
    parts = [
        "# kubesift command reference",
        "",
        "Generated from `--help` by `make docs` (`python -m kubesift.cli.docs`); a test "
        "checks it is current.",
        "",
    ]
    for path, command in _walk(cli, ["kubesift"]):
        ctx = click.Context(command, info_name=" ".join(path), max_content_width=100)
        parts += [f"## `{' '.join(path)}`", "", "```", command.get_help(ctx).rstrip(), "```", ""]
    return "\n".join(parts)


if __name__ == "__main__":
    print(render(), end="")
