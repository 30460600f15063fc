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


# name -> ("module:attribute", the line `kubesift --help` lists it with). A command's module
# (and pandas, scikit-learn...) is imported only when that command runs or shows its own
# help, so `kubesift --help` and `kubesift export` start fast.
COMMANDS = {
    "export": ("kubesift.cli.export:export",
               "Mirror a repository's issues, pull requests and label history into the store."),
    "status": ("kubesift.cli.status:status", "Show what the store holds for each repository."),
    "import": ("kubesift.cli.imports:import_group",
               "Import data that does not come from the GitHub API (release notes)."),
    "analyze": ("kubesift.cli.analyze:analyze_command",
                "Chart the store: growth, labels, users, release notes, maintainers' metrics."),
    "report": ("kubesift.cli.analyze:report_command",
               "Write one self-contained HTML report with every chart and table."),
    "train": ("kubesift.cli.learn:train_command",
              "Train a label model, evaluate it on a temporal split, save a new version."),
    "predict": ("kubesift.cli.learn:predict_command",
                "Predict labels with the production model: one text, a JSONL file, --test."),
    "models": ("kubesift.cli.learn:models_group", "List, show and promote saved model versions."),
    "dev": ("kubesift.cli.dev:dev",
            "Developer tools: a fake GitHub to export from and try the bot against."),
    "serve": ("kubesift.cli.serve:serve_command",
              "Serve the label model over KServe V1 / Open Inference Protocol V2."),
    "bot": ("kubesift.cli.bot:bot_group",
            "The labeling bot: a GitHub App webhook receiver and Prow external plugin."),
    "pipeline": ("kubesift.cli.pipeline:pipeline_group",
                 "The retraining loop as a Kubeflow Pipeline (the pipeline extra)."),
    "reconcile": ("kubesift.cli.reconcile:reconcile_group",
                  "Export, train, evaluate, promote, canary and roll back towards kubesift.toml."),
    "ci": ("kubesift.cli.ci:ci_group",
           "CI results: grids, regressions, flakes, failure search and clusters, issues."),
    "alerts": ("kubesift.cli.alerts:alerts_group",
               "Alert triage: alerts, events and logs in; only what needs a human out."),
    "web": ("kubesift.cli.web:web_command",
            "The web dashboard over everything, with its JSON API."),
}  # fmt: skip


class LazyGroup(click.Group):
    """A group whose subcommands are imported on first use (Click's documented pattern);
    its listing uses each command's line from :data:`COMMANDS` without importing it."""

    def __init__(
        self, *args: Any, lazy_commands: dict[str, tuple[str, str]] | None = None, **kw: Any
    ):
        super().__init__(*args, **kw)
        self.lazy_commands = lazy_commands or {}

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy_commands})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        found = self.lazy_commands.get(cmd_name)
        if found is None:
            return super().get_command(ctx, cmd_name)
        target, summary = found
        module_name, attr = target.split(":")
        command = getattr(importlib.import_module(module_name), attr)
        if not isinstance(command, click.Command):
            raise TypeError(f"{target} is not a click command")
        command.short_help = summary
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, self.lazy_commands[name][1]) for name in self.list_commands(ctx)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


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
