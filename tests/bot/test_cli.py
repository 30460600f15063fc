"""``kubesift bot config`` and ``stats`` as real processes."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import run_cli


def test_config_roundtrip_and_stats(home: Path) -> None:
    out = run_cli(
        "bot",
        "config",
        "kubesift/demo",
        "--family",
        "kind",
        "--target-precision",
        "0.9",
        "--no-comment",
        "--dry-run",
    )
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout) == {
        "repo": "kubesift/demo", "families": ["kind"], "target_precision": 0.9,
        "comment": False, "dry_run": True,
    }  # fmt: skip
    shown = json.loads(run_cli("bot", "config", "kubesift/demo", "--comment").stdout)
    assert shown["comment"] is True and shown["families"] == ["kind"]
    assert run_cli("bot", "config", "not a repo").returncode == 2
    stats = run_cli("bot", "stats")
    assert stats.returncode == 0 and "jobs: none" in stats.stdout


def test_bot_needs_a_secret(home: Path) -> None:
    out = run_cli("bot", "--port", "0", env={"KUBESIFT_WEBHOOK_SECRET": ""})
    assert out.returncode == 2 and "webhook secret" in out.stderr
