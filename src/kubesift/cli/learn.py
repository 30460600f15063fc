"""``kubesift train``, ``kubesift predict``, ``kubesift models``."""

from __future__ import annotations

import json
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

import click
from rich.console import Console

from kubesift import defaults
from kubesift.cli import tables
from kubesift.cli.common import settings, source_option, store
from kubesift.errors import UserError

#: The original kubernetes-analysis smoke test: kubernetes/kubernetes#65327 (a bug fix)
#: and #85363 (an API change), from its ``src/predict.py``.
POSITIVE_TEST_TEXT = (
    "Fix concurrent map access panic\n"
    "Don't watch .mount cgroups to reduce number of inotify watches\n"
    "Fix NVML initialization race condition\n"
    "Fix brtfs disk metrics when using a subdirectory of a subvolume"
)
NEGATIVE_TEST_TEXT = (
    "action required\n"
    "1. Currently, if users were to explicitly specify CacheSize of 0 for KMS provider, they "
    "would end-up with a provider that caches up to 1000 keys. This PR changes this behavior. "
    "Post this PR, when users supply 0 for CacheSize this will result in a validation error.\n"
    "2. CacheSize type was changed from int32 to *int32. This allows defaulting logic to "
    "differentiate between cases where users explicitly supplied 0 vs. not supplied any value.\n"
    "3. KMS Provider's endpoint (path to Unix socket) is now validated when the "
    "EncryptionConfiguration files is loaded. This used to be handled by the GRPCService."
)


