"""What the dashboard shows, as plain JSON-able data: the ``/api/`` answers.

Every function reads the store (aggregated and paginated in SQL) or a model registry
through the same library functions the CLI uses (``status``, ``models``, ``bot stats``,
``alerts list``, ``reconcile status``, ``ci regressions``); nothing here calls the CLI.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import asdict
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.engine import Connection, Engine

from kubesift.alerts import queries as alert_queries
from kubesift.analyze import ANALYSES, Filters, analyze, load, rows_of
from kubesift.errors import UserError
from kubesift.github.names import check_repo, item_url
from kubesift.learn import card, online, registry
from kubesift.reconcile import records
from kubesift.store.queries import summarize
from kubesift.store.schema import (
    bot_corrections,
    bot_decisions,
    ci_jobs,
    ci_regressions,
    ci_runs,
    items,
    label_events,
    release_notes,
    repositories,
)

MAX_PAGE = 200
#: The last page any list may ask for (an offset SQLite's 64-bit integers hold).
MAX_PAGES = 1_000_000


class NotFound(UserError):
    """What the request names does not exist (a 404, not a 400)."""


def find_version(models_dir: Path, name: str, version: str) -> registry.ModelVersion:
    for v in registry.list_versions(models_dir) if models_dir.exists() else []:
        if (v.name, v.version) == (name, version):
            return v
    raise NotFound(f"no model version {name}@{version}")


def page_args(page: int, per_page: int) -> tuple[int, int]:
    """(limit, offset) for a 1-based page; sizes capped so no request loads a table."""
    if not 1 <= page <= MAX_PAGES or not 1 <= per_page <= MAX_PAGE:
        raise UserError(
            f"page must be between 1 and {MAX_PAGES:,} and per_page between 1 and {MAX_PAGE}"
        )
    return per_page, (page - 1) * per_page


def _since(days: float) -> str:
    return (datetime.now(UTC) - timedelta(days=days)).strftime("%Y-%m-%dT%H:%M:%SZ")


# -- overview -----------------------------------------------------------------------------------


def overview(engine: Engine, models: dict[str, Path], cache: Cache | None = None) -> dict[str, Any]:
    """One look at everything: the store, models, the bot, CI and alerts. The per-repository
    counts read every item, so ``cache`` keeps them until the store changes."""
    with engine.connect() as conn:
        key = ("repositories", store_version(conn))
        count = lambda: {"rows": [asdict(r) for r in summarize(conn)]}  # noqa: E731
        repos = (cache.get(key, count) if cache else count())["rows"]
        bot = bot_activity(conn)
        ci = ci_health(conn)
        alerts = alert_queries.summary(conn)
    return {
        "repositories": repos,
        "models": {source: model_pointers(path) for source, path in models.items()},
        "bot": bot,
        "ci": ci,
        "alerts": {
            "incidents": alerts["incidents"],
            "signals": alerts["signals"],
            "feedback": alerts["feedback"],
            "model": (alerts["model"] or {}).get("id"),
        },
    }


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


def bot_activity(conn: Connection, days: float = 7.0) -> dict[str, Any]:
    d, c = bot_decisions.c, bot_corrections.c
    since = _since(days)
    by_action: dict[Any, Any] = dict(
        conn.execute(
            select(d.action, func.count()).where(d.created_at >= since).group_by(d.action)
        ).all()
    )
    corrections = conn.execute(
        select(func.count()).select_from(bot_corrections).where(c.created_at >= since)
    ).scalar()
    return {
        "days": days,
        "decisions": {str(k): int(v) for k, v in by_action.items()},
        "corrections": int(corrections or 0),
    }


def ci_health(conn: Connection, days: float = 7.0) -> dict[str, Any]:
    r = ci_runs.c
    since = _since(days)
    states: dict[Any, Any] = dict(
        conn.execute(
            select(r.state, func.count()).where(r.started_at >= since).group_by(r.state)
        ).all()
    )
    jobs = conn.execute(select(func.count()).select_from(ci_jobs)).scalar()
    regressions = conn.execute(
        select(func.count()).select_from(ci_regressions).where(ci_regressions.c.closed_at.is_(None))
    ).scalar()
    return {
        "days": days,
        "jobs": int(jobs or 0),
        "runs": {str(k): int(v) for k, v in states.items()},
        "open_regressions": int(regressions or 0),
    }


# -- models -------------------------------------------------------------------------------------


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
                "abstains_because": None if acts else card.abstain_reason(c, target),
            }
        )
    return rows


# -- bot ----------------------------------------------------------------------------------------


def decisions(
    conn: Connection,
    *,
    page: int = 1,
    per_page: int = 50,
    repo: str | None = None,
    label: str | None = None,
    action: str | None = None,
) -> dict[str, Any]:
    """The bot's decisions, newest first, each marked when a human corrected it."""
    limit, offset = page_args(page, per_page)
    d, c = bot_decisions.c, bot_corrections.c
    where = [x for x in (
        d.repo == repo if repo else None,
        d.label == label if label else None,
        d.action == action if action else None,
    ) if x is not None]  # fmt: skip
    total = conn.execute(select(func.count()).select_from(bot_decisions).where(*where)).scalar()
    corrected = (
        select(func.count())
        .select_from(bot_corrections)
        .where(and_(c.repo == d.repo, c.number == d.number, c.label == d.label))
        .scalar_subquery()
    )
    api = (
        select(repositories.c.api_url)
        .where(repositories.c.full_name == d.repo)
        .limit(1)
        .scalar_subquery()
    )
    query = (
        select(d.id, d.repo, d.number, d.kind, d.label, d.score, d.action, d.dry_run, d.model,
               d.created_at, corrected.label("corrections"), api.label("api_url"))
        .where(*where)
        .order_by(d.id.desc())
        .limit(limit)
        .offset(offset)
    )  # fmt: skip
    rows = [
        {
            **dict(r._mapping),
            "corrected": int(r.corrections or 0) > 0,
            "url": item_url(r.repo, r.kind, r.number, r.api_url),
        }
        for r in conn.execute(query)
    ]
    for row in rows:
        row.pop("corrections", None)
        row.pop("api_url", None)
    return {"total": int(total or 0), "page": page, "per_page": per_page, "rows": rows}


