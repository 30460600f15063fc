"""The CI views: what ``kubesift ci … --json`` and the dashboard's CI page both show
(jobs, the TestGrid-like grid, Component Readiness, flakes, failure search and
clusters), as plain JSON-able data, each figure computed here once."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import Connection

from kubesift.ci import clusters as clusters_mod
from kubesift.ci import flakes as flakes_mod
from kubesift.ci import grid, issues, junit, queries, regressions, symptom_store, text, timeline
from kubesift.ci import jobs as jobs_mod
from kubesift.ci import search as search_mod
from kubesift.errors import NotFound, UserError
from kubesift.github.names import item_url
from kubesift.store.queries import MAX_PAGE
from kubesift.store.schema import (
    ci_jobs,
    ci_regressions,
    ci_results,
    ci_runs,
    ci_symptoms,
    ci_tests,
    ci_timelines,
    ci_triages,
)
from kubesift.timeutil import days_ago

#: The longest window the page may ask for: a search reads every failure text in it.
MAX_DAYS = 90.0


def check_days(days: float) -> float:
    return queries.check_days(days, MAX_DAYS)


# -- CI -----------------------------------------------------------------------------------------


def job_table(conn: Connection, days: float = 7.0) -> dict[str, Any]:
    """Each job's runs over the last ``days`` (:func:`kubesift.ci.jobs.jobs`)."""
    return {"days": days, "rows": [r.as_dict() for r in jobs_mod.jobs(conn, days)]}


def ci_health(conn: Connection, days: float = 7.0) -> dict[str, Any]:
    """Runs by state over ``days``, jobs, open regressions: the overview's CI card."""
    r = ci_runs.c
    since = days_ago(days)
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


def open_regressions(conn: Connection) -> list[dict[str, Any]]:
    """Open regressions, newest first, with their tracking issue's URL when triaged."""
    rows = regressions.listed(conn)
    for r in rows:
        r["issue_url"] = issue_url(r.get("issue"))
    return rows


def issue_url(ref: str | None) -> str | None:
    """``owner/name#12`` (a tracking issue a person typed) → its GitHub page."""
    if not ref or "#" not in ref:
        return None
    repo, number = ref.split("#", 1)
    return item_url(repo, "issue", int(number)) if number.isdigit() else None


def ci_grid(conn: Connection, job: str, runs: int = 30, only: str | None = None) -> dict[str, Any]:
    """TestGrid's view of ``job`` (:func:`kubesift.ci.grid.grid`), each row with the
    tracking issue of its open regression, when there is one."""
    if only not in (None, "failing", "flaky"):
        raise UserError(f"only must be failing or flaky, not {only!r}")
    if not 1 <= runs <= MAX_PAGE:
        raise UserError(f"runs must be between 1 and {MAX_PAGE}")
    _job_exists(conn, job)
    found = grid.grid(conn, job, runs, only).as_dict()
    tracked = {r["test"]: r for r in regressions.listed(conn)}
    for row in found["rows"]:
        regression = tracked.get(row["name"])
        row["issue"] = regression.get("issue") if regression else None
        row["issue_url"] = issue_url(row["issue"])
    return found


# -- Component Readiness ------------------------------------------------------------------------


def ci_version(conn: Connection) -> tuple[Any, ...]:
    """Changes whenever CI runs are imported or a regression is triaged."""
    runs = conn.execute(select(func.count(), func.max(ci_runs.c.started_at))).one()[:]
    triaged = conn.execute(select(func.max(ci_regressions.c.triaged_at))).scalar()
    defined = conn.execute(select(func.count(), func.max(ci_symptoms.c.updated_at))).one()[:]
    triage = conn.execute(
        select(func.count(), func.max(ci_triages.c.created_at), func.max(ci_triages.c.resolved_at))
    ).one()[:]
    return (*runs, triaged, *defined, *triage)


