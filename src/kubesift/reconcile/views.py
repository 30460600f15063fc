"""The model views: what ``kubesift models … --json`` and the dashboard's model pages both
show (versions, production and canary, each label's promise and what it delivered, online
precision per week, what the reconciler decided), each computed here once. They live
beside the reconciler because they show its decisions (``learn`` never imports it)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine

from kubesift.errors import NotFound
from kubesift.learn import card, online, registry
from kubesift.reconcile import records
from kubesift.timeutil import days_ago as _since


def find_version(models_dir: Path, name: str, version: str) -> registry.ModelVersion:
    for v in registry.list_versions(models_dir) if models_dir.exists() else []:
        if (v.name, v.version) == (name, version):
            return v
    raise NotFound(f"no model version {name}@{version}")


def model_pointers(models_dir: Path) -> dict[str, Any]:
    """Production and canary of one registry, and how many versions it holds."""
    versions = registry.list_versions(models_dir) if models_dir.exists() else []
    prod = registry.production(models_dir, versions) if versions else None
    canary = registry.read_canary(models_dir) if versions else None
    return {
        "versions": len(versions),
        "production": registry.ref(prod) if prod else None,
        "canary": f"{canary['name']}@{canary['version']}" if canary else None,
        "canary_share": canary["share"] if canary else None,
    }


def model_list(models_dir: Path) -> list[dict[str, Any]]:
    """Every version, newest first, with its fit, calibration and abstentions."""
    versions = registry.list_versions(models_dir) if models_dir.exists() else []
    prod = registry.production(models_dir, versions) if versions else None
    canary = registry.read_canary(models_dir) if versions else None
    out = []
    for v in reversed(versions):
        meta = v.metadata
        thresholds = meta.get("thresholds") or []
        out.append(
            {
                "ref": registry.ref(v),
                "name": v.name,
                "version": v.version,
                "created": meta.get("created"),
                "fit": meta.get("fit", "evaluation"),
                "source": meta.get("source", "release-notes"),
                "split": meta.get("split"),
                "calibration": meta.get("calibration", "out-of-fold"),
                "labels": len(meta.get("labels") or []),
                "abstains": sum(t is None for t in thresholds),
                "production": prod is not None and registry.ref(prod) == registry.ref(v),
                "canary": bool(canary)
                and (canary or {}).get("version") == v.version
                and (canary or {}).get("name") == v.name,
            }
        )
    return out


def model_detail(engine: Engine, models_dir: Path, name: str, version: str) -> dict[str, Any]:
    """One version: its evaluation, each label's promise, and its online precision."""
    found = find_version(models_dir, name, version)
    metrics = json.loads((found.path / "metrics.json").read_text())
    meta = {k: v for k, v in found.metadata.items() if k not in ("params", "files")}
    cal = metrics.get("calibration") or {}
    with engine.connect() as conn:
        stats = online.stats_rows(online.label_stats(conn, model=registry.ref(found)))
        weeks = online.label_stats_by_week(conn, model=registry.ref(found), since=_since(7 * 26))
    return {
        "ref": registry.ref(found),
        "state": version_state(models_dir, found),
        "pr_curves": _card_file(found, "pr-curves.png"),
        "online_weekly": weekly_chart(weeks),
        "metadata": meta,
        "evaluation": card.summary_rows(metrics) if metrics.get("models") else [],
        "split": metrics.get("split"),
        "test_items": metrics.get("test_items"),
        "promises": promise_rows(metrics),
        "abstains": cal.get("abstains", []),
        "by_kind": {k: v.get("abstains", []) for k, v in (cal.get("by_kind") or {}).items()},
        "online": stats,
        "card": f"/models/{found.name}/{found.version}/card.html",
        "reconciler": decisions_about(engine, registry.ref(found)),
    }


def registries(models: Mapping[str, Path]) -> list[tuple[str, str | None, Path]]:
    """(source, repository, directory) of every registry: one per source in ``models``
    (release notes, issues and PRs of every repository) and each repository's own items
    registry (``models-items/repos/OWNER/NAME``, ``train --repo``)."""
    found: list[tuple[str, str | None, Path]] = []
    for source, path in models.items():
        found.append((source, None, path))
        own = path / "repos"
        for repo_dir in sorted(own.glob("*/*")) if source == "items" and own.is_dir() else []:
            found.append((source, f"{repo_dir.parent.name}/{repo_dir.name}", repo_dir))
    return found


def trained_on(source: str, repo: str | None) -> str:
    """What a registry's models read, as the dashboard and the CLI name it."""
    if source == "release-notes":
        return "release notes"
    return f"issues and PRs of {repo}" if repo else "issues and PRs, every repository"


def deployed_models(models: Mapping[str, Path]) -> list[dict[str, Any]]:
    """The production model of every registry side by side: per evaluation group (a family
    or a single label) its F1 at 0.5 and acting, the acting precision and recall on its
    evaluation split, and how many of its labels act."""
    rows = []
    for source, repo, path in registries(models):
        versions = registry.list_versions(path) if path.exists() else []
        if not versions:
            continue
        prod = registry.production(path, versions)
        meta = prod.metadata
        metrics = json.loads((prod.path / "metrics.json").read_text())
        thresholds = meta.get("thresholds") or []
        common = {
            "trained_on": trained_on(source, repo),
            "source": source,
            "repo": repo,
            "ref": registry.ref(prod),
            "name": prod.name,
            "version": prod.version,
            "fit": meta.get("fit", "evaluation"),
            "split": metrics.get("split"),
            "test_items": metrics.get("test_items"),
            "encoder": (meta.get("encoder") or "")[:12] or None,
            "labels": len(thresholds),
            "acting_labels": sum(t is not None for t in thresholds),
        }
        for row in card.summary_rows(metrics) if metrics.get("models") else []:
            if row["model"] == meta.get("model", prod.name):  # not the comparison models
                rows.append({**common, **{k: row.get(k) for k in DEPLOYED_FIGURES}})
    return rows


