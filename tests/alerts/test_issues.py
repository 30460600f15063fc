"""Recurring incidents open one GitHub issue (on the fake GitHub) and comment as they recur."""

from __future__ import annotations

import json
from pathlib import Path

import httpx

from kubesift.alerts import signals
from kubesift.alerts.ingest import Triage
from kubesift.alerts.service import ingest
from kubesift.cli.common import store
from tests.conftest import REPO, GitHubFixture, run_cli


def _fire(engine: object, n: int, day: int) -> None:
    alert = {"status": "firing", "startsAt": f"2026-12-0{day}T0{n}:00:00Z",
             "labels": {"alertname": "KubePersistentVolumeFillingUp", "severity": "critical",
                        "namespace": "payments", "pod": "db-0"},
             "annotations": {"summary": "The volume is filling up.",
                             "runbook_url": "https://runbooks.example/pvfilling"},
             "fingerprint": f"{day}{n:015x}"}  # fmt: skip
    ingest(engine, Triage(), signals.from_alertmanager({"alerts": [alert]}))  # type: ignore[arg-type]


def test_recurring_incidents_open_one_issue_then_comment(home: Path, github: GitHubFixture) -> None:
    engine = store()
    for day in (1, 2, 3):
        _fire(engine, 1, day)  # a day apart: three incidents of one alert on one workload
    env = github.env()
    dry = run_cli("alerts", "issues", "--repo", REPO, "--days", "30", "--dry-run", "--json",
                  env=env)  # fmt: skip
    assert json.loads(dry.stdout)[0]["action"] == "would be opened", dry.stderr
    made = json.loads(run_cli("alerts", "issues", "--repo", REPO, "--days", "30", "--json",
                              env=env).stdout)  # fmt: skip
    [opened] = made
    assert opened["action"] == "opened" and opened["occurrences"] == 3
    headers = {"Authorization": f"token {github.token}"}
    issue = httpx.get(f"{github.url}/repos/{REPO}/issues/{opened['issue']}", headers=headers).json()
    assert issue["title"] == "Recurring alert: KubePersistentVolumeFillingUp on payments/db"
    assert "fired **3** times" in issue["body"] and "kubesift-alerts: payments/db/" in issue["body"]
    again = run_cli("alerts", "issues", "--repo", REPO, "--days", "30", env=env)
    assert again.returncode == 0 and "No alert recurred" in again.stdout  # nothing new
    _fire(engine, 1, 4)
    [updated] = json.loads(run_cli("alerts", "issues", "--repo", REPO, "--days", "30", "--json",
                                   env=env).stdout)  # fmt: skip
    assert updated["action"] == "updated" and updated["issue"] == opened["issue"]
    comments = httpx.get(f"{github.url}/repos/{REPO}/issues/{opened['issue']}/comments",
                         headers=headers).json()  # fmt: skip
    assert comments[-1]["body"].startswith("It fired 1 more time(s) (now 4")
