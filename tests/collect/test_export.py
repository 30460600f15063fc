"""Exporting from the fake GitHub over real HTTP into real SQLite files."""

from __future__ import annotations

import json
import math
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from kubesift.collect.export import Exporter, ExportResult
from kubesift.config import load_settings
from kubesift.errors import MalformedResponseError, RateLimitError
from kubesift.github import GitHubClient, TokenAuth
from kubesift.store import open_store
from kubesift.testing import Fault, generate_rsa_keypair
from tests.conftest import REPO, GitHubFixture, run_cli


def export(github: GitHubFixture, home: Path, **client_kw: Any) -> ExportResult:
    engine = open_store(load_settings({"KUBESIFT_HOME": str(home)}))
    client = GitHubClient(github.url, TokenAuth(github.token), **client_kw)
    with client:
        return Exporter(engine, client, REPO).run()


def dump(home: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Everything the store holds, minus when it was fetched, in a stable order."""
    queries = {
        "items": "select number, github_id, kind, title, body, state, author, author_is_bot, "
        "created_at, updated_at, closed_at, merged_at, comments, raw_json, gone_at from items",
        "labels": "select i.number, l.name from item_labels il join items i on i.id = il.item_id "
        "join labels l on l.id = il.label_id",
        "events": "select github_id, item_number, event, label, actor, actor_is_bot, created_at "
        "from label_events",
        "notes": "select i.number, n.source, n.status, n.text from release_notes n "
        "join items i on i.id = n.item_id",
        "sync": "select resource, watermark, cursor from sync_state",
    }
    with sqlite3.connect(home / "kubesift.db") as conn:
        return {k: sorted(conn.execute(q).fetchall(), key=repr) for k, q in queries.items()}


def route_counts(github: GitHubFixture, route: str) -> dict[str, int]:
    return github.stats()["by_route"].get(route, {})  # type: ignore[index,no-any-return]


ISSUES = "GET /repos/{owner}/{repo}/issues"
EVENTS = "GET /repos/{owner}/{repo}/issues/events"


def test_full_export_mirrors_items_labels_events_and_notes(
    github: GitHubFixture, tmp_path: Path
) -> None:
    result = export(github, tmp_path)
    items = github.generated.items
    assert result.items == len(items)
    data = dump(tmp_path)
    stored = {row[0]: row for row in data["items"]}
    for item in items[:50]:
        row = stored[item.number]
        assert row[2] == ("pr" if item.is_pr else "issue")
        assert row[3] == item.title and row[6] == item.user
    labels: dict[int, set[str]] = {}
    for number, name in data["labels"]:
        labels.setdefault(number, set()).add(name)
    assert all(labels.get(i.number, set()) == set(i.labels) for i in items)
    label_events = [e for e in github.generated.events if e.event in ("labeled", "unlabeled")]
    assert len(data["events"]) == len(label_events)
    assert any(e[5] for e in data["events"]) and any(not e[5] for e in data["events"])
    prs = [i for i in items if i.is_pr]
    assert len([n for n in data["notes"] if n[1] == "body"]) == len(prs)
    assert any(n[2] == "note" for n in data["notes"]) and any(n[2] == "none" for n in data["notes"])
    # the floor: one request per 100 items, plus one estimate and one closing since= pass
    pages = route_counts(github, ISSUES).get("200", 0)
    assert pages <= math.ceil(len(items) / 100) + 2


def test_update_fetches_only_changes_and_unchanged_costs_one_free_304(
    github: GitHubFixture, tmp_path: Path
) -> None:
    export(github, tmp_path)
    github.fake.reset_stats()
    again = export(github, tmp_path)
    stats = github.stats()
    assert again.not_modified and stats["total"] == 1 and stats["not_modified"] == 1
    assert stats["quota_used"] == 0

    changed = github.fake.touch(REPO, 20, seed=3)
    github.fake.clock.advance(5)
    github.fake.reset_stats()
    update = export(github, tmp_path)
    assert set(changed) <= update.numbers and update.items <= 25
    assert route_counts(github, ISSUES).get("200") == 1

    fresh = tmp_path / "fresh"
    export(github, fresh)
    assert dump(fresh)["items"] == dump(tmp_path)["items"]
    assert dump(fresh)["labels"] == dump(tmp_path)["labels"]
    assert dump(fresh)["events"] == dump(tmp_path)["events"]


def test_label_removed_on_github_disappears_after_update(
    github: GitHubFixture, tmp_path: Path
) -> None:
    item = next(i for i in github.generated.items if any(n.startswith("kind/") for n in i.labels))
    label = next(n for n in item.labels if n.startswith("kind/"))
    export(github, tmp_path)
    github.fake.clock.advance(2)
    github.fake.remove_label(REPO, item.number, label, actor="a-maintainer")
    export(github, tmp_path)
    data = dump(tmp_path)
    assert (item.number, label) not in data["labels"]
    removal = [e for e in data["events"] if e[1] == item.number and e[2] == "unlabeled"]
    assert any(e[3] == label and e[4] == "a-maintainer" and not e[5] for e in removal)


def test_exhausted_quota_is_waited_out_then_export_completes(
    github: GitHubFixture, tmp_path: Path
) -> None:
    github.fake.inject(Fault("exhaust", token=github.token, seconds=2))
    waits: list[tuple[float, str]] = []
    started = time.monotonic()
    result = export(github, tmp_path, on_wait=lambda s, r: waits.append((s, r)))
    assert result.items == len(github.generated.items)
    assert waits and waits[0][1] == "rate limit exhausted" and 1 <= waits[0][0] <= 5
    assert time.monotonic() - started >= 1.5


def test_too_long_a_wait_stops_cleanly_and_resumes(github: GitHubFixture, tmp_path: Path) -> None:
    github.fake.inject(Fault("exhaust", token=github.token, seconds=3600))
    with pytest.raises(RateLimitError, match="max-wait"):
        export(github, tmp_path, max_wait=10)
    github.fake.clock.advance(3601)
    assert export(github, tmp_path).items == len(github.generated.items)


def test_secondary_limit_retry_after_is_honoured(github: GitHubFixture, tmp_path: Path) -> None:
    github.fake.inject(Fault("secondary", seconds=1, count=1, path="/issues"))
    waits: list[tuple[float, str]] = []
    result = export(github, tmp_path, on_wait=lambda s, r: waits.append((s, r)))
    assert result.items == len(github.generated.items)
    assert waits == [(1.0, "secondary rate limit")]


def test_502_on_big_pages_lowers_per_page(github: GitHubFixture, tmp_path: Path) -> None:
    github.fake.inject(Fault("per_page_limit", per_page=50))
    result = export(github, tmp_path, sleep=lambda s: None)
    assert result.items == len(github.generated.items)
    assert route_counts(github, ISSUES).get("502", 0) >= 1
    assert dump(tmp_path)["sync"][0][2] is None  # finished, no cursor left


def test_server_errors_are_retried(github: GitHubFixture, tmp_path: Path) -> None:
    github.fake.inject(Fault("status", status=500, count=2, path="/issues"))
    assert export(github, tmp_path, sleep=lambda s: None).items == len(github.generated.items)


def test_malformed_page_fails_clearly_and_keeps_the_checkpoint(
    github: GitHubFixture, tmp_path: Path
) -> None:
    github.fake.inject(Fault("malformed", count=1, path="after="))
    with pytest.raises(MalformedResponseError, match="malformed"):
        export(github, tmp_path)
    partial = dump(tmp_path)
    assert 0 < len(partial["items"]) < len(github.generated.items)
    assert any(row[2] for row in partial["sync"]), "the cursor of the failed page is kept"
    export(github, tmp_path)
    fresh = tmp_path / "fresh"
    export(github, fresh)
    assert dump(fresh)["items"] == dump(tmp_path)["items"]


def test_kill_9_mid_export_then_resume_equals_uninterrupted(
    github: GitHubFixture, tmp_path: Path
) -> None:
    github.fake.inject(Fault("slow", seconds=0.15, path="/issues"))
    killed_home = tmp_path / "killed"
    env = {**github.env(), "KUBESIFT_HOME": str(killed_home)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "kubesift", "export", "--repo", REPO],
        env={**__import__("os").environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        db = killed_home / "kubesift.db"
        if db.exists():
            with sqlite3.connect(db) as conn:
                try:
                    if conn.execute("select count(*) from items").fetchone()[0] >= 200:
                        break
                except sqlite3.OperationalError:
                    pass
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    with sqlite3.connect(killed_home / "kubesift.db") as conn:
        stored = conn.execute("select count(*) from items").fetchone()[0]
    assert 0 < stored < len(github.generated.items), "killed mid-export"
    github.fake.clear_faults()
    resumed = run_cli("export", "--repo", REPO, env=env)
    assert resumed.returncode == 0, resumed.stderr
    assert "resuming" in resumed.stderr
    export(github, tmp_path / "clean")
    assert dump(killed_home) == dump(tmp_path / "clean")


def test_verify_records_transferred_deleted_and_inaccessible(
    github: GitHubFixture, tmp_path: Path
) -> None:
    env = {**github.env(), "KUBESIFT_HOME": str(tmp_path)}
    result = run_cli("export", "--repo", REPO, "--verify", env=env)
    assert result.returncode == 0, result.stderr
    gen = github.generated
    with sqlite3.connect(tmp_path / "kubesift.db") as conn:
        states = dict(conn.execute("select number, state from items where gone_at is not null"))
        moved = dict(conn.execute("select number, moved_to from items where moved_to is not null"))
    assert {n for n, s in states.items() if s == "deleted"} == gen.deleted
    assert {n for n, s in states.items() if s == "transferred"} == set(gen.transferred)
    assert {n for n, s in states.items() if s == "inaccessible"} == gen.inaccessible
    assert moved and all(
        url.endswith(f"/issues/{gen.transferred[n].target_number}") for n, url in moved.items()
    )
    github.fake.reset_stats()
    run_cli("export", "--repo", REPO, "--verify", env=env)
    assert route_counts(github, "GET /repos/{owner}/{repo}/issues/{number}") == {}


def test_bad_token_exits_2_and_writes_nothing(github: GitHubFixture, tmp_path: Path) -> None:
    env = {**github.env(), "KUBESIFT_HOME": str(tmp_path), "GITHUB_TOKEN": "ghp_wrong"}
    result = run_cli("export", "--repo", REPO, env=env)
    assert result.returncode == 2
    assert "401" in result.stderr and "Bad credentials" in result.stderr
    assert "ghp_wrong" not in result.stderr + result.stdout
    with sqlite3.connect(tmp_path / "kubesift.db") as conn:
        assert conn.execute("select count(*) from repositories").fetchone()[0] == 0


def test_unknown_repository_is_a_clear_error(github: GitHubFixture, tmp_path: Path) -> None:
    env = {**github.env(), "KUBESIFT_HOME": str(tmp_path)}
    result = run_cli("export", "--repo", "kubernetes/nope", env=env)
    assert result.returncode == 2
    assert "repository kubernetes/nope not found" in result.stderr
    assert "Traceback" not in result.stderr


def test_plain_http_is_refused_off_loopback(tmp_path: Path) -> None:
    result = run_cli(
        "export",
        "--repo",
        REPO,
        "--api-url",
        "http://example.com",
        env={"KUBESIFT_HOME": str(tmp_path)},
    )
    assert result.returncode == 2 and "https" in result.stderr


def test_github_app_installation_token(github: GitHubFixture, tmp_path: Path) -> None:
    private, public = generate_rsa_keypair()
    app = github.fake.add_app(4242, public_key_pem=public)
    github.fake.install_app(app.app_id, REPO) if hasattr(github.fake, "install_app") else None
    key = tmp_path / "app.pem"
    key.write_text(private)
    env = {"KUBESIFT_API_URL": github.url, "KUBESIFT_HOME": str(tmp_path), "GITHUB_TOKEN": ""}
    result = run_cli(
        "export", "--repo", REPO, "--app-id", "4242", "--app-key-file", str(key), env=env
    )
    assert result.returncode == 0, result.stderr
    assert private.splitlines()[1] not in result.stderr
    stats = json.dumps(github.stats())
    assert "access_tokens" in stats


def test_closed_by_comes_from_closed_events_without_extra_requests(
    github: GitHubFixture, tmp_path: Path
) -> None:
    export(github, tmp_path)
    with sqlite3.connect(tmp_path / "kubesift.db") as conn:
        stored = dict(conn.execute("select number, closed_by from items where kind = 'issue'"))
    closed = [i for i in github.generated.items if not i.is_pr and i.state == "closed"]
    known = [i for i in closed if stored.get(i.number)]
    assert len(known) / len(closed) > 0.9
    assert all(stored[i.number] == i.closed_by for i in known)
    assert route_counts(github, "GET /repos/{owner}/{repo}/issues/{number}") == {}
    # an update that re-lists an item does not forget who closed it
    github.fake.clock.advance(5)
    github.fake.edit_item(REPO, known[0].number, title="renamed")
    export(github, tmp_path)
    with sqlite3.connect(tmp_path / "kubesift.db") as conn:
        who = conn.execute("select closed_by from items where number = ?", (known[0].number,))
        assert who.fetchone()[0] == known[0].closed_by