# -- alerts -------------------------------------------------------------------------------------


def alert_inbox(
    conn: Connection,
    *,
    page: int = 1,
    per_page: int = 50,
    decision: str | None = None,
    missed: bool = False,
) -> dict[str, Any]:
    """:func:`kubesift.alerts.queries.inbox`, a page at a time."""
    limit, offset = page_args(page, per_page)
    found = alert_queries.inbox(conn, limit=limit, offset=offset, decision=decision,
                                missed=missed)  # fmt: skip
    return {**found, "page": page, "per_page": per_page}


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


# -- project ------------------------------------------------------------------------------------


def project_filters(
    repo: str | None, since: str | None, until: str | None, kind: str | None
) -> Filters:
    """The Project page's filters, checked like ``kubesift analyze``'s options."""
    try:
        start = date.fromisoformat(since) if since else None
        end = date.fromisoformat(until) if until else None
    except ValueError as exc:
        raise UserError(f"dates look like 2024-01-31 ({exc})") from exc
    if start and end and start > end:
        raise UserError("since must not be after until")
    if kind not in (None, "issue", "pr"):
        raise UserError(f"kind must be issue or pr, not {kind!r}")
    return Filters(
        kinds=(kind,) if kind else ("issue", "pr"),
        repo=check_repo(repo) if repo else None,
        since=start,
        until=end,
    )


def store_version(conn: Connection) -> tuple[Any, ...]:
    """Changes whenever an export, an import or a label change lands (four aggregates)."""
    return (
        conn.execute(select(func.count(), func.max(items.c.updated_at))).one()[:],
        conn.execute(select(func.count()).select_from(label_events)).scalar(),
        conn.execute(select(func.count()).select_from(release_notes)).scalar(),
    )


class Cache:
    """Results kept until the data they read changes (the key holds a version of it):
    the charts read every item and Component Readiness judges every cell, so each is
    done once per change of the store, not once per request. Callers asking for a key
    being computed wait for that computation instead of starting their own."""

    def __init__(self, size: int = 16) -> None:
        self.size = size
        self.entries: dict[tuple[Any, ...], dict[str, Any]] = {}
        self.computing: dict[tuple[Any, ...], threading.Lock] = {}
        self.lock = threading.Lock()

    def get(self, key: tuple[Any, ...], compute: Callable[[], dict[str, Any]]) -> dict[str, Any]:
        with self.lock:
            if key in self.entries:
                return self.entries[key]
            busy = self.computing.setdefault(key, threading.Lock())
        with busy:  # one computation per key; the others wait for it
            with self.lock:
                if key in self.entries:
                    return self.entries[key]
            try:
                result = compute()
            except BaseException:
                with self.lock:
                    self.computing.pop(key, None)
                raise
            with self.lock:
                self.entries[key] = result
                self.computing.pop(key, None)
                while len(self.entries) > self.size:
                    self.entries.pop(next(iter(self.entries)))
        return result


def project(engine: Engine, filters: Filters, top: int = 10) -> dict[str, Any]:
    """Every analysis of ``kubesift analyze`` as chart-ready records."""
    frames = load(engine, filters)
    if frames.empty:
        return {"analyses": [], "items": 0}
    out = []
    for a in analyze(frames, list(ANALYSES), filters, top):
        rows = rows_of(a)
        out.append(
            {
                "name": a.name,
                "title": a.title,
                "chart": a.chart,
                "xlabel": a.xlabel,
                "ylabel": a.ylabel,
                "note": a.note,
                "units": {str(c): a.unit_of(str(c)) for c in a.table.columns},
                "columns": list(rows[0]) if rows else [],
                "rows": rows,
            }
        )
    return {"analyses": out, "items": len(frames.items)}
