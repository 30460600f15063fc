"""The README a newcomer reads: short, for whom it is, and every link inside the repo."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LINK = re.compile(r"\]\(([^)#]+)(#[^)]*)?\)")


def test_the_readme_is_short_says_who_it_is_for_and_links_only_inside_the_repo() -> None:
    text = (ROOT / "README.md").read_text()
    assert len(text.splitlines()) <= 180
    for who in ("maintainers", "release and CI teams", "on-call engineers"):
        assert who in text, who
    for doc in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        for target, _anchor in LINK.findall(doc.read_text()):
            assert "://" not in target, f"{doc.name} links outside the repository: {target}"
            resolved = (doc.parent / target).resolve()
            assert resolved.is_relative_to(ROOT), f"{doc.name} links outside: {target}"
            assert resolved.exists(), f"{doc.name} links to a missing {target}"
    assert "`bash .ci/run` is what CI runs on a fresh machine: it installs" in text
