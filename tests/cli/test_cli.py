"""The CLI as a user runs it: real processes, real files, exit codes and messages."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from kubesift.cli.docs import render
from tests.conftest import ROOT, run_cli


def test_every_command_explains_itself() -> None:
    result = run_cli("--help")
    assert result.returncode == 0
    for command in ("export", "status", "import", "dev"):
        assert command in result.stdout
    for args in (["export"], ["import", "release-notes"], ["status"], ["dev", "fake-github"]):
        sub = run_cli(*args, "--help")
        assert sub.returncode == 0, sub.stderr
        assert "Usage: kubesift" in sub.stdout and len(sub.stdout.splitlines()) > 5


#: What no ``--help`` may import: the ML and serving stacks take seconds to load.
HEAVY = ("sklearn", "scipy", "skops", "matplotlib", "optuna", "kserve", "kfp", "torch")


def test_help_imports_no_heavy_library() -> None:
    """``kubesift --help`` and every command's ``--help`` load in a fraction of a second:
    the listing comes from a table, and a command's module imports the ML stack only
    where it is used (reconcile's steps and Sippy's Fisher test once took 2.7 s and 1.4 s
    of --help)."""
    import subprocess
    import sys

    from kubesift.cli import COMMANDS

    code = (
        "import sys\nfrom kubesift.cli import cli\n"
        "for name in sys.argv[1:]:\n"
        "    try:\n"
        "        cli.main([name, '--help'] if name else ['--help'], standalone_mode=False)\n"
        "    except SystemExit:\n"
        "        pass\n"
        f"    print('LOADED', repr(name), sorted(m for m in {HEAVY!r} if m in sys.modules))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, "", *COMMANDS], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    lines = [line for line in done.stdout.splitlines() if line.startswith("LOADED ")]
    assert len(lines) == len(COMMANDS) + 1
    assert [line for line in lines if not line.endswith(" []")] == []


def test_the_listing_names_every_command_as_its_table_says() -> None:
    from kubesift.cli import COMMANDS

    listed = run_cli("--help").stdout
    for name, (_, summary) in COMMANDS.items():
        assert f"  {name} " in listed
        assert " ".join(summary.split()[:4]) in " ".join(listed.split()), name


def test_cli_reference_is_current() -> None:
    assert (ROOT / "docs" / "cli.md").read_text() == render(), "run `make docs`"


def test_python_dash_m_and_version() -> None:
    result = run_cli("--version")
    assert result.returncode == 0 and "kubesift" in result.stdout


def test_user_errors_exit_2_with_one_line(home: Path) -> None:
    bad_repo = run_cli("export", "--repo", "not-a-repo")
    assert bad_repo.returncode == 2
    assert "OWNER/NAME" in bad_repo.stderr and "Traceback" not in bad_repo.stderr
    missing = run_cli("import", "release-notes", str(home / "nope"))
    assert missing.returncode == 2 and "no release-note JSON files match" in missing.stderr
    unknown = run_cli("frobnicate")
    assert unknown.returncode == 2


def test_bad_toml_is_reported(home: Path) -> None:
    Path("kubesift.toml").write_text("home = [unclosed\n")
    result = run_cli("status")
    assert result.returncode == 2 and "invalid TOML" in result.stderr


def test_status_on_empty_store_says_what_to_do(home: Path) -> None:
    result = run_cli("status")
    assert result.returncode == 0 and "store is empty" in result.stdout


def test_import_real_release_notes_is_idempotent(home: Path, datasets: Path) -> None:
    notes = datasets / "k8s-release-notes"
    first = run_cli("import", "release-notes", str(notes))
    assert first.returncode == 0, first.stderr
    db = home / "kubesift.db"

    def snapshot() -> tuple[int, int, int]:
        with sqlite3.connect(db) as conn:
            return tuple(  # type: ignore[return-value]
                conn.execute(f"select count(*) from {t}").fetchone()[0]
                for t in ("items", "item_labels", "release_notes")
            )

    before = snapshot()
    second = run_cli("import", "release-notes", str(notes / "kubernetes-sigs-release-notes"))
    assert second.returncode == 0 and snapshot() == before
    assert 6000 <= before[0] <= 7500
    status = json.loads(run_cli("status", "--json").stdout)
    assert status[0]["full_name"] == "kubernetes/kubernetes"
    assert status[0]["release_notes"] == before[0]


def test_import_labels_and_first_release(home: Path, tmp_path: Path) -> None:
    src = tmp_path / "notes"
    src.mkdir()
    note = {
        "pr_number": 7,
        "text": "Fixed a crash",
        "author": "alice",
        "kinds": ["bug"],
        "sigs": ["node"],
        "areas": ["kubelet"],
    }
    (src / "release-notes-1.20.1.json").write_text(json.dumps({"7": note}))
    (src / "release-notes-1.20.0.json").write_text(json.dumps({"7": note}))
    assert run_cli("import", "release-notes", str(src / "*.json")).returncode == 0
    with sqlite3.connect(home / "kubesift.db") as conn:
        labels = sorted(
            r[0]
            for r in conn.execute(
                "select l.name from labels l join item_labels il on il.label_id = l.id"
            )
        )
        release = conn.execute("select release, text from release_notes").fetchone()
    assert labels == ["area/kubelet", "kind/bug", "sig/node"]
    assert release == ("1.20.0", "Fixed a crash")


@pytest.mark.parametrize("content", ["{not json", "[1, 2]"])
def test_bad_release_note_file_changes_nothing(home: Path, tmp_path: Path, content: str) -> None:
    bad = tmp_path / "release-notes-1.20.0.json"
    bad.write_text(content)
    result = run_cli("import", "release-notes", str(bad))
    assert result.returncode == 2
    assert str(bad) in result.stderr and "Traceback" not in result.stderr


def test_import_release_notes_from_urls(home: Path, tmp_path: Path) -> None:
    import functools
    import http.server
    import threading

    served = tmp_path / "served"
    served.mkdir()
    note = {"pr_number": 11, "text": "Added a flag", "author": "bob", "kinds": ["feature"]}
    (served / "release-notes-1.30.0.json").write_text(json.dumps({"11": note}))
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(served))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        ok = run_cli("import", "release-notes", f"{base}/release-notes-1.30.0.json")
        missing = run_cli("import", "release-notes", f"{base}/release-notes-9.9.9.json")
    finally:
        server.shutdown()
    assert ok.returncode == 0, ok.stderr
    assert "1 release notes" in ok.stdout and "1.30.0" in ok.stdout
    assert missing.returncode == 2 and "cannot download" in missing.stderr