def _check_repo(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    from kubesift.github.names import check_repo

    return check_repo(value) if value else None


repo_option = click.option(
    "--repo",
    default=None,
    metavar="OWNER/NAME",
    callback=_check_repo,
    help="One repository's items (its own registry, models-items/repos/OWNER/NAME).",
)


@click.command("train")
@click.option("--label", "labels", multiple=True, metavar="LABEL", help="A single label task.")
@click.option("--family", "families", multiple=True, metavar="PREFIX", help="A label family.")
@click.option(
    "--model",
    "model",
    default=None,
    metavar="NAME",
    help="Registered model name (default: sift-embed for --source items when a sentence "
    "encoder is installed, the [embed] extra; else sift-linear).",
)
@click.option("--split", default=None, metavar="SPEC", help="release:1.30[..1.33] or created:DATE.")
@source_option
@click.option(
    "--target-precision", default=defaults.TARGET_PRECISION, show_default=True, type=float
)
@click.option(
    "--production",
    is_flag=True,
    help="Save the production fit on every labelled example (after an evaluation run on "
    "--split, whose figures it carries).",
)
@click.option(
    "--calibration",
    type=click.Choice(["forward", "out-of-fold"]),
    default="forward",
    show_default=True,
    help="How acting thresholds are chosen (out-of-fold: the earlier method, for comparison).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the version and its metrics as JSON.")
@repo_option
@click.option("--no-compare", is_flag=True, help="Skip the seed-mlp and majority comparison.")
@click.option("--tune", is_flag=True, help="Search hyperparameters (Optuna) first.")
@click.option("--budget", default=120.0, show_default=True, type=float, help="Seconds for --tune.")
def train_command(
    labels: tuple[str, ...],
    families: tuple[str, ...],
    model: str | None,
    split: str | None,
    source: str,
    target_precision: float,
    production: bool,
    calibration: str,
    as_json: bool,
    repo: str | None,
    no_compare: bool,
    tune: bool,
    budget: float,
) -> None:
    """Train a label model on the store's release notes (or, with --source items, the
    exported issues and PRs), evaluate it on a temporal split beside seed-mlp and the
    majority class, and save it as a new version.

    \b
    A label acts only above the lowest threshold whose 95 % lower bound on precision
    reaches --target-precision on forward folds (the newest training items, each
    scored by a model of what came before); a label that cannot is never acted on.
    --production saves the model to deploy: the same recipe fitted on every labelled
    example, its thresholds from forward folds over all of it, with the evaluation
    run's figures. --tune searches the hyperparameters within --budget seconds.

    \b
    Example:
      kubesift train --label kind/bug --family kind --family sig
      kubesift train --label kind/bug --family kind --family sig --production
      kubesift train --source items --family kind --split created:2025-06-01 --production
      kubesift train --source items --family kind --repo facebook/react --production
      kubesift train --family sig --tune --budget 300
    """
    from kubesift.learn import progress
    from kubesift.learn.dataset import load_dataset
    from kubesift.learn.embedded import choose_model
    from kubesift.learn.service import train_and_save
    from kubesift.learn.train import TrainSpec

    if not 0 < target_precision < 1 or budget <= 0:
        raise UserError("--target-precision must be in (0, 1) and --budget positive seconds")
    compare = () if no_compare else ("seed-mlp", "majority")
    model, note = choose_model(model, source)
    if note:
        click.echo(f"note: {note}", err=True)
    spec = TrainSpec(labels or (() if families else ("kind/bug",)), families, model,
                     split=split, target_precision=target_precision, compare=compare,
                     calibration=calibration)  # fmt: skip
    cfg = settings()
    dataset = load_dataset(store(cfg), source, repo=repo)
    if spec.split is None:
        spec = replace(spec, split=default_split(dataset))
    with progress.reporting(lambda line: click.echo(line, err=True)):
        version = train_and_save(
            cfg.models_dir_for(source, repo),
            dataset,
            spec,
            budget=budget if tune else None,
            production=production,
        )
    show_trained(version, as_json)


def show_trained(version: Any, as_json: bool) -> None:
    """What ``train`` prints: the version and its metrics as JSON, or tables and lines."""
    metrics = json.loads((version.path / "metrics.json").read_text())
    if as_json:
        click.echo(json.dumps({"model": version.metadata, "metrics": metrics}, default=str))
        return
    if (version.path / "tuning.json").exists():
        print_tuning(json.loads((version.path / "tuning.json").read_text()))
    print_summary(metrics)
    print_promises(metrics)
    what = "production fit" if metrics.get("fit") == "production" else "evaluation run"
    Console().print(f"Saved {version.name}/{version.version} ({what}) in {version.path}")


def default_split(dataset: Any) -> str:
    """The reference split for release notes; the newest fifth by creation time for items."""
    from kubesift.learn.train import REFERENCE_SPLIT
    from kubesift.reconcile.judge import newest_split

    return REFERENCE_SPLIT if dataset.source == "release-notes" else newest_split(dataset, 0.2)


def print_promises(metrics: dict[str, Any]) -> None:
    """One line per acting label: its threshold and the precision it promises."""
    cal = metrics.get("calibration") or {}
    console = Console(width=140)
    for name, c in (cal.get("labels") or {}).items():
        if c.get("threshold") is not None:
            low, high = c["interval"]
            console.print(
                f"acts on {name} at {c['threshold']:.3f}: promises precision "
                f"{c['expected_precision']:.3f} [{low:.3f}, {high:.3f}] (forward recall "
                f"{c['recall']:.3f})"
            )
    if cal.get("abstains"):
        console.print(
            f"abstains on {len(cal['abstains'])} labels that cannot reach "
            f"{cal.get('target_precision')}: {', '.join(cal['abstains'])}"
        )


def print_tuning(search: dict[str, Any]) -> None:
    params = ", ".join(
        f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}"
        for k, v in sorted(search["best_params"].items())
    )
    Console(width=140).print(
        f"Tuning: {len(search['trials'])} trials in {search['budget_seconds']:g} s; best "
        f"{search['objective']} {search['best_score']:.4f} with {params}"
    )


def print_summary(metrics: dict[str, Any]) -> None:
    from kubesift.learn.card import COLUMNS, summary_rows

    table = tables.table(
        *COLUMNS.values(),
        title=f"Evaluation on {metrics['split']} ({metrics['test_items']} test items)",
    )
    for row in summary_rows(metrics):
        table.add_row(*("–" if row.get(c) is None else str(row.get(c)) for c in COLUMNS))
    Console(width=140).print(table)