def readiness(
    conn: Connection, columns: list[str], key_tests: Sequence[str] = ()
) -> dict[str, Any]:
    """Sippy's Component Readiness: components × variant columns, the worst status per
    cell, and the cells that regressed or improved (judged, not recorded)."""
    report = regressions.report(conn, columns, record=False, key_tests=key_tests)
    tracked = {(r["test"], r["variants"]): r.get("issue") for r in regressions.listed(conn)}
    jobs = conn.execute(select(ci_jobs.c.name, ci_jobs.c.variants)).all()
    cells = []
    for cell in report.regressed + report.improved:
        row = cell.as_dict()
        row["issue"] = row["issue"] or tracked.get((cell.test, cell.variants))
        row["issue_url"] = issue_url(row["issue"])
        wanted = set(cell.variants.split(","))
        row["jobs"] = [name for name, v in jobs if wanted <= set(str(v).split(","))]
        cells.append(row)
    return {
        "columns": report.columns,
        "components": report.grid,
        "cells": cells,
        "sample": asdict(report.sample),
        "basis": asdict(report.basis),
        "judged": report.cells_judged,
    }


# -- flakes, search, clusters -------------------------------------------------------------------


def flakes(conn: Connection, days: float = 7.0, job: str | None = None) -> dict[str, Any]:
    """Flaky test × job pairs (Sippy's in-run flakes, TestGrid's flips), flakiest first."""
    if job:
        _job_exists(conn, job)
    rows = flakes_mod.flakes(conn, days=check_days(days), job=job or None)
    return {"days": days, "total": len(rows), "rows": [r.as_dict() for r in rows[:MAX_PAGE]]}


def search(conn: Connection, pattern: str, days: float = queries.FAILURE_DAYS) -> dict[str, Any]:
    """``kubesift ci search``: the runs whose failures or log tails match ``pattern``, per
    job, with the "when did it start" histogram and the issues that mention it."""
    if not pattern.strip():
        raise UserError("give ?q=REGEX, e.g. ?q=timed out")
    if len(pattern) > 500:
        raise UserError("a search pattern is at most 500 characters")
    found = search_mod.search(conn, pattern, days=check_days(days)).as_dict()
    found["examples"] = found["examples"][:20]
    return found


def cluster_index(conn: Connection, days: float = queries.FAILURE_DAYS) -> dict[str, Any]:
    """Every failure cluster in the window (Triage's), and which cluster each failure
    (run, test) fell in. Matching an issue costs a full-text search, so only the largest
    clusters get theirs here; :func:`failure` matches the one it shows."""
    found = clusters_mod.clusters(conn, days=check_days(days), limit=10**9, match_issues=False)
    shown = []
    for row in found[:30]:
        clusters_mod.match_issue(conn, row)
        shown.append(_cluster_dict(row))
    return {
        "days": days,
        "total": len(found),
        "failures": sum(r.failures for r in found),
        "rows": shown,
        "member": {m: r for r in found for m in r.members},
    }


def _cluster_dict(row: clusters_mod.ClusterRow) -> dict[str, Any]:
    out = row.as_dict()
    out["text"] = out["text"][:400]
    out["issue_url"] = row.issue.url if row.issue else None
    return out


def public_clusters(index: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in index.items() if k != "member"}


def failure(
    conn: Connection, index: dict[str, Any], job: str, build: str, suite: str, test: str
) -> dict[str, Any]:
    """One failing cell, whole: its text, its run, the cluster it fell in and the issue
    that tracks it (the regression's triaged issue first, else the best match)."""
    jid = _job_exists(conn, job)
    run = conn.execute(
        select(ci_runs.c.id, ci_runs.c.url, ci_runs.c.started_at, ci_runs.c.state)
        .where(ci_runs.c.job_id == jid, ci_runs.c.build == build)
        .order_by(ci_runs.c.started_at.desc())
    ).first()
    if run is None:
        raise NotFound(f"no build {build!r} of {job!r}")
    result = conn.execute(
        select(ci_results.c.test_id, ci_results.c.status, ci_results.c.text_id)
        .join(ci_tests, ci_tests.c.id == ci_results.c.test_id)
        .where(ci_results.c.run_id == run.id, ci_tests.c.name == test, ci_tests.c.suite == suite)
    ).first()
    if result is None:
        raise NotFound(f"{test!r} did not fail or flake in build {build} of {job}")
    body = queries.texts(conn, [result.text_id]).get(result.text_id, "") if result.text_id else ""
    home = index["member"].get((int(run.id), int(result.test_id)))
    cluster = _cluster_with_issue(conn, home) if home is not None else None
    tracked = [r for r in regressions.listed(conn) if r["test"] == test and r.get("issue")]
    issue = None
    if tracked:
        ref = tracked[0]["issue"]
        issue = {"ref": ref, "url": issue_url(ref), "why": "triaged for its regression"}
    else:  # the cluster's issue; a flake (no cluster: it passed on retry) is matched alone
        best = cluster["issue"] if cluster else _match(conn, test, body)
        if best:
            ref = f"{best['repo']}#{best['number']}"
            issue = {"ref": ref, "url": best["url"], "why": best["why"]}
    others = _member_texts(conn, home) if home is not None else []
    return {
        "job": job,
        "build": build,
        "test": test,
        "status": int(result.status),
        "search": {"q": text.search_pattern(body, others), "days": queries.FAILURE_DAYS},
        "run": {"url": run.url, "started_at": run.started_at, "state": run.state},
        "text": body,
        "cluster": cluster,
        "issue": issue,
    }


