"""The ``kubesift`` command line. Each command parses, calls the library, renders."""

from __future__ import annotations

import sys

import click
from rich.console import Console

from kubesift import __version__
from kubesift.errors import KubesiftError

err_console = Console(stderr=True, highlight=False)


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="kubesift")
def cli() -> None:
    """kubesift mirrors a GitHub project's issues, pull requests and label history
    into a local store, and turns it into charts, label models and a labeling bot.

    \b
    Settings come from KUBESIFT_* environment variables and an optional kubesift.toml:
      KUBESIFT_HOME           where the database, assets and models live (default ./data)
      KUBESIFT_DATABASE_URL   another database (default sqlite:///$KUBESIFT_HOME/kubesift.db)
      KUBESIFT_DATASETS       the shared datasets directory (release notes)
      GITHUB_TOKEN            the token used to talk to GitHub

    \b
    Start with:
      kubesift import release-notes ../shared/datasets/k8s-release-notes
      kubesift export --repo kubernetes/kubernetes
      kubesift status
    """


def _register() -> None:
    from kubesift.cli import analyze, dev, export, imports, status

    cli.add_command(export.export)
    cli.add_command(status.status)
    cli.add_command(imports.import_group)
    cli.add_command(dev.dev)
    cli.add_command(analyze.analyze_command)
    cli.add_command(analyze.report_command)


_register()


def main(argv: list[str] | None = None) -> None:
    """Run the CLI, turning kubesift errors into one-line messages and exit codes."""
    try:
        cli.main(args=argv, prog_name="kubesift", standalone_mode=False)
    except click.exceptions.Abort:
        err_console.print("Aborted.")
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except KubesiftError as exc:
        err_console.print(f"[bold red]Error:[/] {exc.message}", soft_wrap=True)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        err_console.print("Interrupted; what was saved is kept, run the command again to resume.")
        sys.exit(130)
    sys.exit(0)
