"""Pure transforms from GitHub JSON to store rows."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from kubesift.github.actors import KNOWN_BOTS, is_bot

__all__ = ["KNOWN_BOTS", "is_bot"]

JsonObj = Mapping[str, Any]


def _login(user: JsonObj | None) -> str | None:
    return str(user["login"]) if user and user.get("login") else None


def item_row(raw: JsonObj, fetched_at: str, raw_text: str | None = None) -> dict[str, Any]:
    """A row of ``items`` from an issue/PR object of the issues API."""
    pr = raw.get("pull_request")
    return {
        "number": int(raw["number"]),
        "github_id": raw.get("id"),
        "kind": "pr" if pr is not None else "issue",
        "title": raw.get("title"),
        "body": raw.get("body"),
        "state": raw.get("state") or "open",
        "author": _login(raw.get("user")),
        "author_is_bot": is_bot(raw.get("user")),
        "created_at": raw.get("created_at"),
        "updated_at": raw.get("updated_at"),
        "closed_at": raw.get("closed_at"),
        "merged_at": (pr or {}).get("merged_at"),
        "closed_by": _login(raw.get("closed_by")),
        "comments": raw.get("comments"),
        "source": "github",
        "raw_json": raw_text if raw_text is not None else json.dumps(raw, separators=(",", ":")),
        "fetched_at": fetched_at,
        "gone_at": None,
        "moved_to": None,
    }


def label_defs(raw: JsonObj) -> list[dict[str, Any]]:
    """The item's current labels as label definitions (name, color, description)."""
    out = []
    for label in raw.get("labels") or []:
        if isinstance(label, str):
            out.append({"name": label, "color": None, "description": None})
        elif isinstance(label, Mapping) and label.get("name"):
            out.append(
                {
                    "name": str(label["name"]),
                    "color": label.get("color"),
                    "description": label.get("description"),
                }
            )
    return out


def label_event_row(raw: JsonObj) -> dict[str, Any] | None:
    """A row of ``label_events`` from a repository issue event, or None for other events."""
    if raw.get("event") not in ("labeled", "unlabeled"):
        return None
    issue = raw.get("issue") or {}
    label = raw.get("label") or {}
    if "number" not in issue or not label.get("name"):
        return None
    actor = raw.get("actor")
    return {
        "github_id": int(raw["id"]),
        "item_number": int(issue["number"]),
        "event": raw["event"],
        "label": str(label["name"]),
        "actor": _login(actor),
        "actor_is_bot": is_bot(actor) or raw.get("performed_via_github_app") is not None,
        "created_at": raw["created_at"],
    }


def closed_event_row(raw: JsonObj) -> dict[str, Any] | None:
    """(number, who closed it, when) from a ``closed`` issue event, or None."""
    if raw.get("event") != "closed":
        return None
    issue = raw.get("issue") or {}
    actor = _login(raw.get("actor"))
    if "number" not in issue or not actor or not raw.get("created_at"):
        return None
    return {"number": int(issue["number"]), "closed_by": actor, "closed_at": raw["created_at"]}


def check_items_page(data: Any, url: str) -> list[JsonObj]:
    """The page as a list of issue objects, or a ValueError naming what is wrong."""
    if not isinstance(data, list):
        raise ValueError(f"expected a JSON list of issues from {url}, got {type(data).__name__}")
    for entry in data:
        if not isinstance(entry, Mapping) or "number" not in entry or "updated_at" not in entry:
            raise ValueError(f"an entry of {url} is not an issue object")
    return data
