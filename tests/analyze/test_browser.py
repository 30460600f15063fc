"""The report opened in a real headless Chromium, from disk, with no network."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from kubesift.analyze import ANALYSES
from kubesift.testing.browser import CHROMIUM, HEADLESS
from tests.analyze.sample import build_store
from tests.conftest import run_cli

FLAGS = list(HEADLESS)


def _chromium(profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    if not CHROMIUM.exists():
        pytest.skip("/usr/bin/chromium is missing (apt-get install chromium chromium-driver)")
    return subprocess.run(
        [str(CHROMIUM), *FLAGS, f"--user-data-dir={profile}", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.slow
def test_report_renders_every_chart_in_a_browser(home: Path, tmp_path: Path) -> None:
    if not CHROMIUM.exists():
        pytest.skip("/usr/bin/chromium is missing (apt-get install chromium chromium-driver)")
    build_store(home)
    assert run_cli("report").returncode == 0
    url = (home / "assets" / "report.html").as_uri()
    dom = _chromium(tmp_path / "profile", "--virtual-time-budget=5000", "--dump-dom", url)
    check = re.search(r'<div id="render-check"[^>]*>', dom.stdout)
    assert check, dom.stderr[-2000:]
    assert 'data-ok="true"' in check.group(0)
    assert f'data-charts="{len(ANALYSES)}"' in check.group(0)
    shot = tmp_path / "shot.png"
    _chromium(tmp_path / "profile", f"--screenshot={shot}", "--window-size=1280,4000", url)
    assert shot.read_bytes().startswith(b"\x89PNG")
    assert shot.stat().st_size > 50_000
