"""The store on a real database (SQLite, or PostgreSQL on that lane): migrations, pragmas,
label replacement, checkpoints."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select, text

from kubesift.config import load_settings
from kubesift.errors import ConfigError
from kubesift.store import create_store_engine, open_store
from kubesift.store.db import current_revision, head_revision
from kubesift.store.queries import summarize
from kubesift.store.schema import item_labels, items, label_events, labels, repositories
from kubesift.store.writes import (
    ensure_repository,
    get_sync_state,
    insert_label_events,
    mark_gone,
    put_sync_state,
    upsert_items,
)
from tests.conftest import postgres_only, sqlite_only


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


@pytest.mark.empty_database
def test_store_is_created_and_migrated(home: Path) -> None:
    settings = load_settings()
    engine = open_store(settings)
    assert current_revision(engine) == head_revision()
    open_store(settings)  # a second open is a no-op, not an error


@postgres_only
@pytest.mark.empty_database
def test_replicas_starting_together_migrate_once(home: Path) -> None:
    """Replicas sharing one database start at once: one migrates, the others wait for it."""
    code = "from kubesift.config import load_settings; from kubesift.store import open_store; "
    code += "open_store(load_settings())"
    procs = [
        subprocess.Popen([sys.executable, "-c", code], stderr=subprocess.PIPE, text=True)
        for _ in range(4)
    ]
    errors = [p.communicate(timeout=120)[1] for p in procs if p.wait(timeout=120) != 0]
    assert errors == []
    assert current_revision(open_store(load_settings())) == head_revision()


@sqlite_only
def test_sqlite_store_is_a_file_in_wal_mode(home: Path) -> None:
    engine = open_store(load_settings())
    assert (home / "kubesift.db").exists()
    with engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1


def test_label_set_is_replaced_so_removed_labels_disappear(home: Path) -> None:
    engine = open_store(load_settings())
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


def test_checkpoint_merges_and_gone_items_keep_their_data(home: Path) -> None:
    engine = open_store(load_settings())
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


def test_github_ids_beyond_32_bits_and_nul_characters(home: Path) -> None:
    """Real GitHub ids pass 2**31 (issues) and 2**33 (events); bodies may hold U+0000."""
    engine = open_store(load_settings())
    with engine.begin() as conn:
        repo = ensure_repository(conn, "o/r", github_id=5_000_000_000)
        upsert_items(conn, repo, [_item(1, github_id=3_000_000_001, body="a\x00b")])
        event = {"github_id": 13_000_000_000, "item_number": 1, "event": "labeled",
                 "label": "kind/bug", "actor": "x", "actor_is_bot": False,
                 "created_at": "2026-01-01T00:00:00Z"}  # fmt: skip
        insert_label_events(conn, repo, [event, event])  # the second is ignored
        assert conn.execute(select(repositories.c.github_id)).scalar() == 5_000_000_000
        assert conn.execute(select(items.c.github_id, items.c.body)).one() == (3_000_000_001, "ab")
        assert conn.execute(select(label_events.c.github_id)).scalars().all() == [13_000_000_000]


def test_migrated_database_matches_the_declared_schema(home: Path) -> None:
    """``schema.py`` and the Alembic migrations describe the same tables, columns, types,
    indexes and constraints (autogenerate finds nothing to do) — on SQLite and PostgreSQL."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    from kubesift.store.schema import metadata

    engine = open_store(load_settings())
    with engine.connect() as conn:
        context = MigrationContext.configure(
            conn,
            opts={
                "compare_type": True,
                "compare_server_default": False,
                # the full-text indexes are dialect-specific, made by migrations 0005 and
                # 0009 only
                "include_name": lambda name, kind, _parent: (
                    not (name or "").startswith(
                        ("items_fts", "ix_items_fulltext", "ci_log_grams", "ix_ci_log_chunks_trgm")
                    )
                ),
            },
        )
        diff = compare_metadata(context, metadata)
    assert diff == [], "schema.py and the migrations disagree:\n" + "\n".join(map(str, diff))
