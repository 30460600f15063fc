"""``kubesift ci import`` in front of hostile files: one bad file is named, counted and
skipped, and the rest of its run and of the batch is stored; nothing hangs; readers die
with the importer; listings that never end are stopped."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import psutil
import pytest
from sqlalchemy import text

from kubesift.ci import sources
from kubesift.ci.sources import GCSSource
from kubesift.config import load_settings
from kubesift.errors import CIError
from kubesift.store import open_store
from kubesift.testing import serve_in_thread
from kubesift.testing.cihistory import generate
from tests.ci.helpers import END, prow_run
from tests.conftest import run_cli

GOOD = b'<testsuite name="s"><testcase name="ok"/><testcase name="bad"><failure>x</failure></testcase></testsuite>'  # noqa: E501
DEEP = b"<testsuites>" + b"<testsuite>" * 1000 + b"</testsuite>" * 1000 + b"</testsuites>"
LIMIT_MB = "0.05"  # --max-junit-mb for the test: 52,428 bytes


def _bad_tree(tree: Path) -> dict[str, str]:
    """Ordinary runs, and one run per hostile file, each with a good JUnit file too; the
    bad files' paths with what their message must say."""
    generate(tree, end=END, days=2, jobs=2, tests=12, runs_per_job_day=3, seed=5)
    bad: dict[str, str] = {}

    def run(n: int, started: Any = END - 7200, finished: Any = None, **junit: bytes) -> Path:
        d = prow_run(tree, f"logs/hostile-job/{n}", started=None,
                     finished=None, junit={"junit_good.xml": GOOD, **junit})  # fmt: skip
        if started is not None:
            (d / "started.json").write_text(started if isinstance(started, str) else
                                            json.dumps({"timestamp": started}))  # fmt: skip
        fin = finished if finished is not None else {"timestamp": END - 7000, "passed": False}
        (d / "finished.json").write_text(fin if isinstance(fin, str) else json.dumps(fin))
        return d

    run(1, started=1e300)
    bad["logs/hostile-job/1/started.json"] = "timestamp 1e+300 is not a time between 2000"
    run(2, started='{"timestamp": NaN}')
    bad["logs/hostile-job/2/started.json"] = "timestamp nan is not a time"
    run(3, started=-1e18)
    bad["logs/hostile-job/3/started.json"] = "is not a time between 2000 and 2100"
    run(4, finished={"timestamp": 99999999999999, "passed": True})
    bad["logs/hostile-job/4/finished.json"] = "timestamp 99999999999999 is not a time"
    run(5, finished={"timestamp": END - 7000, "passed": "false"})
    bad["logs/hostile-job/5/finished.json"] = 'passed is str "false", not a bool'
    run(6, finished={"timestamp": "yesterday", "passed": True})
    bad["logs/hostile-job/6/finished.json"] = 'timestamp is str "yesterday", not a number'
    run(7, **{"junit_deep.xml": DEEP})
    bad["logs/hostile-job/7/artifacts/junit_deep.xml"] = "elements nested deeper than 64"
    d = run(8)
    os.mkfifo(d / "artifacts" / "junit_fifo.xml")
    bad["logs/hostile-job/8/artifacts/junit_fifo.xml"] = "not a regular file"
    run(9, **{"junit_huge.xml": GOOD[:-12] + b"<testcase name='x'/>" * 5000 + b"</testsuite>"})
    bad["logs/hostile-job/9/artifacts/junit_huge.xml"] = "over the 52,428-byte limit"
    d = run(10)
    (d / "prowjob.json").write_text(json.dumps({"status": {"url": "javascript:alert(1)"}}))
    return bad


def test_one_bad_file_is_named_and_skipped_and_the_batch_is_kept(
    home: Path, tmp_path: Path
) -> None:
    tree = tmp_path / "tree"
    bad = _bad_tree(tree)
    done = run_cli("ci", "import", str(tree), "--max-junit-mb", LIMIT_MB, "--json", timeout=120)
    assert done.returncode == 0, done.stderr
    assert "Traceback" not in done.stderr
    report = json.loads(done.stdout)
    assert report["files_skipped"] == len(bad) and report["runs_skipped"] == 0
    assert report["discovered"] == report["new"] + report["pending"]
    for path, says in bad.items():
        [line] = [e for e in report["errors"] if e.startswith(f"{path}:")]
        assert says in line and line.endswith("file skipped") and "\n" not in line, line
    engine = open_store(load_settings())
    with engine.connect() as conn:
        stored = conn.execute(text("select count(*) from ci_runs")).scalar_one()
        states = dict(
            conn.execute(
                text("select path, state from ci_runs where path like 'logs/hostile-job/%'")
            ).all()
        )
        results = conn.execute(
            text(
                "select count(*) from ci_results r join ci_runs u on u.id = r.run_id "
                "where u.path like 'logs/hostile-job/%'"
            )
        ).scalar_one()
        url = conn.execute(
            text("select url from ci_runs where path = 'logs/hostile-job/10'")
        ).scalar_one()
    assert stored == report["discovered"]  # every run stored, the hostile ones too
    assert len(states) == 10 and results == 10  # each run's good JUnit file was kept
    assert states["logs/hostile-job/5"] != "success"  # "passed": "false" is not a pass
    assert states["logs/hostile-job/6"] == "error"  # a finish time that is not a time
    assert url is None  # a javascript: URL is never stored as the run's link


