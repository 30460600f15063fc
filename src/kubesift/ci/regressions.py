"""``kubesift ci regressions``: Component Readiness per component × variant columns, and
regression records that open, close and reopen with Sippy's hysteresis.

Cells are test × the job's full variant combination (periodic and postsubmit jobs;
presubmits test unmerged code). Counts are summed from the daily table in SQL; each
cell is then judged by :func:`kubesift.ci.readiness.assess`. A cell with an open
regression is judged at 90 % confidence and pity −2; a regression closed less than five
days ago is reopened (keeping its opening time) rather than duplicated.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from sqlalchemy import and_, case, func, select, update
from sqlalchemy.engine import Connection

from kubesift.ci import allowances, queries, readiness, symptom_store, triages, variants
from kubesift.ci.junit import FAIL
from kubesift.ci.readiness import Counts, Settings
from kubesift.store.schema import (
    ci_daily_variants,
    ci_jobs,
    ci_regressions,
    ci_results,
    ci_runs,
    ci_tests,
)
from kubesift.timeutil import shift, utcnow_iso

REOPEN_DAYS = 5


@dataclass
class Cell:
    test_id: int
    test: str
    component: str
    variants: str
    column: str
    sample: Counts
    basis: Counts
    assessment: readiness.Assessment
    regression_id: int | None = None
    opened_at: str | None = None
    issue: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "regression_id": self.regression_id,
            "test": self.test,
            "component": self.component,
            "variants": self.variants,
            "column": self.column,
            "status": self.assessment.name,
            "status_value": self.assessment.status,
            "p": self.assessment.p,
            "explanation": self.assessment.explanation,
            "sample": asdict(self.sample),
            "basis": asdict(self.basis),
            "opened_at": self.opened_at,
            "issue": self.issue,
        }


@dataclass
class Report:
    sample: queries.Window
    basis: queries.Window
    columns: list[str]
    cells_judged: int = 0
    regressed: list[Cell] = field(default_factory=list)
    improved: list[Cell] = field(default_factory=list)
    #: component → column → worst status name
    grid: dict[str, dict[str, str]] = field(default_factory=dict)
    opened: int = 0
    reopened: int = 0
    closed: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "sample": asdict(self.sample),
            "basis": asdict(self.basis),
            "columns": self.columns,
            "cells_judged": self.cells_judged,
            "regressions": [c.as_dict() for c in self.regressed],
            "improvements": [c.as_dict() for c in self.improved],
            "components": self.grid,
            "opened": self.opened,
            "reopened": self.reopened,
            "closed": self.closed,
        }


#: The report's sample window (days); a regression's failing runs are counted from the
#: start of the window it was opened on.
SAMPLE_DAYS = 7


def counts(
    conn: Connection, sample: queries.Window, basis: queries.Window
) -> dict[tuple[int, str], tuple[Counts, Counts]]:
    """(test id, variants) → (sample counts, basis counts), summed in SQL from the
    per-variant daily table (presubmits are not in it)."""
    t = ci_daily_variants
    in_sample = t.c.day >= sample.first_day

    def summed(col: Any, when: Any) -> Any:
        return func.sum(case((when, col), else_=0))

    stmt = (
        select(
            t.c.test_id,
            t.c.variants,
            summed(t.c.passes, in_sample),
            summed(t.c.failures, in_sample),
            summed(t.c.flakes, in_sample),
            summed(t.c.passes, ~in_sample),
            summed(t.c.failures, ~in_sample),
            summed(t.c.flakes, ~in_sample),
        )
        .join(ci_tests, ci_tests.c.id == t.c.test_id)
        # informing tests (OpenShift's lifecycle) are not judged, as in Sippy's sample
        .where(and_(t.c.day >= basis.first_day, t.c.day < sample.last_day))
        .where(ci_tests.c.lifecycle != "informing")
        .group_by(t.c.test_id, t.c.variants)
    )
    return {
        (tid, v): (Counts(int(sp), int(sf), int(sl)), Counts(int(bp), int(bf), int(bl)))
        for tid, v, sp, sf, sl, bp, bf, bl in conn.execute(stmt)
    }


def report(
    conn: Connection,
    columns: list[str],
    settings: Settings | None = None,
    sample_days: float = SAMPLE_DAYS,
    basis_days: float = 30,
    end: str | None = None,
    record: bool = True,
    now: str | None = None,
    key_tests: Sequence[str] = (),
) -> Report:
    """Judge every cell; with ``record``, open, reopen and close regression records and
    resolve the triages whose regressions rolled off. A regressed cell then shows its
    triage state (:func:`kubesift.ci.triages.shown_status`)."""
    settings = settings or Settings()
    sample = queries.window(sample_days, end)
    basis = queries.before(sample, basis_days)
    out = Report(sample=sample, basis=basis, columns=columns)
    open_now = _open_regressions(conn, now or utcnow_iso())
    data = counts(conn, sample, basis)
    names = queries.tests_by_id(conn, {t for t, _ in data})
    older = (
        allowances.fallback(data, settings.flake_as_failure) if settings.release_fallback else {}
    )
    allowed = allowances.load(conn)
    judged = []
    notes: list[str] = []
    for (tid, var), (s, b) in data.items():
        prior = open_now.get((tid, var))
        opened = prior is not None and prior["closed_at"] is None
        cell_settings = settings.while_open() if opened else settings
        why = []
        if (tid, var) in older:
            b, note = older[(tid, var)]
            data[(tid, var)] = (s, b)
            why.append(note)
        if allowed:
            cell_settings, note = allowances.adjusted(cell_settings, names[tid][1], var, b, allowed)
            why += [note] if note else []
        notes.append("; ".join(why))
        judged.append((readiness.assess(s, b, cell_settings), 1 - cell_settings.confidence / 100))
    verdicts = (
        readiness.control_fdr(judged, settings.fdr) if settings.fdr else [v for v, _ in judged]
    )
    cells = []
    for ((tid, var), (s, b)), verdict, note in zip(data.items(), verdicts, notes, strict=True):
        if note:
            verdict = replace(verdict, explanation=f"{verdict.explanation}; {note}")
        cell = Cell(tid, names[tid][1], names[tid][2], var, _column(var, columns), s, b, verdict)
        cells.append(cell)
        out.cells_judged += 1
        if verdict.regressed:
            out.regressed.append(cell)
        elif verdict.status == readiness.IMPROVEMENT:
            out.improved.append(cell)
    if record:
        _record(conn, out, open_now, now or utcnow_iso())
        triages.sync(conn, now or utcnow_iso())
    _show_triage_states(conn, out, open_now, key_tests)
    for cell in cells:
        worst = out.grid.setdefault(cell.component, {})
        if cell.column not in worst or _value(worst[cell.column]) > cell.assessment.status:
            worst[cell.column] = cell.assessment.name
    out.regressed.sort(key=lambda c: (c.assessment.status, c.assessment.p or 0.0))
    return out


def _show_triage_states(
    conn: Connection,
    out: Report,
    known: dict[tuple[int, str], dict[str, Any]],
    key_tests: Sequence[str],
) -> None:
    """Each regressed cell's status given its regression's triages (the record keeps the
    judged status: a triage changes what is shown, not whether it regressed)."""
    for cell in out.regressed:
        if cell.regression_id is None:
            prior = known.get((cell.test_id, cell.variants))
            if prior is not None and prior["closed_at"] is None:
                cell.regression_id, cell.opened_at = int(prior["id"]), prior["opened_at"]
                cell.issue = prior["issue"]
    tracked = triages.of_regressions(
        conn, [c.regression_id for c in out.regressed if c.regression_id]
    )
    for cell in out.regressed:
        if cell.regression_id is None or cell.regression_id not in tracked:
            continue
        regression = {"test_id": cell.test_id, "variants": cell.variants}
        status, why = triages.shown_status(
            conn, cell.assessment.status, regression, tracked[cell.regression_id], key_tests
        )
        cell.assessment = replace(
            cell.assessment, status=status, explanation=f"{cell.assessment.explanation}; {why}"
        )


def _value(name: str) -> int:
    return {v: k for k, v in readiness.STATUS_NAMES.items()}[name]


def _column(var: str, columns: list[str]) -> str:
    parsed = variants.parse_key(var)
    return ",".join(f"{c}:{parsed.get(c, '?')}" for c in columns)


def _open_regressions(conn: Connection, now: str) -> dict[tuple[int, str], dict[str, Any]]:
    """Open regressions, and those closed within the reopen window, by cell."""
    since = shift(now, -REOPEN_DAYS * 86_400)
    rows = conn.execute(
        select(ci_regressions)
        .where((ci_regressions.c.closed_at.is_(None)) | (ci_regressions.c.closed_at >= since))
        .order_by(ci_regressions.c.id)
    )
    return {(r.test_id, r.variants): dict(r._mapping) for r in rows}


def _record(
    conn: Connection, out: Report, known: dict[tuple[int, str], dict[str, Any]], now: str
) -> None:
    seen = set()
    for cell in out.regressed:
        key = (cell.test_id, cell.variants)
        seen.add(key)
        prior = known.get(key)
        values = {
            "status": cell.assessment.status,
            "p": cell.assessment.p,
            "explanation": cell.assessment.explanation,
            "closed_at": None,
        }
        if prior is None:
            cell.regression_id = conn.execute(
                ci_regressions.insert().returning(ci_regressions.c.id),
                [
                    {
                        **values,
                        "test_id": cell.test_id,
                        "variants": cell.variants,
                        "component": cell.component,
                        "opened_at": now,
                        "last_failure": out.sample.end,
                        "max_failures": cell.sample.failure,
                    }
                ],
            ).scalar_one()
            cell.opened_at, out.opened = now, out.opened + 1
            continue
        if prior["closed_at"] is not None:
            out.reopened += 1
        values["max_failures"] = max(int(prior["max_failures"]), cell.sample.failure)
        conn.execute(
            update(ci_regressions).where(ci_regressions.c.id == prior["id"]).values(**values)
        )
        cell.regression_id, cell.opened_at, cell.issue = (
            prior["id"],
            prior["opened_at"],
            prior["issue"],
        )
    for key, prior in known.items():
        if key not in seen and prior["closed_at"] is None:
            conn.execute(
                update(ci_regressions)
                .where(ci_regressions.c.id == prior["id"])
                .values(closed_at=now)
            )
            out.closed += 1


def triage(conn: Connection, regression_id: int, issue: str, **options: Any) -> dict[str, Any]:
    """Link a regression to the issue that tracks it (``owner/name#N``): its triage
    (:func:`kubesift.ci.triages.link`)."""
    return triages.link(conn, regression_id, issue, **options)


def listed(
    conn: Connection, include_closed: bool = False, with_symptoms: bool = True
) -> list[dict[str, Any]]:
    """Stored regression records, newest first."""
    stmt = select(ci_regressions).order_by(
        ci_regressions.c.opened_at.desc(), ci_regressions.c.id.desc()
    )
    if not include_closed:
        stmt = stmt.where(ci_regressions.c.closed_at.is_(None))
    rows = [dict(r._mapping) for r in conn.execute(stmt)]
    names = queries.tests_by_id(conn, {int(r["test_id"]) for r in rows})
    for r in rows:
        r["test"] = names[int(r["test_id"])][1]
        r["status"] = readiness.STATUS_NAMES.get(int(r["status"]), str(r["status"]))
        if with_symptoms:
            r["symptoms"] = symptom_store.shares(conn, failing_runs(conn, r))
    return rows


def failing_runs(conn: Connection, regression: dict[str, Any]) -> list[int]:
    """The runs in which a regression's test failed, on jobs of its variants, from the
    sample window it was opened on until it closed (or now): Sippy's regression job runs."""
    stmt = (
        select(ci_results.c.run_id)
        .join(ci_runs, ci_runs.c.id == ci_results.c.run_id)
        .join(ci_jobs, ci_jobs.c.id == ci_runs.c.job_id)
        .where(
            ci_results.c.test_id == regression["test_id"],
            ci_results.c.status == FAIL,
            ci_jobs.c.variants == regression["variants"],
            ci_runs.c.started_at >= shift(str(regression["opened_at"]), -SAMPLE_DAYS * 86_400),
        )
    )
    if regression.get("closed_at"):
        stmt = stmt.where(ci_runs.c.started_at <= regression["closed_at"])
    return [int(r) for (r,) in conn.execute(stmt)]


_ISSUE = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+#\d+$")