def _member_texts(conn: Connection, row: clusters_mod.ClusterRow, most: int = 50) -> list[str]:
    """Failure texts of other occurrences in the cluster (what varies between them is what
    the search from a cell leaves out)."""
    chosen = row.members[:: max(1, len(row.members) // most)][:most]
    ids = set()
    for run_id, test_id in chosen:
        ids.add(conn.execute(
            select(ci_results.c.text_id)
            .where(ci_results.c.run_id == run_id, ci_results.c.test_id == test_id)
        ).scalar())  # fmt: skip
    return list(queries.texts(conn, {i for i in ids if i is not None}).values())


def _match(conn: Connection, test: str, body: str) -> dict[str, Any] | None:
    best = issues.match(conn, [test], body, limit=1)
    return best[0].as_dict() if best else None


def _cluster_with_issue(conn: Connection, row: clusters_mod.ClusterRow) -> dict[str, Any]:
    if row.issue is None:
        clusters_mod.match_issue(conn, row)
    return _cluster_dict(row)


def _job_exists(conn: Connection, job: str) -> int:
    found = conn.execute(select(ci_jobs.c.id).where(ci_jobs.c.name == job)).scalar()
    if found is None:
        raise NotFound(f"no CI job named {job!r}; GET /api/ci/jobs lists them")
    return int(found)


# -- a run's timeline -------------------------------------------------------------------------


def run_timeline(conn: Connection, job: str, build: str) -> dict[str, Any]:
    """Build ``build`` of ``job``: the run, and its timeline (:mod:`kubesift.ci.timeline`)
    with each interval's source; an empty timeline when the run shipped nothing timed."""
    job_id = _job_exists(conn, job)
    found = queries.run_rows(conn, ci_runs.c.job_id == job_id, ci_runs.c.build == build, limit=1)
    if not found:
        raise NotFound(f"no build {build!r} of job {job!r} stored")
    run = found[0]
    blob = conn.execute(
        select(ci_timelines.c.body).where(ci_timelines.c.run_id == run["id"])
    ).scalar()
    t = timeline.decode(blob) if blob is not None else timeline.Timeline()
    failed_tests = {
        name for (name,) in conn.execute(
            select(ci_tests.c.name).join(ci_results, ci_results.c.test_id == ci_tests.c.id)
            .where(ci_results.c.run_id == run["id"], ci_results.c.status == junit.FAIL)
        )
    }  # fmt: skip
    body = t.as_dict()
    placed = {i["row"] for i in body["intervals"] if i["kind"] == "test" and i["failed"]}
    body.update(
        job=job,
        build=build,
        symptoms=symptom_store.of_runs(conn, [int(run["id"])]).get(int(run["id"]), []),
        state=run["state"],
        started_at=run["started_at"],
        finished_at=run["finished_at"],
        url=run["url"],
        failed_tests=sorted(failed_tests),
        # failed tests the timeline cannot place (no start time shipped for them)
        failed_unplaced=sorted(failed_tests - placed),
    )
    return body
