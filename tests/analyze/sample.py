"""A small hand-made store with known answers (dates in 2024)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Engine

from kubesift.config import load_settings
from kubesift.store import open_store
from kubesift.store.schema import items
from kubesift.store.writes import (
    ensure_repository,
    insert_label_events,
    mark_gone,
    upsert_items,
    upsert_release_notes,
)

REPO = "o/r"


def _item(number: int, kind: str, author: str, created: str, **extra: Any) -> dict[str, Any]:
    row = {
        "number": number,
        "kind": kind,
        "title": f"item {number}",
        "state": "open",
        "author": author,
        "author_is_bot": False,
        "created_at": f"2024-{created}T12:00:00Z",
        "closed_at": None,
        "merged_at": None,
        "closed_by": None,
        "source": "github",
        "fetched_at": "2024-03-01T00:00:00Z",
    }
    for key in ("closed_at", "merged_at"):
        if key in extra:
            extra[key] = f"2024-{extra[key]}T12:00:00Z"
    if "closed_at" in extra:
        extra.setdefault("state", "closed")
    return {**row, **extra}


ITEMS = [
    _item(1, "issue", "alice", "01-01", closed_at="01-10", closed_by="alice"),
    _item(2, "issue", "bob", "01-05"),
    _item(3, "issue", "alice", "02-01"),
    _item(4, "pr", "carol", "01-02", closed_at="01-04", merged_at="01-04"),
    _item(5, "pr", "carol", "01-10", closed_at="02-09", merged_at="02-09"),
    _item(6, "pr", "bob", "02-15", closed_at="02-20"),
    _item(7, "issue", "dave", "01-03"),
]
LABELS = {
    1: ["kind/bug", "sig/node"],
    2: ["sig/node", "area/kubelet"],
    3: [],
    4: ["kind/feature", "sig/api-machinery", "release-note"],
    5: ["kind/bug"],
    6: ["lgtm"],
    7: ["kind/bug", "sig/node"],
}
BOT = "k8s-ci-robot"
EVENTS = [
    (1, "labeled", "kind/bug", BOT, True, "01-01"),
    (1, "labeled", "sig/node", "alice", False, "01-02"),
    (1, "unlabeled", "sig/node", "alice", False, "01-03"),
    (6, "labeled", "lgtm", BOT, True, "02-16"),
    (7, "labeled", "kind/bug", "dave", False, "01-03"),  # item 7 is deleted
]


def build_store(home: Path, *, closed_by: bool = True, notes: bool = True) -> Engine:
    """Write the sample into the store at ``home``; item 7 is then deleted."""
    engine = open_store(load_settings({"KUBESIFT_HOME": str(home)}))
    rows = ITEMS if closed_by else [{**r, "closed_by": None} for r in ITEMS]
    with engine.begin() as conn:
        repo = ensure_repository(conn, REPO)
        labels = {n: [{"name": name} for name in names] for n, names in LABELS.items()}
        ids = upsert_items(conn, repo, rows, labels)
        events = [
            {
                "github_id": i,
                "item_number": n,
                "event": ev,
                "label": label,
                "actor": actor,
                "actor_is_bot": bot,
                "created_at": f"2024-{day}T13:00:00Z",
            }
            for i, (n, ev, label, actor, bot, day) in enumerate(EVENTS)
        ]
        insert_label_events(conn, repo, events)
        if notes:
            upsert_release_notes(
                conn, [_note(ids[4], "note"), _note(ids[5], "none"), _note(ids[6], "missing")]
            )
        mark_gone(conn, repo, 7, "deleted")
        assert conn.execute(select(items.c.gone_at).where(items.c.number == 7)).scalar()
    return engine


def _note(item_id: int, status: str) -> dict[str, Any]:
    text = "Adds a flag." if status == "note" else None
    return {"item_id": item_id, "source": "body", "status": status, "text": text}
