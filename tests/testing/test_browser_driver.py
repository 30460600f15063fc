"""The browser driver itself: it must see what the dashboard tests assert is absent."""

from __future__ import annotations

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
