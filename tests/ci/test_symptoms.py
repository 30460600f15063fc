"""Symptoms: defined in a file, applied to old and new failed runs, changed and removed,
and shown with each run, the grid and the clusters."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kubesift.ci import symptoms
from kubesift.errors import UserError
from tests.ci.helpers import END, prow_run
from tests.conftest import run_cli

JOB = "periodic-ci-e2e-gcp"
DNS_LOG = "step e2e failed\nlookup api.ci on 10.0.0.10:53: server misbehaving\nexit 1\n"
SYMPTOMS = """
[[symptom]]
id = "infra-dns"
summary = "Cluster DNS failed"
regex = 'lookup [^ ]+ on [0-9.:]+: (server misbehaving|no such host)'
in = "log"

[[symptom]]
id = "must-gather"
summary = "A must-gather was collected"
file = "*/must-gather/*"

[[symptom]]
id = "quota"
summary = "Cloud quota exceeded"
string = "QuotaExceeded"
in = "failures"
"""


def _run(tree: Path, build: int, *, failed: bool, log: str = "", text: str = "boom",
         gather: bool = False) -> None:  # fmt: skip
    at = END - 86_400 + build * 600
    case = f"<failure>{text}</failure>" if failed else ""
    d = prow_run(
        tree, f"logs/{JOB}/{build}", started=at,
        finished={"timestamp": at + 300, "passed": not failed},
        junit={"junit.xml": f'<testsuite name="e2e"><testcase name="[sig-x] t">{case}'
                            "</testcase></testsuite>".encode()},
        log=log or None,
    )  # fmt: skip
    if gather:
        (d / "artifacts" / "must-gather").mkdir()
        (d / "artifacts" / "must-gather" / "timestamp").write_text("x")


def _labels(build: int) -> list[str]:
    t = json.loads(run_cli("ci", "timeline", JOB, str(build), "--json").stdout)
    return [s["id"] for s in t["symptoms"]]


def test_symptoms_label_old_and_new_failed_runs_and_follow_changes(
    home: Path, tmp_path: Path
) -> None:
    tree = tmp_path / "tree"
    _run(tree, 1, failed=True, log=DNS_LOG)
    _run(tree, 2, failed=True, text="QuotaExceeded: CPUS", gather=True)
    _run(tree, 3, failed=False, log=DNS_LOG)  # passed: symptoms explain failures only
    assert run_cli("ci", "import", str(tree)).returncode == 0
    file = tmp_path / "symptoms.toml"
    file.write_text(SYMPTOMS)
    loaded = run_cli("ci", "symptoms", "load", str(file), "--json")
    assert loaded.returncode == 0, loaded.stderr
    done = json.loads(loaded.stdout)
    assert sorted(done["added"]) == ["infra-dns", "must-gather", "quota"]
    assert done["matched"] == {"infra-dns": 1, "must-gather": 1, "quota": 1}
    assert done["runs_examined"] == 2
    assert (_labels(1), _labels(2), _labels(3)) == (["infra-dns"], ["must-gather", "quota"], [])
    # a new run is labelled as it is imported
    _run(tree, 4, failed=True, log="lookup x on 10.0.0.10:53: no such host\n")
    run_cli("ci", "import", str(tree))
    assert _labels(4) == ["infra-dns"]
    listed = {
        r["id"]: r["runs"] for r in json.loads(run_cli("ci", "symptoms", "list", "--json").stdout)
    }
    assert listed == {"infra-dns": 2, "must-gather": 1, "quota": 1}
    # the grid's columns and the clusters carry them
    grid = json.loads(run_cli("ci", "grid", JOB, "--json").stdout)
    assert [[s["id"] for s in c["symptoms"]] for c in grid["columns"]] == [
        ["infra-dns"],
        [],
        ["must-gather", "quota"],
        ["infra-dns"],
    ]
    clusters = json.loads(
        run_cli("ci", "clusters", "--end", "2026-01-01", "--days", "3", "--json").stdout
    )
    quota = next(c for c in clusters if "QuotaExceeded" in c["text"])
    assert {s["id"]: s["share"] for s in quota["symptoms"]} == {"must-gather": 1.0, "quota": 1.0}
    # a changed matcher is re-applied to history; a removed one takes its labels with it
    file.write_text(SYMPTOMS.replace("server misbehaving|no such host", "server misbehaving")
                    .split("[[symptom]]\nid = \"must-gather\"")[0])  # fmt: skip
    done = json.loads(run_cli("ci", "symptoms", "load", str(file), "--json").stdout)
    assert done["changed"] == ["infra-dns"] and sorted(done["removed"]) == ["must-gather", "quota"]
    assert (_labels(1), _labels(2), _labels(4)) == (["infra-dns"], [], [])
    # applying again changes nothing
    again = json.loads(run_cli("ci", "symptoms", "apply", "--json").stdout)
    assert again["matched"] == {"infra-dns": 1}


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("[[symptom]]\nid='a'\nsummary='x'\nregex='(a)\\1'", "regex"),
        ("[[symptom]]\nid='a'\nsummary='x'\nstring='s'\nfile='f'", "exactly one of"),
        ("[[symptom]]\nid='Bad Id'\nsummary='x'\nstring='s'", "id must be"),
        (
            "[[symptom]]\nid='a'\nsummary='x'\nstring='s'\n[[symptom]]\nid='a'\nsummary='y'\n"
            "string='t'",
            "defined twice",
        ),
        ("[[symptom]]\nid='a'\nsummary='x'\nfile='f'\nin='log'", "applies to string"),
        ("[[symptom]]\nid='a'\nsummary='x'\nstring='s'\nwhere='log'", "unknown field 'where'"),
        ("[symptom", "not TOML"),
    ],
)
def test_a_bad_symptoms_file_is_refused_with_its_reason(text: str, error: str) -> None:
    with pytest.raises(UserError, match=error):
        symptoms.parse_file(text)


def test_a_bad_file_on_the_command_line_is_one_line_and_stores_nothing(
    home: Path, tmp_path: Path
) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[[symptom]]\nid='a'\nsummary='x'\nregex='(?<=x)y'\n")
    done = run_cli("ci", "symptoms", "load", str(bad))
    assert done.returncode != 0 and "Traceback" not in done.stderr
    assert "regex" in done.stderr and len(done.stderr.strip().splitlines()) == 1
    assert json.loads(run_cli("ci", "symptoms", "list", "--json").stdout) == []


def test_matchers() -> None:
    m = symptoms.Matcher(symptoms.parse_file(SYMPTOMS))
    assert m.match(DNS_LOG, [], []) == ["infra-dns"]
    assert m.match(None, [DNS_LOG], []) == []  # in = "log": failure texts are not read
    assert m.match(None, ["QuotaExceeded"], ["artifacts/must-gather/x"]) == ["must-gather", "quota"]
    assert m.match("QuotaExceeded", [], ["must-gather"]) == []  # in the log; no */ prefix
