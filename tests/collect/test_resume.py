"""Export resume and summaries through the fake GitHub in process (``httpx.MockTransport``
over the same pipeline as the loopback server), and GitHub Enterprise's ``/api/v3`` paths."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from kubesift.collect.service import ExportReport, export_repository
from kubesift.config import load_settings
from kubesift.errors import MalformedResponseError
from kubesift.github import TokenAuth
from kubesift.store import open_store
from kubesift.testing import FakeGitHub, Fault, generate_repo, in_process
from tests.collect.test_export import dump
from tests.conftest import REPO, TOKEN, GitHubFixture, run_cli, sqlite_only

API = "https://github.fake.test"


@pytest.fixture
def fake() -> FakeGitHub:
    fake = FakeGitHub()
    fake.add_repo(generate_repo(300, seed=11, use_release_notes=False))
    fake.add_token(TOKEN, "octocat")
    return fake


def export(fake: FakeGitHub, home: Path, api: str = API, **kw: object) -> ExportReport:
    engine = open_store(load_settings({"KUBESIFT_HOME": str(home)}))
    try:
        return export_repository(
            engine,
            REPO,
            api_url=api,
            auth=TokenAuth(TOKEN),
            transport=in_process(fake),
            **kw,  # type: ignore[arg-type]
        )
    finally:
        engine.dispose()


@sqlite_only
def test_interrupted_export_resumes_to_an_identical_store(fake: FakeGitHub, tmp_path: Path) -> None:
    # Page 3 of the listing comes back truncated: the run stops, pages 1-2 stay committed
    # with the cursor that covers them.
    fake.inject(Fault("malformed", count=1, path="after="))
    broken = tmp_path / "broken"
    with pytest.raises(MalformedResponseError):
        export(fake, broken, per_page=40)
    with sqlite3.connect(broken / "kubesift.db") as conn:
        stored = conn.execute("select count(*) from items").fetchone()[0]
        (cursor,) = conn.execute("select cursor from sync_state where resource='issues'").fetchone()
    assert 0 < stored < 300 and cursor
    resumed = export(fake, broken, per_page=40)
    assert resumed.mode == "resume" and resumed.items > 0
    export(fake, tmp_path / "clean", per_page=40)
    assert dump(broken) == dump(tmp_path / "clean")
    # And an update afterwards is one free 304.
    again = export(fake, broken, per_page=40)
    assert again.unchanged and again.requests == 1 and again.not_modified_requests == 1


def test_update_after_an_interrupted_label_walk_reports_what_it_fetched(
    fake: FakeGitHub, tmp_path: Path
) -> None:
    fake.inject(Fault("malformed", count=1, path="/issues/events"))
    with pytest.raises(MalformedResponseError):
        export(fake, tmp_path)
    report = export(fake, tmp_path)
    assert report.items_not_modified and report.items == 0
    assert report.events > 100
    assert not report.unchanged
    line = report.summary()
    assert "unchanged" not in line and f"{report.events:,} label events stored" in line
    assert export(fake, tmp_path).summary().endswith("(304).")


def test_enterprise_api_v3_prefix_in_process(fake: FakeGitHub, tmp_path: Path) -> None:
    report = export(fake, tmp_path, api=f"{API}/api/v3")
    assert report.items == 300 and report.events > 0
    assert export(fake, tmp_path, api=f"{API}/api/v3").unchanged


def test_export_cli_with_an_enterprise_api_url(github: GitHubFixture, tmp_path: Path) -> None:
    env = {**github.env(), "KUBESIFT_HOME": str(tmp_path)}
    out = run_cli("export", "--repo", REPO, "--api-url", f"{github.url}/api/v3", env=env)
    assert out.returncode == 0, out.stderr
    assert f"stored {len(github.generated.items):,} items" in out.stderr
    # The fake's Link headers kept the prefix: every page request went to /api/v3.
    import httpx

    page = httpx.get(
        f"{github.url}/api/v3/repos/{REPO}/issues?per_page=5",
        headers={"Authorization": f"token {github.token}"},
    )
    assert page.status_code == 200 and f"{github.url}/api/v3/" in page.headers["link"]
    again = run_cli(
        "export", "--repo", REPO, "--api-url", f"{github.url}/api/v3", "--json", env=env
    )
    assert again.returncode == 0, again.stderr
    import json

    figures = json.loads(again.stdout)
    assert figures["unchanged"] and figures["requests"] == 1
