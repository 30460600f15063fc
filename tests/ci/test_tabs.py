"""TestGrid's tab states, the weekly flakiness trend, and the Pod row from podinfo.json."""

from __future__ import annotations

import json
from pathlib import Path

from tests.ci.helpers import END, prow_run
from tests.conftest import run_cli

DAY = 86_400
AT = "2026-01-01T00:00:00Z"  # the clock every figure here is taken at (END)


def _job(tree: Path, job: str, results: list[dict[str, bool]], start: int, step: int) -> None:
    """Runs of ``job`` oldest first; each maps test → failed."""
    for n, tests in enumerate(results):
        at = start + n * step
        xml = "".join(
            f'<testcase name="{t}">' + ("<failure>boom</failure>" if bad else "") + "</testcase>"
            for t, bad in tests.items()
        )
        suite = f'<testsuite name="s">{xml}</testsuite>'.encode()
        prow_run(tree, f"logs/{job}/{100 + n}", started=at,
                 finished={"timestamp": at + 60, "passed": not any(tests.values())},
                 junit={"junit.xml": suite})  # fmt: skip


def _ok(*bad: int, count: int = 12) -> list[dict[str, bool]]:
    return [{"t1": n in bad, "t2": False} for n in range(count)]


def test_tab_states_and_the_flakiness_trend(home: Path, tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    hourly = END - 12 * 3600
    _job(tree, "a-green", _ok(), hourly, 3600)
    _job(tree, "b-flaky", _ok(7), hourly, 3600)  # one red cell among the 10 newest
    _job(tree, "c-failing", _ok(9, 10, 11), hourly, 3600)  # the 3 newest runs fail t1
    _job(tree, "d-stale", _ok(), END - 9 * DAY, 3600)  # nothing for 9 days
    # e: t1 flips twice a day this week, never the week before
    # (windows are whole UTC days: the last 7 start on Dec 26, the 7 before on Dec 19)
    twice = [{"t1": n >= 16 and n % 2 == 0, "t2": False} for n in range(28)]
    _job(tree, "e-flakier", twice, END - 14 * DAY + 3600, DAY // 2)
    assert run_cli("ci", "import", str(tree)).returncode == 0
    done = run_cli("ci", "tabs", "--end", AT, "--json")
    assert done.returncode == 0, done.stderr
    tabs = {t["job"]: t for t in json.loads(done.stdout)}
    assert {j: t["state"] for j, t in tabs.items()} == {
        "a-green": "PASSING", "b-flaky": "FLAKY", "c-failing": "FAILING", "d-stale": "STALE",
        "e-flakier": "FLAKY",
    }  # fmt: skip
    assert tabs["a-green"]["recent_runs"] == 10 and tabs["a-green"]["passing_runs"] == 10
    assert tabs["b-flaky"]["passing_runs"] == 9
    assert tabs["c-failing"]["alerts"] == 2  # t1, and the Overall row: 3 failed runs in a row
    assert "205 h old" in tabs["d-stale"]["reason"]  # 9 days back, 12 runs an hour apart
    e = tabs["e-flakier"]
    assert e["trend"] == "UP" and e["flakiness_before"] == 0 and e["flakiness"] > 10
    assert tabs["a-green"]["trend"] == "NO_CHANGE" and tabs["a-green"]["flakiness"] == 0
    # one job; an unknown one is a clear error
    one = json.loads(run_cli("ci", "tabs", "--job", "b-flaky", "--end", AT, "--json").stdout)
    assert [t["job"] for t in one] == ["b-flaky"]
    missing = run_cli("ci", "tabs", "--job", "nope")
    assert (
        missing.returncode != 0
        and "no CI job" in missing.stderr
        and "Traceback" not in missing.stderr
    )
    text = run_cli("ci", "tabs", "--end", AT).stdout
    assert "FAILING" in text and "STALE" in text


def test_the_pod_row_comes_from_podinfo(home: Path, tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    xml = b'<testsuite name="s"><testcase name="t"/></testsuite>'
    for n, code in ((1, None), (2, 0), (3, 137)):
        d = prow_run(tree, f"logs/pods/{n}", started=END - 3600 * (4 - n),
                     finished={"timestamp": END - 3600 * (4 - n) + 60, "passed": code != 137},
                     junit={"junit.xml": xml})  # fmt: skip
        if code is not None:
            ended = {
                "exitCode": code, "reason": "OOMKilled" if code else "Completed",
                "startedAt": "2025-12-31T22:00:00Z", "finishedAt": "2025-12-31T22:30:00Z",
            }  # fmt: skip
            status = {"containerStatuses": [{"name": "test", "state": {"terminated": ended}}]}
            pod = {"pod": {"metadata": {"name": f"p{n}"}, "status": status}}
            (d / "podinfo.json").write_text(json.dumps(pod))
    run_cli("ci", "import", str(tree))
    grid = json.loads(run_cli("ci", "grid", "pods", "--json").stdout)
    assert [r["name"] for r in grid["rows"][:2]] == ["Overall", "Pod"]
    pod = grid["rows"][1]
    assert pod["cells"] == [12, 1, 0]  # newest first: OOMKilled, fine, no podinfo
    assert "exited 137 (OOMKilled)" in pod["messages"][0]
    assert pod["messages"][2] == "podinfo.json not found in this run"