#: What :func:`deployed_models` shows of each evaluation group (keys of ``card.COLUMNS``).
DEPLOYED_FIGURES = ("group", "f1_at_0.5", "f1_acting", "acting_precision", "acting_recall")


def deployed_weekly(engine: Engine, models_dir: Path) -> dict[str, Any]:
    """Online precision per week of the production version and of the canary beside it
    (all labels together, as the canary and rollback steps compare them): chart-ready."""
    versions = registry.list_versions(models_dir) if models_dir.exists() else []
    if not versions:
        return {"columns": ["week"], "rows": []}
    canary = registry.read_canary(models_dir) or {}
    deployed = [("production", registry.ref(registry.production(models_dir, versions)))]
    if canary.get("name"):
        deployed.append(("canary", f"{canary['name']}@{canary['version']}"))
    rows: dict[str, dict[str, Any]] = {}
    with engine.connect() as conn:
        for role, ref in deployed:
            for week, stats in online.label_stats_by_week(conn, model=ref, since=_since(182)):
                p = online.overall(stats).precision
                rows.setdefault(week, {"week": week})[f"{role} {ref}"] = (
                    round(p, 4) if p is not None else None
                )
    columns = ["week", *(f"{role} {ref}" for role, ref in deployed)]
    return {"columns": columns, "rows": [rows[w] for w in sorted(rows)]}


def version_state(models_dir: Path, found: registry.ModelVersion) -> dict[str, Any]:
    """Production, canary (with its share and start) or neither."""
    ref = registry.ref(found)
    prod = registry.production(models_dir)
    canary = registry.read_canary(models_dir) or {}
    is_canary = (canary.get("name"), canary.get("version")) == (found.name, found.version)
    return {
        "production": registry.ref(prod) == ref,
        "canary": is_canary,
        "canary_share": canary.get("share") if is_canary else None,
        "canary_since": canary.get("started_at") if is_canary else None,
        "production_ref": registry.ref(prod),
    }


def _card_file(found: registry.ModelVersion, name: str) -> str | None:
    if not (found.path / name).is_file():
        return None
    return f"/models/{found.name}/{found.version}/{name}"


def weekly_chart(weeks: list[tuple[str, list[online.LabelStats]]], top: int = 6) -> dict[str, Any]:
    """Online precision per week for the labels the model added most: chart-ready rows
    (week, one column per label; None where nothing was judged that week)."""
    added: dict[str, int] = {}
    for _, stats in weeks:
        for s in stats:
            added[s.label] = added.get(s.label, 0) + s.added
    labels = sorted(added, key=lambda k: (-added[k], k))[:top]
    rows = []
    for week, stats in weeks:
        by_label = {s.label: s for s in stats}
        row: dict[str, Any] = {"week": week}
        for label in labels:
            got = by_label.get(label)
            p = got.precision if got else None
            row[label] = round(p, 4) if p is not None else None
            row[f"{label} judged"] = got.judged if got else 0
        rows.append(row)
    return {"labels": labels, "columns": ["week", *labels], "rows": rows}


def promise_rows(metrics: dict[str, Any]) -> list[dict[str, Any]]:
    """Per label: threshold, promised precision and interval, and (from the evaluation
    run) the precision it delivered on the test slice."""
    cal = (metrics.get("calibration") or {}).get("labels") or {}
    delivered: dict[str, dict[str, Any]] = {}
    for groups in (metrics.get("models") or {}).values():
        for entry in groups.values():
            if isinstance(entry, dict) and "target_precision" in entry:
                for label, m in entry["target_precision"]["labels"].items():
                    delivered.setdefault(label, m)
        break  # the first model is the one trained; the others are comparisons
    target = (metrics.get("calibration") or {}).get("target_precision")
    rows = []
    for label, c in cal.items():
        got = delivered.get(label, {})
        acts = c.get("threshold") is not None
        rows.append(
            {
                "label": label,
                "threshold": card.rounded(c.get("threshold")),
                "promised": card.rounded(c.get("expected_precision")),
                "interval": card.rounded(c.get("interval")),
                "forward_recall": card.rounded(c.get("recall")),
                "best_precision": card.rounded(c.get("best_precision")),
                "delivered_precision": card.rounded(got.get("precision")),
                "delivered_recall": card.rounded(got.get("recall")),
                "lift": card.rounded(c.get("lift")),
                "labelled_share": card.rounded(c.get("labelled_share")),
                "abstains_because": None if acts else card.abstain_reason(c, target),
            }
        )
    return rows


def decisions_about(engine: Engine, ref: str) -> list[dict[str, Any]]:
    """Every decision recorded about one version, the reconciler's and promotions by hand,
    newest first, in :func:`reconciler_decisions`' shape."""
    return [
        {
            "run": d.get("run_id"),
            "started_at": d.get("created_at"),
            "step": d.get("controller"),
            "action": d.get("action"),
            "subject": d.get("subject"),
            "reason": d.get("reason"),
        }
        for d in records.decisions_about(engine, ref)
    ]


def reconciler_decisions(engine: Engine, runs: int = 5) -> list[dict[str, Any]]:
    """The reconciler's newest passes, flattened: step, action, subject and reason."""
    out = []
    for run in records.recent_runs(engine, runs):
        for d in run["decisions"]:
            out.append(
                {
                    "run": run["id"],
                    "started_at": run.get("started_at"),
                    "step": d.get("controller"),
                    "action": d.get("action"),
                    "subject": d.get("subject"),
                    "reason": d.get("reason"),
                }
            )
    return out
