"""The browser driver itself: it must see what the dashboard tests assert is absent."""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest

from kubesift.testing.browser import CHROMIUM, Browser

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="/usr/bin/chromium is missing (apt-get install chromium)"
)


def test_errors_and_missing_resources_are_collected(tmp_path: Path) -> None:
    page = tmp_path / "broken.html"
    page.write_text(
        "<html><body><p id='x'>hello</p><img src='missing.png'>"
        "<script>console.error('boom'); undefinedFunction();</script></body></html>"
    )
    with Browser() as b:
        b.open(page.as_uri())
        assert b.js("document.getElementById('x').innerText") == "hello"
        text = "\n".join(b.errors)
        assert "console: boom" in text
        assert "uncaught: ReferenceError: undefinedFunction is not defined" in text
        assert "missing.png" in text  # the failed request
        with pytest.raises(AssertionError, match="nothing to click"):
            b.click("#absent")


def _alive(marker: str) -> list[str]:
    """Processes (not zombies) whose command line holds ``marker``."""
    import psutil

    found = []
    for proc in psutil.process_iter(["cmdline", "status"]):
        with contextlib.suppress(psutil.Error):
            if proc.info["status"] != psutil.STATUS_ZOMBIE and any(
                marker in part for part in proc.info["cmdline"] or ()
            ):
                found.append(" ".join(proc.info["cmdline"]))
    return found


def test_a_whole_session_leaves_no_process_behind(tmp_path: Path) -> None:
    page = tmp_path / "page.html"
    page.write_text("<p id='x'>hi</p>")
    with Browser() as b:
        profile = b.profile.name
        b.open(page.as_uri())
        assert b.js("document.getElementById('x').innerText") == "hi"
        assert len(_alive(profile)) >= 2  # the browser and its helpers, while it runs
    assert _alive(profile) == []
    assert not Path(profile).exists()


def test_a_failed_start_ends_the_whole_process_tree(tmp_path: Path) -> None:
    """A browser that never answers on its DevTools pipe: the start fails in time, and
    the browser and the helper it started are ended, not left running."""
    marker = f"kubesift-hung-{tmp_path.name}"
    fake = tmp_path / "chromium"
    fake.write_text(
        f"#!/bin/sh\nsh -c 'sleep 300' {marker}-helper &\nexec sh -c 'sleep 300' {marker}\n"
    )
    fake.chmod(0o755)
    with pytest.raises(AssertionError, match="no answer from chromium"):
        Browser(chromium=fake, start_timeout=1.0)
    assert _alive(marker) == []


def test_a_browser_that_exits_at_start_is_a_clear_error(tmp_path: Path) -> None:
    fake = tmp_path / "chromium"
    fake.write_text("#!/bin/sh\nexit 3\n")
    fake.chmod(0o755)
    with pytest.raises(AssertionError, match=r"closed its DevTools pipe \(exit 3\)"):
        Browser(chromium=fake, start_timeout=10.0)
