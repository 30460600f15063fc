"""The ``kubesift`` command line. Each command parses, calls the library, renders."""

from __future__ import annotations

import importlib
import sys
from typing import Any

import click
from rich.console import Console
from rich.markup import escape

from kubesift import __version__
from kubesift.errors import KubesiftError

err_console = Console(stderr=True, highlight=False)


# name -> "module:attribute"; a command's module (and pandas, scikit-learn...) is imported
# only when that command runs or help lists it, so `kubesift export` starts fast.
COMMANDS = {
    "export": "kubesift.cli.export:export",
    "status": "kubesift.cli.status:status",
    "import": "kubesift.cli.imports:import_group",
    "analyze": "kubesift.cli.analyze:analyze_command",
    "report": "kubesift.cli.analyze:report_command",
    "train": "kubesift.cli.learn:train_command",
    "predict": "kubesift.cli.learn:predict_command",
    "models": "kubesift.cli.learn:models_group",
    "dev": "kubesift.cli.dev:dev",
    "serve": "kubesift.cli.serve:serve_command",
    "bot": "kubesift.cli.bot:bot_group",
    "pipeline": "kubesift.cli.pipeline:pipeline_group",
    "reconcile": "kubesift.cli.reconcile:reconcile_group",
    "ci": "kubesift.cli.ci:ci_group",
    "alerts": "kubesift.cli.alerts:alerts_group",
    "web": "kubesift.cli.web:web_command",
}


class LazyGroup(click.Group):
    """A group whose subcommands are imported on first use (Click's documented pattern)."""

    def __init__(self, *args: Any, lazy_commands: dict[str, str] | None = None, **kw: Any):
        super().__init__(*args, **kw)
        self.lazy_commands = lazy_commands or {}

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy_commands})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        target = self.lazy_commands.get(cmd_name)
        if target is None:
            return super().get_command(ctx, cmd_name)
        module_name, attr = target.split(":")
        command = getattr(importlib.import_module(module_name), attr)
        if not isinstance(command, click.Command):
            raise TypeError(f"{target} is not a click command")
        return command


@click.group(
    cls=LazyGroup,
    lazy_commands=COMMANDS,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
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
        # Escaped: messages quote user input and names like kubesift[serve] verbatim.
        err_console.print(f"[bold red]Error:[/] {escape(exc.message)}", soft_wrap=True)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        err_console.print("Interrupted; what was saved is kept, run the command again to resume.")
        sys.exit(130)
    sys.exit(0)
