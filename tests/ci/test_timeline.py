"""A run's timeline: from what the run shipped (JUnit start times, podinfo, OpenShift's
interval files in both shapes, a Kubernetes EventList) to ``kubesift ci timeline``."""

from __future__ import annotations

import json
from pathlib import Path

from kubesift.ci import junit, timeline
from kubesift.testing.ciruns import FAILED_TEST, NODE, PASSED_TESTS, write_timeline_run
from tests.ci.helpers import END, prow_run
from tests.conftest import run_cli

JOB = "periodic-ci-openshift-release-master-nightly-4.21-e2e-aws"


def _within(inner: dict[str, str], outer: dict[str, str]) -> bool:
    return outer["from"] <= inner["from"] and inner["to"] <= outer["to"]


def test_a_run_timeline_puts_the_node_reboot_inside_the_failed_test(
    home: Path, tmp_path: Path
) -> None:
    tree = tmp_path / "tree"
    write_timeline_run(tree, JOB, "1001", END - 7200)
    assert run_cli("ci", "import", str(tree)).returncode == 0
    done = run_cli("ci", "timeline", JOB, "1001", "--json")
    assert done.returncode == 0, done.stderr
    t = json.loads(done.stdout)
    assert t["state"] == "failure" and t["failed_tests"] == [FAILED_TEST]
    assert t["failed_unplaced"] == []  # the JUnit suite's timestamp placed it
    assert set(t["sources"]) == {"prow", "podinfo", "junit", "openshift", "events"}
    by = {(i["source"], i["kind"], i["row"]): i for i in t["intervals"]}
    failed = by[("junit", "test", FAILED_TEST)]
    assert failed["failed"] and failed["level"] == "error" and "timed out" in failed["text"]
    # the cases ran one after another from the suite's timestamp: 60 s, 90 s, then it
    passed = [by[("junit", "test", name)] for name in PASSED_TESTS]
    assert passed[0]["to"] == passed[1]["from"] and passed[1]["to"] == failed["from"]
    assert not any(p["failed"] for p in passed)
    # OpenShift's own record of the test agrees with the JUnit one, in both file shapes
    for shape in (by[("openshift", "test", FAILED_TEST)],):
        assert shape["failed"] and (shape["from"], shape["to"]) == (failed["from"], failed["to"])
    flat = [i for i in t["intervals"] if i["source"] == "openshift" and i["row"] == FAILED_TEST]
    assert len(flat) == 3 and sum(i["failed"] for i in flat) == 2  # started + 2 × finished
    node = by[("openshift", "node", f"node/{NODE}")]
    assert node["level"] == "warning" and _within(node, failed), (node, failed)
    reboot = by[("events", "node", f"node/{NODE}")]
    assert "rebooted" in reboot["text"] and _within(reboot, failed)
    assert by[("openshift", "alert", "namespace/openshift-monitoring alert/KubeNodeNotReady")]
    assert by[("events", "pod", "ns/e2e-test pod/web-0")]["text"].endswith("(×4)")
    test_container = next(i for i in t["intervals"] if i["kind"] == "container" and i["failed"])
    assert "exited 1 (Error)" in test_container["text"]
    assert not any(i["from"] < "2000" for i in t["intervals"])  # Go's zero time skipped
    # the text view: the failed test is marked, each line names its source
    text = run_cli("ci", "timeline", JOB, "1001", "--failed").stdout
    assert "FAILED" in text and FAILED_TEST in text and "junit" in text
    assert "clonerefs" not in text  # --failed: only failed intervals


def test_unknown_runs_and_bad_timeline_files_say_so(home: Path, tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    d = write_timeline_run(tree, JOB, "7", END - 7200)
    (d / "artifacts" / "e2e-timelines_spyglass_bad.json").write_text("{not json")
    (d / "artifacts" / "e2e-intervals_x.json").write_text('["a list"]')
    report = json.loads(run_cli("ci", "import", str(tree), "--json").stdout)
    assert report["files_skipped"] == 2
    assert any("e2e-timelines_spyglass_bad.json: malformed JSON" in e for e in report["errors"])
    t = json.loads(run_cli("ci", "timeline", JOB, "7", "--json").stdout)
    assert len(t["errors"]) == 2 and t["count"] > 10  # the good files are still read
    missing = run_cli("ci", "timeline", JOB, "8")
    assert missing.returncode != 0 and "no build '8'" in missing.stderr
    assert "Traceback" not in missing.stderr
    assert run_cli("ci", "timeline", "no-such-job", "1").returncode != 0


def test_parallel_cases_without_start_times_are_counted_not_guessed(
    home: Path, tmp_path: Path
) -> None:
    # Ginkgo's parallel nodes: the cases' times add up to far more than the suite's.
    xml = (
        '<testsuite name="Kubernetes e2e suite" time="100" timestamp="2025-12-31T20:00:00">'
        + "".join(f'<testcase name="[sig-x] t{n}" time="60"/>' for n in range(5))
        + '<testcase name="[sig-x] bad" time="30"><failure>boom</failure></testcase>'
        "</testsuite>"
    )
    tree = tmp_path / "tree"
    prow_run(tree, "logs/ci-k8s/3", started=END - 7200,
             finished={"timestamp": END - 3600, "passed": False},
             junit={"junit_01.xml": xml.encode()})  # fmt: skip
    run_cli("ci", "import", str(tree))
    t = json.loads(run_cli("ci", "timeline", "ci-k8s", "3", "--json").stdout)
    assert t["unplaced"] == 6 and t["failed_unplaced"] == ["[sig-x] bad"]
    kinds = sorted(i["kind"] for i in t["intervals"])
    assert kinds == ["run", "suite"]  # the run and the suite's span, no invented tests


def test_case_timestamps_place_a_test_and_hostile_values_do_not() -> None:
    xml = (
        b'<testsuites><testsuite name="s" timestamp="not a time">'
        b'<testcase name="a" time="2.5" timestamp="2026-01-01T10:00:00.123456789Z"/>'
        b'<testcase name="b" time="1e400" timestamp="9999-01-01T00:00:00"/>'
        b"</testsuite></testsuites>"
    )
    times = timeline.JUnitTimes()
    for case in junit.iter_cases(xml):
        times.add("junit.xml", case)
    got = times.intervals()
    assert [(i.row, i.start, i.end) for i in got] == [
        ("a", "2026-01-01T10:00:00.123Z", "2026-01-01T10:00:02.623Z")
    ]
    assert times.unplaced == 1  # b: a year-9999 start and a suite with no usable timestamp


def test_the_cap_keeps_failures_and_counts_what_it_dropped() -> None:
    many = [
        timeline.Interval(f"2026-01-01T00:00:{n % 60:02d}.000Z", "2026-01-01T00:01:00.000Z",
                          "openshift", "event", f"e{n}", "x")
        for n in range(50)
    ]  # fmt: skip
    bad = timeline.Interval("2026-01-01T00:00:30.000Z", "2026-01-01T00:00:31.000Z", "junit",
                            "test", "t", "failed", "error", True)  # fmt: skip
    t = timeline.build([*many, bad, bad], limit=10)
    assert len(t.intervals) == 10 and t.dropped == 41 and bad in t.intervals
    assert [i.start for i in t.intervals] == sorted(i.start for i in t.intervals)
    assert timeline.decode(timeline.encode(t)) == t
