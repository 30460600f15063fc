"""Building Prow trees for tests, and a content dump of what the store holds about CI."""

from __future__ import annotations

import json
import shutil
import zlib
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import Engine

from kubesift.collect.service import export_repository
from kubesift.github import TokenAuth
from kubesift.testing import FakeGitHub, in_process
from kubesift.testing.cihistory import CIHistory, file_issues

END = 1767225600  # 2026-01-01T00:00:00Z: generated histories end here
END_ISO = "2025-12-31T23:00:00Z"


def prow_run(
    root: Path,
    path: str,
    *,
    started: int | None,
    finished: dict[str, Any] | None,
    junit: dict[str, bytes] | None = None,
    log: str | None = None,
) -> Path:
    d = root / path
    (d / "artifacts").mkdir(parents=True, exist_ok=True)
    if started is not None:
        (d / "started.json").write_text(json.dumps({"timestamp": started}))
    if finished is not None:
        (d / "finished.json").write_text(json.dumps(finished))
    for name, data in (junit or {}).items():
        (d / "artifacts" / name).write_bytes(data)
    if log is not None:
        (d / "build-log.txt").write_text(log)
    return d


def sonobuoy_tree(root: Path, fixtures: Path) -> Path:
    """The real Sonobuoy conformance run as one Prow run of a kind job."""
    d = prow_run(
        root,
        "logs/ci-kubernetes-e2e-kind-conformance/1001",
        started=1629219873,
        finished={"timestamp": 1629220910, "passed": False, "result": "FAILURE"},
        junit={"junit_01.xml": (fixtures / "sonobuoy-e2e" / "junit_01.xml").read_bytes()},
    )
    shutil.copy(fixtures / "sonobuoy-e2e" / "e2e.head.log", d / "build-log.txt")
    return root


QUERIES = {
    "runs": "select j.name, r.path, r.build, r.kind, r.state, r.repo, r.pr, r.started_at, "
    "r.finished_at, r.day, r.tests, r.failures, r.flakes, r.skipped, r.errors "
    "from ci_runs r join ci_jobs j on j.id = r.job_id",
    "results": "select r.path, t.suite, t.name, x.status, x.attempts, x.masked, tx.text "
    "from ci_results x join ci_runs r on r.id = x.run_id join ci_tests t on t.id = x.test_id "
    "left join ci_texts tx on tx.id = x.text_id",
    "daily": "select d.day, j.name, t.name, d.runs, d.passes, d.flakes, d.failures "
    "from ci_daily d join ci_jobs j on j.id = d.job_id join ci_tests t on t.id = d.test_id",
    "tests": "select suite, name, component from ci_tests",
    "jobs": "select name, kind, variants from ci_jobs",
}


def _plain(value: Any) -> Any:
    """The same value whichever database returned it (SQLite: 0/1, PostgreSQL: bool)."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, memoryview):
        return value.tobytes()
    return value


def dump(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """What the store holds about CI, by content (no ids, no import times)."""
    with engine.connect() as conn:
        out = {
            k: sorted((tuple(_plain(v) for v in r) for r in conn.execute(text(q))), key=repr)
            for k, q in QUERIES.items()
        }
        rosters = conn.execute(
            text(
                "select r.path, ro.tests from ci_runs r "
                "left join ci_rosters ro on ro.id = r.roster_id"
            )
        ).all()
        names = dict(conn.execute(text("select id, name from ci_tests")).all())
        out["rosters"] = sorted(
            (p, tuple(sorted(names[int(i)] for i in (t or "").split(",") if i))) for p, t in rosters
        )
        logs = conn.execute(
            text("select r.path, l.size, l.tail from ci_logs l join ci_runs r on r.id = l.run_id")
        ).all()
        out["logs"] = sorted((p, s, zlib.decompress(_plain(t))) for p, s, t in logs)
    return out


def export_tracked_issues(engine: Engine, h: CIHistory, repo: str) -> dict[str, int]:
    """File ``h``'s tracked issues (and decoys) in a fake GitHub and export them into the
    store; returns each tracked test → its open issue's number."""
    token = "ghp_trackedissues000000000000000000000001"
    fake = FakeGitHub()
    fake.add_token(token, "octocat")
    numbers = file_issues(fake, repo, h)
    export_repository(
        engine,
        repo,
        api_url="https://github.fake.test",
        auth=TokenAuth(token),
        transport=in_process(fake),
    )
    return numbers
