"""Triages keep themselves current: triaged, fixed, failed fix, and resolved by themselves
5 days after their regressions rolled off."""

from __future__ import annotations

import json

from sqlalchemy.engine import Engine

from kubesift.ci import readiness, regressions, triages, variants
from kubesift.testing.cihistory import CIHistory
from tests.ci.helpers import END_ISO
from tests.ci.test_reports import NOW, history  # noqa: F401  (the fixture)
from tests.conftest import run_cli

COLS = list(variants.load().columns)


def _cell(report: regressions.Report, regression_id: int) -> regressions.Cell:
    [cell] = [c for c in report.regressed if c.regression_id == regression_id]
    return cell


def test_a_triage_goes_from_triaged_to_failed_fix_to_fixed(
    history: tuple[Engine, CIHistory],  # noqa: F811
) -> None:
    engine, _h = history
    with engine.begin() as conn:
        first = regressions.report(conn, COLS, end=END_ISO, now=NOW)
        cell = first.regressed[0]
        raw = cell.assessment.status
        assert raw in readiness.REGRESSED
        t1 = triages.link(conn, cell.regression_id, "openshift/origin#7", now=NOW)["triage_id"]
        shown = _cell(regressions.report(conn, COLS, end=END_ISO, now=NOW, record=False),
                      cell.regression_id)  # fmt: skip
        triaged = {readiness.EXTREME: readiness.EXTREME_TRIAGED,
                   readiness.SIGNIFICANT: readiness.SIGNIFICANT_TRIAGED}[raw]  # fmt: skip
        assert shown.assessment.status == triaged
        assert "triaged: openshift/origin#7" in shown.assessment.explanation
        # the fix was claimed on Dec 29, but the test kept failing after it: a failed fix
        triages.resolve(conn, t1, now="2025-12-29T00:00:00Z")
        failed = _cell(regressions.report(conn, COLS, end=END_ISO, now=NOW, record=False),
                       cell.regression_id)  # fmt: skip
        assert failed.assessment.status == readiness.FAILED_FIX
        assert "since the fix of 2025-12-29" in failed.assessment.explanation
        # the worst status of its component's column
        worst = regressions.report(conn, COLS, end=END_ISO, now=NOW, record=False).grid
        assert worst[failed.component][failed.column] == "FailedFixedRegression"
        # a second fix, after the last failure: fixed, waiting to roll off
        t2 = triages.link(conn, cell.regression_id, "openshift/origin#8", now=NOW)["triage_id"]
        assert t2 != t1
        triages.resolve(conn, t2, now="2026-01-01T00:00:00Z")
        fixed = _cell(regressions.report(conn, COLS, end=END_ISO, now=NOW, record=False),
                      cell.regression_id)  # fmt: skip
        assert fixed.assessment.status == readiness.FIXED
        # the record keeps what was judged: the regression is still open
        again = regressions.report(conn, COLS, end=END_ISO, now=NOW)
        assert again.closed == 0 and cell.regression_id in {
            c.regression_id for c in again.regressed
        }


def test_a_triage_resolves_itself_five_days_after_its_regressions_roll_off(
    history: tuple[Engine, CIHistory],  # noqa: F811
) -> None:
    engine, _h = history
    with engine.begin() as conn:
        first = regressions.report(conn, COLS, end=END_ISO, now=NOW)
        rid = first.regressed[0].regression_id
        triage = triages.link(conn, rid, "openshift/origin#9", now=NOW)["triage_id"]
        # nothing ran for a week: the regressions roll off and close on Jan 9
        regressions.report(conn, COLS, end="2026-01-09", now="2026-01-09T00:00:00Z")
        regressions.report(conn, COLS, end="2026-01-13", now="2026-01-13T00:00:00Z")
    listed = json.loads(run_cli("ci", "triages", "--json").stdout)
    assert [t["id"] for t in listed] == [triage]  # 4 days after: still open
    assert listed[0]["regressions"][0]["closed_at"] == "2026-01-09T00:00:00Z"
    with engine.begin() as conn:
        regressions.report(conn, COLS, end="2026-01-14", now="2026-01-14T00:00:00Z")
    assert json.loads(run_cli("ci", "triages", "--json").stdout) == []
    [done] = json.loads(run_cli("ci", "triages", "--all", "--json").stdout)
    assert (done["resolved_at"], done["resolution"]) == (
        "2026-01-14T00:00:00Z", "regressions-rolled-off"
    )  # fmt: skip
    refused = run_cli("ci", "resolve", str(triage))
    assert refused.returncode != 0 and "regressions-rolled-off" in refused.stderr
    assert "Traceback" not in refused.stderr
    assert run_cli("ci", "resolve", "999").returncode != 0
