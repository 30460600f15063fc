"""The store on real SQLite files: migrations, pragmas, label replacement, checkpoints."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select, text

from kubesift.config import load_settings
from kubesift.errors import ConfigError
from kubesift.store import create_store_engine, open_store
from kubesift.store.db import current_revision, head_revision
from kubesift.store.queries import summarize
from kubesift.store.schema import item_labels, labels
from kubesift.store.writes import (
    ensure_repository,
    get_sync_state,
    mark_gone,
    put_sync_state,
    upsert_items,
)


def _item(number: int, **extra: object) -> dict[str, object]:
    return {
        "number": number,
        "kind": "issue",
        "title": f"t{number}",
        "state": "open",
        "author_is_bot": False,
        "source": "github",
        "fetched_at": "2026-01-01T00:00:00Z",
        **extra,
    }


def test_store_is_created_migrated_and_uses_wal(tmp_path: Path) -> None:
    settings = load_settings({"KUBESIFT_HOME": str(tmp_path / "h")})
    engine = open_store(settings)
    assert (tmp_path / "h" / "kubesift.db").exists()
    assert current_revision(engine) == head_revision()
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
    open_store(settings)  # a second open is a no-op, not an error


def test_label_set_is_replaced_so_removed_labels_disappear(tmp_path: Path) -> None:
    engine = open_store(load_settings({"KUBESIFT_HOME": str(tmp_path)}))
    with engine.begin() as conn:
        repo = ensure_repository(conn, "o/r")
        upsert_items(conn, repo, [_item(1)], {1: [{"name": "kind/bug"}, {"name": "sig/node"}]})
        upsert_items(conn, repo, [_item(1, title="new")], {1: [{"name": "sig/node"}]})
        names = conn.execute(
            select(labels.c.name).join(item_labels, item_labels.c.label_id == labels.c.id)
        ).scalars()
        assert sorted(names) == ["sig/node"]
        summary = summarize(conn)[0]
    assert (summary.issues, summary.labels) == (1, 2)


def test_checkpoint_merges_and_gone_items_keep_their_data(tmp_path: Path) -> None:
    engine = open_store(load_settings({"KUBESIFT_HOME": str(tmp_path)}))
    with engine.begin() as conn:
        repo = ensure_repository(conn, "o/r")
        put_sync_state(conn, repo, "issues", watermark="2020-01-01T00:00:00Z", cursor="c1")
        put_sync_state(conn, repo, "issues", cursor=None)
        state = get_sync_state(conn, repo, "issues")
        assert state["watermark"] == "2020-01-01T00:00:00Z" and state["cursor"] is None
        upsert_items(conn, repo, [_item(5)])
        mark_gone(conn, repo, 5, "transferred", moved_to="https://x/issues/9")
        mark_gone(conn, repo, 6, "deleted")
        summary = summarize(conn)[0]
    assert (summary.issues, summary.gone) == (0, 2)


def test_unknown_database_driver_is_a_config_error() -> None:
    with pytest.raises(ConfigError):
        create_store_engine("nosuchdb://x")
