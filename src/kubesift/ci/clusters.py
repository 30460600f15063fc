"""``kubesift ci clusters``: Triage's clusters of failures, each with the issue that most
likely tracks it.

Failures in the window are normalised (dates blanked, noisy tokens renamed); identical
normalised texts are grouped first, then groups within 10 % edit distance merge.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import and_, select
from sqlalchemy.engine import Connection

from kubesift.ci import issues, queries, symptom_store, text
from kubesift.ci.junit import FAIL
from kubesift.store.schema import ci_jobs, ci_results, ci_runs


@dataclass
class ClusterRow:
    id: str
    text: str  # the normalised key text
    failures: int
    tests: list[tuple[str, int]]  # (name, failures), most first
    jobs: list[tuple[str, int]]
    first_seen: str | None
    last_seen: str | None
    owner: str  # the SIG most of its tests belong to
    issue: issues.IssueMatch | None = None
    members: list[tuple[int, int]] = field(default_factory=list)  # (run id, test id)
    #: the share of its failing runs that carry each symptom
    symptoms: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "text": self.text,
            "failures": self.failures,
            "tests": [{"name": n, "failures": c} for n, c in self.tests],
            "jobs": [{"name": n, "failures": c} for n, c in self.jobs],
            "first_seen": self.first_seen,
            "last_seen": self.last_seen,
            "owner": self.owner,
            "issue": self.issue.as_dict() if self.issue else None,
            "symptoms": self.symptoms,
        }


def failures(conn: Connection, w: queries.Window, job: str | None = None) -> list[dict[str, Any]]:
    """Every unmasked failure in the window: test, text, job, run, time."""
    where = [
        ci_results.c.status == FAIL,
        ci_results.c.masked.is_(False),
        ci_runs.c.started_at >= w.start,
        ci_runs.c.started_at < w.end,
    ]
    if job:
        where.append(ci_runs.c.job_id == queries.job_id(conn, job))
    stmt = (
        select(
            ci_results.c.test_id,
            ci_results.c.text_id,
            ci_runs.c.id.label("run_id"),
            ci_runs.c.started_at,
            ci_jobs.c.name.label("job"),
        )
        .join(ci_runs, ci_runs.c.id == ci_results.c.run_id)
        .join(ci_jobs, ci_jobs.c.id == ci_runs.c.job_id)
        .where(and_(*where))
    )
    return [dict(r._mapping) for r in conn.execute(stmt)]


def clusters(
    conn: Connection,
    days: float = queries.FAILURE_DAYS,
    end: str | None = None,
    job: str | None = None,
    limit: int = 50,
    match_issues: bool = True,
) -> list[ClusterRow]:
    """Clusters of the failures in the ``days`` before ``end``, largest first."""
    rows = failures(conn, queries.window(days, end), job)
    bodies = queries.texts(conn, {r["text_id"] for r in rows})
    names = queries.tests_by_id(conn, {r["test_id"] for r in rows})
    found = text.cluster([bodies.get(r["text_id"], "") for r in rows])
    out = []
    for c in found[:limit]:
        members = [rows[i] for i in c.members]
        tests = Counter(names[m["test_id"]][1] for m in members)
        owners = Counter(names[m["test_id"]][2] for m in members)
        times = sorted(str(m["started_at"]) for m in members if m["started_at"])
        row = ClusterRow(
            id=c.id,
            text=c.key,
            failures=len(members),
            tests=tests.most_common(),
            jobs=Counter(str(m["job"]) for m in members).most_common(),
            first_seen=times[0] if times else None,
            last_seen=times[-1] if times else None,
            owner=owners.most_common(1)[0][0],
            members=sorted((int(m["run_id"]), int(m["test_id"])) for m in members),
        )
        if match_issues:
            match_issue(conn, row)
        out.append(row)
    _add_symptoms(conn, out)
    return out


def _add_symptoms(conn: Connection, rows: list[ClusterRow]) -> None:
    """Each cluster's symptoms, as shares of its distinct failing runs (one query)."""
    labels = symptom_store.of_runs(conn, {run for r in rows for run, _ in r.members})
    if not labels:
        return
    for r in rows:
        runs = {run for run, _ in r.members}
        counted: dict[str, list[Any]] = {}
        for run in runs:
            for s in labels.get(run, []):
                counted.setdefault(s["id"], [s["summary"], 0])[1] += 1
        r.symptoms = sorted(
            ({"id": i, "summary": v[0], "runs": v[1], "share": round(v[1] / len(runs), 4)}
             for i, v in counted.items()),
            key=lambda x: (-x["runs"], x["id"]),
        )  # fmt: skip


def match_issue(conn: Connection, row: ClusterRow) -> issues.IssueMatch | None:
    """Set (and return) the issue that most likely tracks ``row``: the one naming the
    tests most of its failures come from, and holding its text's words."""
    names, counts = [n for n, _ in row.tests], [float(k) for _, k in row.tests]
    best = issues.match(conn, names, row.text, limit=1, weights=counts)
    row.issue = best[0] if best else None
    return row.issue
