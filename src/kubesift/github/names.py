"""GitHub names as users give them. Pure."""

from __future__ import annotations

import re

from kubesift.errors import UserError

REPO_RE = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")


def check_repo(value: str) -> str:
    """``value`` when it looks like ``OWNER/NAME``; else a one-line error."""
    if not REPO_RE.match(value):
        raise UserError(f"--repo must look like OWNER/NAME, not {value!r}")
    return value
