"""GitHub names as users give them. Pure."""

from __future__ import annotations

import re

from kubesift.errors import UserError

REPO_RE = re.compile(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$")


def check_repo(value: str) -> str:
    """``value`` when it looks like ``OWNER/NAME``; else a one-line error. ``.`` and ``..``
    are no one's names (and would climb out of a per-repository directory)."""
    if not REPO_RE.match(value) or any(part in (".", "..") for part in value.split("/")):
        raise UserError(f"--repo must look like OWNER/NAME, not {value!r}")
    return value


PUBLIC_API = "https://api.github.com"


def item_url(repo: str, kind: str, number: int, api_url: str | None = None) -> str:
    """Where a person reads issue or PR ``number`` of ``repo``, fetched from ``api_url``
    (the store keeps it per repository): github.com for the public API, the host's own
    pages for GitHub Enterprise (``…/api/v3``), and for any other API (a fake GitHub, a
    proxy) the item on that API itself, never an unrelated github.com page."""
    path = f"{repo}/{'pull' if kind == 'pr' else 'issues'}/{number}"
    base = (api_url or PUBLIC_API).rstrip("/")
    if base == PUBLIC_API:
        return f"https://github.com/{path}"
    if base.endswith("/api/v3"):
        return f"{base[: -len('/api/v3')]}/{path}"
    return f"{base}/repos/{repo}/issues/{number}"
