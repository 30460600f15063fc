"""What a PR's failed presubmits mean: known flakes, open regressions, tracked issues, or
new (probably this change). Read by the bot for its one comment.

For each presubmit job of the PR its latest finished run counts; each of its failed
tests is then judged against the periodic and postsubmit history (not other PRs: their
failures may be their own): a test that flaked or failed now and then while mostly
passing there is a **known flake**; one with an open regression record is a **known
regression**; one whose failure an open issue tracks is **reported**; anything else is
**new**, and Sippy's PR risk rule applies: a test that passed ≥ 98 % of its recent runs
and failed here was probably broken by this change.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.engine import Connection

from kubesift.ci import issues, queries, symptom_store
from kubesift.ci.junit import FAIL
from kubesift.store.schema import (
    ci_daily,
    ci_jobs,
    ci_regressions,
    ci_results,
    ci_runs,
    ci_tests,
    ci_texts,
)

HISTORY_DAYS = 14
#: Sippy's PR risk: a test passing this often elsewhere that failed here is suspicious.
HIGH_RISK_PASS_PCT = 98.0


@dataclass
class FailedTest:
    job: str
    build: str
    url: str | None
    test: str
    text: str
    verdict: str  # flake | regression | reported | new
    detail: str
    pass_pct: float | None  # elsewhere, over the history window
    issue: dict[str, Any] | None = None
    regression_id: int | None = None
    symptoms: list[str] = field(default_factory=list)  # summaries of its run's symptoms


@dataclass
class PRReport:
    repo: str
    pr: int
    failed_runs: int = 0
    failures: list[FailedTest] = field(default_factory=list)
    symptoms: list[str] = field(default_factory=list)  # of its failed runs, by summary

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def empty(self) -> bool:
        return not self.failures


def pr_report(conn: Connection, repo: str, pr: int, end: str | None = None) -> PRReport:
    """The failed tests of the latest run of each presubmit job of ``repo``#``pr``."""
    out = PRReport(repo=repo, pr=pr)
    latest = _latest_runs(conn, repo, pr)
    failed = [r for r in latest if r["state"] in ("failure", "error")]
    out.failed_runs = len(failed)
    if not failed:
        return out
    rows = conn.execute(
        select(ci_results.c.run_id, ci_tests.c.id, ci_tests.c.name, ci_texts.c.text)
        .join(ci_tests, ci_tests.c.id == ci_results.c.test_id)
        .join(ci_texts, ci_texts.c.id == ci_results.c.text_id, isouter=True)
        .where(
            and_(
                ci_results.c.run_id.in_([int(r["id"]) for r in failed]),
                ci_results.c.status == FAIL,
                ci_results.c.masked.is_(False),
            )
        )
    ).all()
    history = _history(conn, {int(t) for _, t, _, _ in rows}, queries.window(HISTORY_DAYS, end))
    labels = symptom_store.of_runs(conn, by_run := [int(r["id"]) for r in failed])
    out.symptoms = sorted({s["summary"] for run in by_run for s in labels.get(run, [])})
    regressions = _open_regressions(conn, {int(t) for _, t, _, _ in rows})
    by_id = {int(r["id"]): r for r in failed}
    for run_id, test_id, name, text in rows:
        run = by_id[int(run_id)]
        item = FailedTest(
            job=str(run["job"]),
            build=str(run["build"]),
            url=run["url"],
            test=name,
            text=(text or "")[:500],
            verdict="new",
            detail="",
            pass_pct=None,
            symptoms=[s["summary"] for s in labels.get(int(run_id), [])],
        )
        _judge(conn, item, history.get(int(test_id)), regressions.get(int(test_id)))
        out.failures.append(item)
    order = {"new": 0, "regression": 1, "reported": 2, "flake": 3}
    out.failures.sort(key=lambda f: (order[f.verdict], f.job, f.test))
    return out


def _latest_runs(conn: Connection, repo: str, pr: int) -> list[dict[str, Any]]:
    runs = queries.run_rows(
        conn, ci_runs.c.repo == repo, ci_runs.c.pr == pr, ci_runs.c.state != "pending"
    )
    latest: dict[str, dict[str, Any]] = {}
    for r in runs:  # newest first
        latest.setdefault(str(r["job"]), r)
    return list(latest.values())


def _history(
    conn: Connection, tests: set[int], w: queries.Window
) -> dict[int, tuple[int, int, int, int]]:
    """Per test: runs, passes, flakes, failures on periodic and postsubmit jobs."""
    stmt = (
        select(
            ci_daily.c.test_id,
            func.sum(ci_daily.c.runs),
            func.sum(ci_daily.c.passes),
            func.sum(ci_daily.c.flakes),
            func.sum(ci_daily.c.failures),
        )
        .join(ci_jobs, ci_jobs.c.id == ci_daily.c.job_id)
        .where(
            and_(
                ci_daily.c.test_id.in_(sorted(tests)),
                ci_daily.c.day >= w.first_day,
                ci_daily.c.day < w.last_day,
                ci_jobs.c.kind != "presubmit",
            )
        )
        .group_by(ci_daily.c.test_id)
    )
    return {int(t): (int(r), int(p), int(f), int(x)) for t, r, p, f, x in conn.execute(stmt)}


def _open_regressions(conn: Connection, tests: set[int]) -> dict[int, dict[str, Any]]:
    rows = conn.execute(
        select(ci_regressions)
        .where(
            and_(ci_regressions.c.test_id.in_(sorted(tests)), ci_regressions.c.closed_at.is_(None))
        )
        .order_by(ci_regressions.c.opened_at)
    )
    return {int(r.test_id): dict(r._mapping) for r in rows}


def _judge(
    conn: Connection,
    item: FailedTest,
    hist: tuple[int, int, int, int] | None,
    regression: dict[str, Any] | None,
) -> None:
    if hist is not None and hist[0]:
        runs, passes, flakes, _failures = hist
        item.pass_pct = round(100 * (passes + flakes) / runs, 1)
    if regression is not None:
        item.verdict, item.regression_id = "regression", int(regression["id"])
        tracked = f", tracked by {regression['issue']}" if regression.get("issue") else ""
        item.detail = (
            f"open regression #{regression['id']} since {regression['opened_at']}{tracked}"
        )
        return
    found = issues.match(conn, [item.test], item.text, limit=1)
    if found:
        item.verdict, item.issue = "reported", found[0].as_dict()
        item.detail = f"{found[0].repo}#{found[0].number}: {found[0].title}"
        return
    if hist is not None and hist[0] and (hist[2] > 0 or hist[3] > 0) and (item.pass_pct or 0) >= 80:
        item.verdict = "flake"
        item.detail = (
            f"flaky elsewhere: {hist[2]} flakes and {hist[3]} failures in {hist[0]} runs "
            f"over {HISTORY_DAYS} days"
        )
        return
    if item.pass_pct is None:
        item.detail = "no history outside presubmits"
    elif item.pass_pct >= HIGH_RISK_PASS_PCT:
        item.detail = f"passes {item.pass_pct}% of runs elsewhere: probably this change"
    else:
        item.detail = f"passes {item.pass_pct}% of runs elsewhere"
