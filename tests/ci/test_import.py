"""``kubesift ci import``: a local tree and the fake GCS, incremental, crash-safe, safe XML."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import text

from kubesift.ci import variants
from kubesift.ci.importer import import_runs
from kubesift.ci.sources import GCSSource, LocalSource
from kubesift.config import load_settings
from kubesift.store import open_store
from kubesift.testing import serve_in_thread
from kubesift.testing.cihistory import generate
from kubesift.testing.fakegcs import FakeGCS
from tests.ci.helpers import END, dump, prow_run, sonobuoy_tree
from tests.ci.test_junit import BILLION_LAUGHS
from tests.conftest import run_cli

NOW = "2026-01-01T00:00:00Z"


def _engine(home: Path):  # type: ignore[no-untyped-def]
    return open_store(load_settings())


def test_the_sonobuoy_run_imports_with_its_real_counts(
    home: Path, tmp_path: Path, ci_fixtures: Path
) -> None:
    tree = sonobuoy_tree(tmp_path / "tree", ci_fixtures)
    done = run_cli("ci", "import", str(tree), "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert (report["new"], report["results"], report["failures"]) == (1, 25, 4)
    jobs = json.loads(run_cli("ci", "jobs", "--json").stdout)
    assert jobs[0]["name"] == "ci-kubernetes-e2e-kind-conformance" and jobs[0]["runs"] == 1
    assert "Platform:kind" in jobs[0]["variants"]
    grid = json.loads(run_cli("ci", "grid", "ci-kubernetes-e2e-kind-conformance", "--json").stdout)
    statuses = [row["cells"][0] for row in grid["rows"][1:]]
    assert (statuses.count(12), statuses.count(1)) == (4, 21)  # skipped cases are not rows
    with _engine(home).connect() as conn:
        run = conn.execute(text("select skipped, state, day from ci_runs")).one()
    assert tuple(run) == (50, "failure", "2021-08-17")
    # Triage's clusters: the two "heavily utilized" preemption failures (other timestamps)
    # are one cluster; the node count and the stable-cluster timeout are their own.
    got = run_cli("ci", "clusters", "--end", "2021-08-18", "--days", "3", "--json")
    clusters = json.loads(got.stdout)
    assert sorted(c["failures"] for c in clusters) == [1, 1, 2]
    big = next(c for c in clusters if c["failures"] == 2)
    assert "heavily utilized" in big["text"] and "TIME" in big["text"]
    assert big["owner"] == "sig-scheduling"
    # The build log of a failed run is kept and searchable
    found = json.loads(
        run_cli(
            "ci", "search", "Random Seed", "--in", "logs", "--end", "2021-08-18", "--json"
        ).stdout
    )
    assert found["matching_runs"] == 1


def test_import_is_incremental_and_revisits_unfinished_runs(home: Path, tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    case = b'<testsuite name="s"><testcase name="[sig-node] t"/></testsuite>'
    prow_run(
        tree,
        "logs/job-a/1",
        started=END - 7200,
        finished={"timestamp": END - 7000, "passed": True},
        junit={"junit_1.xml": case},
    )
    prow_run(tree, "logs/job-a/2", started=END - 3600, finished=None)  # still running
    engine, rules = _engine(home), variants.load()
    first = import_runs(engine, LocalSource(tree), rules, now=NOW)
    assert (first.new, first.pending) == (1, 1)
    again = import_runs(engine, LocalSource(tree), rules, now=NOW)
    assert (again.already, again.new, again.pending) == (1, 0, 1)
    prow_run(
        tree,
        "logs/job-a/2",
        started=END - 3600,
        finished={"timestamp": END - 100, "passed": True},
        junit={"junit_1.xml": case},
    )
    prow_run(
        tree,
        "pr-logs/pull/openshift_origin/42/pull-job/7",
        started=END - 50,
        finished={"timestamp": END - 10, "passed": True},
    )
    last = import_runs(engine, LocalSource(tree), rules, now=NOW)
    assert (last.finished_now, last.new, last.already) == (1, 1, 1)
    with engine.connect() as conn:
        daily = conn.execute(text("select sum(runs), sum(passes) from ci_daily")).one()
        pr = conn.execute(text("select repo, pr, kind from ci_runs where pr is not null")).one()
    assert tuple(daily) == (2, 2)  # the pending run was counted once, when it finished
    assert tuple(pr) == ("openshift/origin", 42, "presubmit")


def test_a_run_that_never_finished_is_an_error_after_a_day(home: Path, tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    prow_run(tree, "logs/job-a/1", started=END - 2 * 86_400, finished=None)
    report = import_runs(_engine(home), LocalSource(tree), variants.load(), now=NOW)
    assert report.pending == 0 and "did not complete within 24 hours" in report.errors[0]


def test_bad_files_are_named_and_the_rest_of_the_run_kept(home: Path, tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    good = (
        b'<testsuite name="s"><testcase name="[sig-node] ok"/>'
        b'<testcase name="[sig-node] bad"><failure>x</failure></testcase></testsuite>'
    )
    prow_run(
        tree,
        "logs/job-a/1",
        started=END - 7200,
        finished={"timestamp": END - 7000, "passed": False},
        junit={
            "junit_good.xml": good,
            "junit_evil.xml": BILLION_LAUGHS,
            "junit_cut.xml": b"<testsuite><testcase",
        },
    )
    (tree / "logs/job-a/1/prowjob.json").write_text("{not json")
    done = run_cli("ci", "import", str(tree), "--json")
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert report["results"] == 2 and report["failures"] == 1
    errors = "\n".join(report["errors"])
    assert "logs/job-a/1/artifacts/junit_evil.xml: refused hostile XML" in errors
    assert "logs/job-a/1/artifacts/junit_cut.xml: malformed XML" in errors
    assert "logs/job-a/1/prowjob.json: malformed JSON" in errors


def test_bad_sources_are_one_line_errors(home: Path, tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    for args, message in [
        ((str(tmp_path / "empty"),), "no Prow runs found (expected logs/<job>/<build>/"),
        ((str(tmp_path / "empty"), "--job", "(["), "--job '([' is not a valid regular expression"),
        ((str(tmp_path / "nope"),), "not a directory"),
        (("s3://bucket/x",), "give a local directory or gs://BUCKET/PREFIX"),
        (("gs://",), "a bucket looks like gs://BUCKET[/PREFIX]"),
    ]:
        done = run_cli("ci", "import", *args)
        assert done.returncode == 2, done.stderr
        assert message in done.stderr and "Traceback" not in done.stderr
        assert len(done.stderr.strip().splitlines()) == 1


def test_the_fake_gcs_gives_the_same_store_as_the_local_tree(home: Path, tmp_path: Path) -> None:
    bucket = tmp_path / "gcs" / "ci-results"
    generate(bucket / "pr", end=END, days=2, jobs=4, tests=12, presubmits=3, seed=4)
    fake = FakeGCS(tmp_path / "gcs", page_size=7)  # small pages: pagination is exercised
    fake.fail_next = 2  # two 503s: retried
    engine = _engine(home)
    src = GCSSource(
        "gs://ci-results/pr",
        api_url="http://gcs.fake",
        transport=fake.transport(),
        sleep=lambda s: None,
    )
    via_gcs = import_runs(engine, src, variants.load(), now=NOW)
    gcs_dump = dump(engine)
    assert via_gcs.new == 4 * 2 * 4 + 3 and not via_gcs.errors
    with engine.begin() as conn:
        for t in ("ci_logs", "ci_results", "ci_daily", "ci_runs"):
            conn.execute(text(f"delete from {t}"))
    local = import_runs(engine, LocalSource(bucket / "pr"), variants.load(), now=NOW)
    assert local.new == via_gcs.new
    strip = lambda d: {k: [r for r in v] for k, v in d.items() if k != "logs"}  # noqa: E731
    assert strip(dump(engine)) == strip(gcs_dump)


def test_the_cli_reads_a_bucket_from_a_loopback_gcs(home: Path, tmp_path: Path) -> None:
    generate(tmp_path / "gcs" / "b" / "logs-root", end=END, days=1, jobs=2, tests=5, seed=2)
    with serve_in_thread(FakeGCS(tmp_path / "gcs").asgi()) as server:
        args = ("ci", "import", "gs://b/logs-root", "--api-url", server.url, "--json")
        some = run_cli(*args, "--job", "aws-ovn$", "--latest", "2")
        assert some.returncode == 0, some.stderr
        assert json.loads(some.stdout)["new"] == 2  # one job, its two newest builds
        done = run_cli(*args)
        assert done.returncode == 0, done.stderr
        assert (json.loads(done.stdout)["new"], json.loads(done.stdout)["already"]) == (6, 2)
        missing = run_cli("ci", "import", "gs://nobucket/x", "--api-url", server.url)
    assert missing.returncode == 2 and "not found" in missing.stderr


@pytest.mark.slow
def test_kill_9_during_import_then_rerun_ends_identical(home: Path, tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    generate(tree, end=END, days=10, jobs=8, tests=60, runs_per_job_day=8, seed=9)
    cmd = [
        sys.executable,
        "-m",
        "kubesift",
        "ci",
        "import",
        str(tree),
        "--batch",
        "20",
        "--workers",
        "1",
    ]
    proc = subprocess.Popen(
        cmd, env=os.environ.copy(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    engine = _engine(home)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # kill once some batches are committed
        try:
            with engine.connect() as conn:
                if conn.execute(text("select count(*) from ci_runs")).scalar_one() >= 60:
                    break
        except Exception:  # the first migration may still be running
            pass
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    with engine.connect() as conn:
        partial = conn.execute(text("select count(*) from ci_runs")).scalar_one()
    assert 0 < partial < 640, "the import was not interrupted half-way"
    done = run_cli("ci", "import", str(tree), "--json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["already"] == partial
    interrupted = dump(engine)
    clean = open_store(
        load_settings({"KUBESIFT_DATABASE_URL": f"sqlite:///{tmp_path / 'clean.db'}"})
    )
    import_runs(clean, LocalSource(tree), variants.load())
    assert interrupted == dump(clean)
