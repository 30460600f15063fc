"""``kubesift ci grid JOB``: TestGrid's view of one job, and its alerts."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy.engine import Connection

from kubesift.ci import queries, symptom_store
from kubesift.ci.junit import ABSENT, FAIL, FLAKY, PASS
from kubesift.ci.testgrid import alert_row, flip_flakiness
from kubesift.store.schema import ci_runs

OVERALL = "Overall"
POD = "Pod"
NO_PODINFO = "podinfo.json not found in this run"
_POD_STATUS = {"ok": PASS, "failed": FAIL}
_STATE_STATUS = {"success": PASS, "failure": FAIL, "error": FAIL, "aborted": FAIL, "pending": 4}


@dataclass
class Column:
    build: str
    started_at: str | None
    state: str
    url: str | None
    path: str
    failures: int
    flakes: int
    symptoms: list[dict[str, str]] = field(default_factory=list)  # {id, summary}


@dataclass
class Row:
    name: str
    suite: str
    component: str
    cells: list[int]  # one status per column, newest first
    messages: list[str | None]  # the failure text of failing/flaky cells (first 140 chars)
    alert: dict[str, Any] | None = None
    flakiness: float = 0.0


@dataclass
class Grid:
    job: str
    columns: list[Column] = field(default_factory=list)
    rows: list[Row] = field(default_factory=list)
    alerts: int = 0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def grid(conn: Connection, job: str, runs: int = 30, only: str | None = None) -> Grid:
    """The last ``runs`` runs of ``job`` as TestGrid shows them; ``only`` is ``failing``
    (rows with a failure or flake shown) or ``flaky`` (rows with a flaky cell or flips)."""
    jid = queries.job_id(conn, job)
    rows = queries.run_rows(conn, ci_runs.c.job_id == jid, limit=runs)
    out = Grid(job=job, columns=[_column(r) for r in rows])
    ids = [int(r["id"]) for r in rows]
    labels = symptom_store.of_runs(conn, ids)
    for column, run in zip(out.columns, ids, strict=True):
        column.symptoms = labels.get(run, [])
    rosters = queries.rosters(conn, (r["roster_id"] for r in rows))
    bad = queries.bad_results(conn, ids)
    tests = queries.tests_by_id(conn, {t for ts in rosters.values() for t in ts})
    msgs = queries.texts(conn, {x for m in bad.values() for _, x in m.values() if x})
    overall = [_STATE_STATUS.get(str(r["state"]), ABSENT) for r in rows]
    out.rows.append(Row(OVERALL, "", "", overall, [None] * len(rows)))
    pods = [_POD_STATUS.get(r["pod_state"], ABSENT) for r in rows]
    if any(p != ABSENT for p in pods):  # TestGrid's Pod row, from podinfo.json
        messages = [r["pod_message"] or NO_PODINFO for r in rows]
        out.rows.append(Row(POD, "", "", pods, messages))
    fixed = len(out.rows)  # Overall (and Pod) first, then the tests
    for tid, (suite, name, comp) in sorted(tests.items(), key=lambda kv: kv[1][1]):
        cells, texts = [], []
        for r in rows:
            roster = rosters.get(r["roster_id"], [])
            status, text = bad.get(int(r["id"]), {}).get(
                tid, (PASS if tid in roster else ABSENT, None)
            )
            cells.append(status)
            texts.append(msgs.get(text, "")[:140] if text else None)
        out.rows.append(Row(name, suite, comp, cells, texts))
    for row in out.rows:
        _judge(row, out.columns)
    out.alerts = sum(r.alert is not None for r in out.rows)
    out.rows = [*out.rows[:fixed], *sorted(out.rows[fixed:], key=_order)]
    if only:
        out.rows = [r for r in out.rows if _keep(r, only)]
    return out


def _column(r: dict[str, Any]) -> Column:
    return Column(
        build=str(r["build"]),
        started_at=r["started_at"],
        state=str(r["state"]),
        url=r["url"],
        path=str(r["path"]),
        failures=int(r["failures"]),
        flakes=int(r["flakes"]),
    )


def _judge(row: Row, columns: list[Column]) -> None:
    alert = alert_row(list(zip([c.build for c in columns], row.cells, strict=True)))
    if alert is not None:
        row.alert = {
            "fail_count": alert.fail_count,
            "first_fail": alert.first_fail,
            "latest_fail": alert.latest_fail,
            "last_pass": alert.last_pass,
        }
    row.flakiness = round(flip_flakiness([c for c in row.cells if c in (PASS, FAIL, FLAKY)]), 1)


def _order(row: Row) -> tuple[int, int, str]:
    bad = sum(c in (FAIL, FLAKY) for c in row.cells)
    return (0 if row.alert else 1, -bad, row.name)


def _keep(row: Row, only: str) -> bool:
    if row.name == OVERALL:
        return True
    if only == "failing":
        return any(c in (FAIL, FLAKY) for c in row.cells)
    return FLAKY in row.cells or row.flakiness > 0
