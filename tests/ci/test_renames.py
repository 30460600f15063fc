"""A renamed test keeps its history: stored results, counts and rosters move to the new
name, and later imports record the old name as the new."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kubesift.ci import renames
from kubesift.errors import UserError
from tests.ci.helpers import END, prow_run
from tests.conftest import run_cli

OLD = "[sig-network] Services should serve endpoints"
NEW = "[sig-network] Services should serve endpoints on every node"
JOB = "periodic-e2e-gce"


def _runs(tree: Path, builds: range, name: str, failing: set[int]) -> None:
    for b in builds:
        at = END - 86_400 + b * 1800
        bad = "<failure>endpoints not ready</failure>" if b in failing else ""
        xml = (f'<testsuite name="e2e"><testcase name="{name}">{bad}</testcase>'
               '<testcase name="[sig-apps] other"/></testsuite>')  # fmt: skip
        prow_run(tree, f"logs/{JOB}/{b}", started=at,
                 finished={"timestamp": at + 60, "passed": b not in failing},
                 junit={"junit.xml": xml.encode()})  # fmt: skip


def _row(name: str) -> list[int] | None:
    grid = json.loads(run_cli("ci", "grid", JOB, "--json").stdout)
    found = [r["cells"] for r in grid["rows"] if r["name"] == name]
    return found[0] if found else None


def test_a_renamed_test_keeps_its_history(home: Path, tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    _runs(tree, range(1, 7), OLD, failing={2, 5})
    assert run_cli("ci", "import", str(tree)).returncode == 0
    before = _row(OLD)
    assert before == [1, 12, 1, 1, 12, 1]  # newest first
    file = tmp_path / "renames.toml"
    file.write_text(f'[[rename]]\nfrom = "{OLD}"\nto = "{NEW}"\n')
    done = run_cli("ci", "renames", "load", str(file), "--json")
    assert done.returncode == 0, done.stderr
    merged = json.loads(done.stdout)
    assert merged["tests_merged"] == 1 and merged["results_moved"] == 2  # the two failures
    assert _row(OLD) is None and _row(NEW) == before  # the same cells, under the new name
    # new runs under the new name continue the row; a late one under the old name joins it
    _runs(tree, range(7, 9), NEW, failing={8})
    _runs(tree, range(9, 10), OLD, failing={9})
    run_cli("ci", "import", str(tree))
    assert _row(OLD) is None and _row(NEW) == [12, 12, 1, *before]
    # the per-day counts (what flakes and Component Readiness read) hold all of it
    flakes = json.loads(run_cli("ci", "flakes", "--end", "2026-01-01", "--min-runs", "1",
                                "--json").stdout)  # fmt: skip
    mine = [f for f in flakes if f["test"] == NEW]
    assert mine and mine[0]["runs"] == 9 and mine[0]["failures"] == 4
    assert not [f for f in flakes if f["test"] == OLD]
    assert json.loads(run_cli("ci", "renames", "list", "--json").stdout)[0]["to"] == NEW
    # loading again changes nothing
    again = json.loads(run_cli("ci", "renames", "load", str(file), "--json").stdout)
    assert again["tests_merged"] == 0 and _row(NEW) == [12, 12, 1, *before]


def test_chains_resolve_and_loops_are_refused() -> None:
    text = '[[rename]]\nfrom = "a"\nto = "b"\n[[rename]]\nfrom = "b"\nto = "c"\n'
    assert renames.parse_file(text) == {"a": "c", "b": "c"}
    with pytest.raises(UserError, match="loop"):
        renames.parse_file(text + '[[rename]]\nfrom = "c"\nto = "a"\n')
    with pytest.raises(UserError, match="to itself"):
        renames.parse_file('[[rename]]\nfrom = "a"\nto = "a"\n')
    with pytest.raises(UserError, match="exactly from and to"):
        renames.parse_file('[[rename]]\nfrom = "a"\n')