@click.command("predict")
@click.argument("text", required=False)
@click.option("--input", "input_path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--output", "output_path", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--author", default=None, help="The author of TEXT.")
@click.option(
    "--kind",
    type=click.Choice(["pr", "issue"]),
    default=None,
    help="What TEXT (or a line without 'kind') is: an items model acts on each kind with "
    "its own thresholds. Default: pr for release-note models, issue for items models.",
)
@click.option("--test", "smoke", is_flag=True, help="The original project's two test notes.")
@click.option("--model", "name", default=None, help="Model name (default: production).")
@click.option("--version", "version", default=None, help="Model version.")
@source_option
@repo_option
def predict_command(
    text: str | None,
    input_path: Path | None,
    output_path: Path | None,
    author: str | None,
    kind: str | None,
    smoke: bool,
    name: str | None,
    version: str | None,
    source: str,
    repo: str | None,
) -> None:
    """Predict labels with the production model (the latest trained unless one was
    promoted): one TEXT, a JSONL file (--input/--output), or --test.

    \b
    Each --input line is a JSON object with the fields a model reads:
      text           the note, or an issue's body (a string; required without title)
      title          an issue's or PR's title (items models read it)
      author         who opened it
      kind           "issue" or "pr" (default: --kind)
      documentation  a release note's documentation links
      id             anything, copied to the output line
    Other fields are ignored. Each output line: {"id", "labels", "scores"}.

    \b
    Examples:
      kubesift predict "Fix a panic in kubelet when the pod is deleted"
      kubesift predict --source items --input issues.jsonl --output labels.jsonl
      kubesift predict --test
    """
    from kubesift.learn import Predictor

    if sum(bool(x) for x in (text, input_path, smoke)) != 1:
        raise UserError("give exactly one of TEXT, --input FILE or --test")
    kind = kind or ("pr" if source == "release-notes" else "issue")
    predictor = Predictor.load(settings().models_dir_for(source, repo), name, version)
    _say_if_it_abstains(predictor, kind)
    if smoke:
        _smoke(predictor)
    elif input_path is not None:
        _batch(predictor, input_path, output_path, kind)
    else:
        result = predictor.predict([{"text": text, "author": author, "kind": kind}])[0]
        click.echo(json.dumps(result.as_dict(), indent=2))


def _say_if_it_abstains(predictor: Any, kind: str) -> None:
    """A model that abstains on every label labels nothing: say so rather than print
    empty label lists as if nothing applied."""
    thresholds = predictor.by_kind.get(kind) or predictor.thresholds
    if all(t is None for t in thresholds):
        click.echo(
            f"note: {predictor.metadata.get('name')}@{predictor.metadata.get('version')} "
            f"abstains on every label for {kind}s (none reached its precision promise): it "
            "labels nothing; its scores are still printed (see `kubesift models show`)",
            err=True,
        )


def _smoke(predictor: Any) -> None:
    pos, neg = predictor.predict([{"text": POSITIVE_TEST_TEXT}, {"text": NEGATIVE_TEST_TEXT}])
    if "kind/bug" not in predictor.labels:
        raise UserError("the production model has no kind/bug label; train with --label kind/bug")
    p, n = pos.scores["kind/bug"], neg.scores["kind/bug"]
    click.echo(f"positive (kubernetes#65327): kind/bug {p:.3f}, labels {pos.labels}")
    click.echo(f"negative (kubernetes#85363): kind/bug {n:.3f}, labels {neg.labels}")
    if "kind/bug" not in pos.labels or "kind/bug" in neg.labels or not p > n:
        click.echo("FAILED: the test notes do not go the right way", err=True)
        sys.exit(1)
    click.echo("OK: both test notes go the right way")


#: What an --input line may hold: field → what it must be.
INPUT_TYPES: dict[str, type | tuple[type, ...]] = {
    "text": str, "title": str, "author": str, "kind": str, "documentation": (str, list),
}  # fmt: skip


def _input_row(row: Any, where: str, kind: str) -> dict[str, Any]:
    """One --input line checked: a JSON object whose known fields have the right types."""
    if not isinstance(row, dict):
        raise UserError(f"{where}: expected a JSON object with 'text' (and 'title', 'author'…)")
    for field, wanted in INPUT_TYPES.items():
        if row.get(field) is not None and not isinstance(row[field], wanted):
            raise UserError(f"{where}: '{field}' must be text, not {type(row[field]).__name__}")
    if not (row.get("text") or row.get("title")):
        raise UserError(f"{where}: give 'text' (or 'title'): there is nothing to read")
    row = {**row, "kind": row.get("kind") or kind}
    if row["kind"] not in ("issue", "pr"):
        raise UserError(f"{where}: 'kind' must be issue or pr, not {row['kind']!r}")
    return row


def _batch(predictor: Any, input_path: Path, output_path: Path | None, kind: str) -> None:
    rows = []
    try:
        lines = input_path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise UserError(f"cannot read {input_path}: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise UserError(f"{input_path}: not UTF-8 text (JSON lines expected)") from None
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise UserError(f"{input_path}:{number}: not JSON ({exc.msg})") from exc
        rows.append(_input_row(row, f"{input_path}:{number}", kind))
    results = predictor.predict(rows, explain=0)
    out = output_path.open("w") if output_path else sys.stdout
    try:
        for row, result in zip(rows, results, strict=True):
            record = {"id": row.get("id"), "labels": result.labels, "scores": result.scores}
            out.write(json.dumps(record) + "\n")
    finally:
        if output_path:
            out.close()


@click.group("models")
def models_group() -> None:
    """List, show and promote saved model versions."""


@models_group.command("list")
@source_option
@repo_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON (the dashboard's /api/models).")
def models_list(source: str, repo: str | None, as_json: bool) -> None:
    """Every saved version, newest first, with its fit, labels and abstentions; production
    and canary are marked. --json adds online precision per week of the deployed versions
    and the reconciler's newest decisions."""
    from kubesift.reconcile import views

    models_dir = settings().models_dir_for(source, repo)
    rows = views.model_list(models_dir)
    if as_json:
        engine = store()
        found = {
            "rows": rows,
            "online_weekly": views.deployed_weekly(engine, models_dir),
            "reconciler": views.reconciler_decisions(engine, 3),
        }
        click.echo(json.dumps(found, indent=2, default=str))
        return
    if not rows:
        click.echo("No models yet; run `kubesift train`.")
        return
    table = tables.table("", "name", "version", "created", "fit", "labels", "abstain")
    for r in rows:
        mark = "*" if r["production"] else "canary" if r["canary"] else ""
        table.add_row(mark, r["name"], r["version"], r["created"] or "", r["fit"],
                      str(r["labels"]), str(r["abstains"]))  # fmt: skip
    Console(width=140).print(table)


@models_group.command("deployed")
@click.option(
    "--json", "as_json", is_flag=True, help="Print JSON (the dashboard's /api/models/deployed)."
)
def models_deployed(as_json: bool) -> None:
    """The production model of every registry side by side: release notes, issues and PRs
    of every repository, and each repository's own (train --repo). Per evaluation group,
    F1 at 0.5 and acting, and the acting precision and recall on its evaluation split."""
    from kubesift.learn.card import COLUMNS
    from kubesift.reconcile import views

    rows = views.deployed_models(models_dirs(settings()))
    if as_json:
        click.echo(json.dumps({"rows": rows}, indent=2, default=str))
        return
    if not rows:
        click.echo("No models yet; run `kubesift train`.")
        return
    figures = [COLUMNS[k] for k in views.DEPLOYED_FIGURES[1:]]
    table = tables.table("trained on", "model", "fit", "acting labels", "group", *figures)
    for r in rows:
        cells = ["–" if r[k] is None else str(r[k]) for k in views.DEPLOYED_FIGURES]
        table.add_row(r["trained_on"], r["ref"], r["fit"], f"{r['acting_labels']}/{r['labels']}",
                      *cells)  # fmt: skip
    Console(width=160).print(table)


def models_dirs(cfg: Any) -> dict[str, Path]:
    """Each source's registry, as the dashboard is given them."""
    return {source: cfg.models_dir_for(source) for source in ("release-notes", "items")}


@models_group.command("show")
@click.argument("name", required=False)
@click.argument("version", required=False)
@source_option
@repo_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON (the dashboard's model page).")
def models_show(
    name: str | None, version: str | None, source: str, repo: str | None, as_json: bool
) -> None:
    """Metadata and evaluation of a version (default: production); --json: every figure
    its dashboard page shows (promises, abstentions and why, online precision)."""
    from kubesift.learn import registry
    from kubesift.reconcile import views

    models_dir = settings().models_dir_for(source, repo)
    found = registry.find(models_dir, name, version)
    registry.verify(found)
    if as_json:
        detail = views.model_detail(store(), models_dir, found.name, found.version)
        click.echo(json.dumps(detail, indent=2, default=str))
        return
    meta = {k: v for k, v in found.metadata.items() if k != "params"}
    click.echo(json.dumps(meta, indent=2))
    print_summary(json.loads((found.path / "metrics.json").read_text()))


@models_group.command("promote")
@click.argument("name")
@click.argument("version")
@source_option
def models_promote(name: str, version: str, source: str) -> None:
    """Make NAME/VERSION the production model, once its files match their checksums. The
    promotion is recorded, and the reconciler's rollback watches it as its own."""
    from kubesift.reconcile.manual import promote_by_hand

    cfg = settings()
    models_dir = cfg.models_dir_for(source)
    found = promote_by_hand(store(cfg), models_dir, name, version, via="kubesift models promote")
    click.echo(f"Promoted {found.name}/{found.version} to production.")
