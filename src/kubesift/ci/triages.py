"""Triages (Sippy's): the issue that tracks one or more regressions, and how its state
moves on by itself.

- ``kubesift ci triage REGRESSION ISSUE`` links a regression to the open triage of that
  issue (one is created the first time).
- A person resolves a triage when the fix merged (``ci resolve``): its regressions are
  then ``FixedRegression`` while no failure came after the fix, and
  ``FailedFixedRegression`` (the worst status there is) once one did: for a key test
  (``key_tests`` in the variant rules) two failures are needed, as Sippy's
  ``keyTestMinFailuresForFailedFix``.
- While unresolved, a regressed cell it tracks is ``Extreme/SignificantTriagedRegression``.
- A triage whose regressions have all been closed for :data:`ROLL_OFF_DAYS` days is resolved
  by itself, reason ``regressions-rolled-off`` (Sippy's ``regressionHysteresisDays``); the
  report does it each time it records.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import and_, func, insert, select, update
from sqlalchemy.engine import Connection

from kubesift.ci import readiness, symptom_store
from kubesift.ci.junit import FAIL
from kubesift.errors import NotFound, UserError
from kubesift.store.schema import (
    ci_jobs,
    ci_regressions,
    ci_results,
    ci_runs,
    ci_tests,
    ci_triage_regressions,
    ci_triages,
)
from kubesift.timeutil import shift, utcnow_iso

TYPES = ("ci-infra", "product-infra", "product", "test")
ROLL_OFF_DAYS = 5
KEY_TEST_MIN_FAILURES = 2
_ISSUE = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+#\d+$")


def link(
    conn: Connection,
    regression_id: int,
    issue: str,
    kind: str = "product",
    description: str = "",
    now: str | None = None,
) -> dict[str, Any]:
    """Record that ``issue`` (``owner/name#N``) tracks the regression: into the issue's
    unresolved triage, or a new one."""
    if not _ISSUE.match(issue):
        raise UserError(f"an issue looks like owner/name#123, not {issue!r}")
    if kind not in TYPES:
        raise UserError(f"a triage's type is one of {', '.join(TYPES)}, not {kind!r}")
    if len(description) > 2000:
        raise UserError("a triage's description is at most 2,000 characters")
    found = conn.execute(select(ci_regressions.c.id).where(ci_regressions.c.id == regression_id))
    if found.first() is None:
        raise NotFound(
            f"no regression {regression_id}; `kubesift ci regressions --json` lists them"
        )
    now = now or utcnow_iso()
    triage = conn.execute(
        select(ci_triages.c.id).where(
            ci_triages.c.issue == issue, ci_triages.c.resolved_at.is_(None)
        )
    ).scalar()
    if triage is None:
        triage = conn.execute(
            insert(ci_triages).returning(ci_triages.c.id),
            [{"issue": issue, "type": kind, "description": description, "created_at": now}],
        ).scalar_one()
    linked = conn.execute(
        select(func.count())
        .select_from(ci_triage_regressions)
        .where(
            ci_triage_regressions.c.triage_id == triage,
            ci_triage_regressions.c.regression_id == regression_id,
        )
    ).scalar()
    if not linked:
        conn.execute(
            insert(ci_triage_regressions).values(triage_id=triage, regression_id=regression_id)
        )
    conn.execute(
        update(ci_regressions)
        .where(ci_regressions.c.id == regression_id)
        .values(issue=issue, triaged_at=now)
    )
    return {"regression_id": regression_id, "issue": issue, "triage_id": int(triage)}


def resolve(conn: Connection, triage_id: int, now: str | None = None) -> dict[str, Any]:
    """A person says the fix is in: from now on a failure of its regressions is a failed fix."""
    row = conn.execute(select(ci_triages).where(ci_triages.c.id == triage_id)).first()
    if row is None:
        raise NotFound(f"no triage {triage_id}; `kubesift ci triages --json` lists them")
    if row.resolved_at is not None:
        raise UserError(f"triage {triage_id} was resolved at {row.resolved_at} ({row.resolution})")
    now = now or utcnow_iso()
    conn.execute(
        update(ci_triages)
        .where(ci_triages.c.id == triage_id)
        .values(resolved_at=now, resolution="user")
    )
    return {"triage_id": triage_id, "resolved_at": now, "resolution": "user"}


def sync(conn: Connection, now: str) -> list[int]:
    """Resolve the unresolved triages whose regressions all closed ``ROLL_OFF_DAYS`` or
    more days before ``now``; their ids."""
    cutoff = shift(now, -ROLL_OFF_DAYS * 86_400)
    rows = conn.execute(
        select(ci_triages.c.id, ci_regressions.c.closed_at)
        .join(ci_triage_regressions, ci_triage_regressions.c.triage_id == ci_triages.c.id)
        .join(ci_regressions, ci_regressions.c.id == ci_triage_regressions.c.regression_id)
        .where(ci_triages.c.resolved_at.is_(None))
    ).all()
    ready: dict[int, bool] = {}
    for triage, closed in rows:
        ready[int(triage)] = (
            ready.get(int(triage), True) and closed is not None and closed <= cutoff
        )
    done = sorted(t for t, ok in ready.items() if ok)
    if done:
        conn.execute(
            update(ci_triages)
            .where(ci_triages.c.id.in_(done))
            .values(resolved_at=now, resolution="regressions-rolled-off")
        )
    return done


def of_regressions(conn: Connection, ids: Iterable[int]) -> dict[int, list[dict[str, Any]]]:
    """Per regression id: its triages (id, issue, resolved_at, resolution)."""
    wanted = sorted({int(i) for i in ids})
    out: dict[int, list[dict[str, Any]]] = {}
    if not wanted:
        return out
    rows = conn.execute(
        select(ci_triage_regressions.c.regression_id, ci_triages)
        .join(ci_triages, ci_triages.c.id == ci_triage_regressions.c.triage_id)
        .where(ci_triage_regressions.c.regression_id.in_(wanted))
        .order_by(ci_triages.c.id)
    )
    for r in rows:
        out.setdefault(int(r.regression_id), []).append(
            {"id": r.id, "issue": r.issue, "resolved_at": r.resolved_at, "resolution": r.resolution}
        )
    return out


def shown_status(
    conn: Connection,
    raw: int,
    regression: dict[str, Any],
    tracked: Sequence[dict[str, Any]],
    key_tests: Sequence[str] = (),
) -> tuple[int, str]:
    """The status a regressed cell shows given its triages, and why: triaged while one is
    unresolved; once all are, fixed, or a failed fix when it failed after the last fix."""
    if not tracked:
        return raw, ""
    open_ = [t for t in tracked if t["resolved_at"] is None]
    if open_:
        status = (
            readiness.EXTREME_TRIAGED if raw == readiness.EXTREME else readiness.SIGNIFICANT_TRIAGED
        )
        return status, f"triaged: {', '.join(t['issue'] for t in open_)}"
    fixed_at = max(str(t["resolved_at"]) for t in tracked)
    after = len(failures_after(conn, regression, fixed_at))
    test = conn.execute(
        select(ci_tests.c.name).where(ci_tests.c.id == regression["test_id"])
    ).scalar()
    needed = KEY_TEST_MIN_FAILURES if test in key_tests else 1
    if after >= needed:
        return readiness.FAILED_FIX, f"failed {after} times since the fix of {fixed_at}"
    return readiness.FIXED, f"fixed at {fixed_at}; no failure since"


def failures_after(conn: Connection, regression: dict[str, Any], since: str) -> list[int]:
    """Runs on jobs of the regression's variants where its test failed after ``since``."""
    return [
        int(r)
        for (r,) in conn.execute(
            select(ci_results.c.run_id)
            .join(ci_runs, ci_runs.c.id == ci_results.c.run_id)
            .join(ci_jobs, ci_jobs.c.id == ci_runs.c.job_id)
            .where(
                and_(
                    ci_results.c.test_id == regression["test_id"],
                    ci_results.c.status == FAIL,
                    ci_jobs.c.variants == regression["variants"],
                    ci_runs.c.started_at > since,
                )
            )
        )
    ]


def listed(conn: Connection, include_resolved: bool = False) -> list[dict[str, Any]]:
    """Triages, newest first, each with its regressions and the share of their failing runs
    that carry each symptom."""
    from kubesift.ci import regressions

    stmt = select(ci_triages).order_by(ci_triages.c.id.desc())
    if not include_resolved:
        stmt = stmt.where(ci_triages.c.resolved_at.is_(None))
    triages = [dict(r._mapping) for r in conn.execute(stmt)]
    links = conn.execute(
        select(ci_triage_regressions.c.triage_id, ci_triage_regressions.c.regression_id).where(
            ci_triage_regressions.c.triage_id.in_([t["id"] for t in triages])
        )
    ).all()
    by_triage: dict[int, list[int]] = {}
    for t, r in links:
        by_triage.setdefault(int(t), []).append(int(r))
    regs = {r["id"]: r for r in regressions.listed(conn, include_closed=True, with_symptoms=False)}
    for t in triages:
        mine = [regs[r] for r in sorted(by_triage.get(t["id"], [])) if r in regs]
        t["regressions"] = [
            {
                "id": r["id"],
                "test": r["test"],
                "variants": r["variants"],
                "closed_at": r["closed_at"],
            }
            for r in mine
        ]
        runs = {run for r in mine for run in regressions.failing_runs(conn, r)}
        t["failing_runs"] = len(runs)
        t["symptoms"] = symptom_store.shares(conn, runs)
    return triages