def test_bad_files_are_one_line_each_on_stderr(tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    bad = _bad_tree(tree)
    env = {"KUBESIFT_HOME": str(tmp_path / "home")}
    done = run_cli("ci", "import", str(tree), "--max-junit-mb", LIMIT_MB, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    lines = done.stderr.splitlines()
    skipped = [line for line in lines if line.startswith("  problem: ") and "file skipped" in line]
    assert len(skipped) == len(bad)
    assert all(line.startswith("  problem: ") for line in lines if "hostile-job" in line)
    assert f"{len(bad)} bad files skipped" in done.stdout


def test_kill_9_of_the_importer_ends_its_readers(home: Path, tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    generate(tree, end=END, days=10, jobs=8, tests=60, runs_per_job_day=8, seed=9)
    proc = subprocess.Popen(
        [sys.executable, "-m", "kubesift", "ci", "import", str(tree), "--workers", "2"],
        env=os.environ.copy(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    parent = psutil.Process(proc.pid)
    deadline = time.monotonic() + 60
    readers: list[psutil.Process] = []
    while time.monotonic() < deadline and len(readers) < 2:
        readers = [c for c in parent.children() if c.status() != psutil.STATUS_ZOMBIE]
        time.sleep(0.05)
    assert len(readers) >= 2, "the readers did not start"
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    _, alive = psutil.wait_procs(readers, timeout=10)
    alive = [p for p in alive if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
    assert alive == [], f"readers outlived the importer: {[p.pid for p in alive]}"


def _listing(next_token: Any) -> httpx.MockTransport:
    calls = {"n": 0}

    def handle(request: httpx.Request) -> httpx.Response:
        calls["n"] += 1
        return httpx.Response(200, json={"prefixes": [], "nextPageToken": next_token(calls["n"])})

    transport = httpx.MockTransport(handle)
    transport.calls = calls  # type: ignore[attr-defined]
    return transport


def test_a_listing_that_repeats_its_page_token_stops() -> None:
    transport = _listing(lambda n: "same")
    src = GCSSource("gs://b/p", api_url="http://gcs.fake", transport=transport)
    with pytest.raises(CIError, match="repeated a page token"):
        src.dirs("logs")
    assert transport.calls["n"] == 2  # type: ignore[attr-defined]


def test_a_listing_without_end_stops_at_the_page_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sources, "MAX_PAGES", 5)
    transport = _listing(lambda n: f"token-{n}")
    src = GCSSource("gs://b/p", api_url="http://gcs.fake", transport=transport)
    with pytest.raises(CIError, match="ran past 5 pages"):
        src.files("logs/job/1")
    assert transport.calls["n"] == 6  # type: ignore[attr-defined]


def test_the_cli_stops_on_a_looping_bucket_with_one_line(home: Path) -> None:
    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        body = json.dumps({"prefixes": ["logs/"], "nextPageToken": "again"}).encode()
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"application/json")]})  # fmt: skip
        await send({"type": "http.response.body", "body": body})

    with serve_in_thread(app) as server:
        done = run_cli("ci", "import", "gs://b/x", "--api-url", server.url, timeout=60)
    assert done.returncode == 1
    assert "repeated a page token" in done.stderr and "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr


def test_a_huge_junit_file_imports_in_bounded_memory(home: Path, tmp_path: Path) -> None:
    """300,000 cases in one 7 MB file, imported by a real process: parsing streams and one
    record is kept per distinct test, so the importer stays well under what holding the
    element tree and every case twice took (about 0.5 GB for this file before)."""
    sys.path.insert(0, str(Path(__file__).parents[2] / "bench"))
    from hostile import write_run

    write_run(tmp_path / "tree", 300_000)
    code = (
        "import resource, subprocess, sys; "
        "done = subprocess.run(sys.argv[1:], capture_output=True, text=True); "
        "print(done.returncode, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss); "
        "print(done.stdout)"
    )
    cmd = [sys.executable, "-c", code, sys.executable, "-m", "kubesift", "ci", "import",
           str(tmp_path / "tree"), "--workers", "1", "--json"]  # fmt: skip
    # Memory is the reader's: the store is a SQLite file on every lane (on the PostgreSQL
    # lane, writing 300,000 new tests alone outlasts the test's time limit).
    env = {**os.environ, "KUBESIFT_DATABASE_URL": f"sqlite:///{tmp_path / 'memory.db'}"}
    out = subprocess.run(
        cmd, capture_output=True, text=True, timeout=300, check=True, env=env
    ).stdout
    status, peak_kib = out.splitlines()[0].split()
    report = json.loads("\n".join(out.splitlines()[1:]))
    assert status == "0" and report["results"] == 300_000 and report["failures"] == 300
    assert int(peak_kib) < 400 * 1024, f"peak RSS {int(peak_kib) // 1024} MB"
