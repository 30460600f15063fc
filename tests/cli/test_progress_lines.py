"""Progress in a log or a pipe: plain periodic lines with counts, rate and ETA."""

from __future__ import annotations

from pathlib import Path

import pytest

from kubesift.cli.progress import LineProgress
from tests.conftest import REPO, GitHubFixture, run_cli


def test_lines_every_period_and_at_each_phase_end(capsys: pytest.CaptureFixture[str]) -> None:
    now = [0.0]
    with LineProgress(every=5.0, clock=lambda: now[0]) as progress:
        progress.phase("issues", 1_000)
        for _ in range(10):
            now[0] += 1.0
            progress.advance(50, 4_321)
        progress.phase("label events", None)
        now[0] += 2.0
        progress.advance(30, None)
    lines = capsys.readouterr().err.splitlines()
    assert lines == [
        "issues: 250/1,000 items, 50 items/s, ETA 15 s, quota 4,321",
        "issues: 500/1,000 items, 50 items/s, ETA 10 s, quota 4,321",
        "issues: 500/1,000 items, 50 items/s, done in 10 s",
        "label events: 30 items, 15 items/s, done in 2 s",
    ]


def test_export_into_a_pipe_writes_no_spinner_characters(github: GitHubFixture, home: Path) -> None:
    done = run_cli("export", "--repo", REPO, env=github.env())
    assert done.returncode == 0, done.stderr
    assert not set("⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏━") & set(done.stderr)
    assert "items" in done.stderr and "done in" in done.stderr
