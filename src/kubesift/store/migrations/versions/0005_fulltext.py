"""A full-text index over items' titles and bodies (``ci search``, issue matching).

SQLite: an FTS5 table kept in step with ``items`` by triggers; PostgreSQL: a GIN index on
``to_tsvector('simple', title || ' ' || body)``. Neither is in ``schema.py``: they are
dialect-specific, and ``kubesift.store.fulltext`` is the only code that reads them.

Revision ID: 0005
Revises: 0004
"""

from alembic import op

revision = "0005"
down_revision = "0004"

SQLITE = [
    "CREATE VIRTUAL TABLE items_fts USING fts5(title, body, content='items', "
    "content_rowid='id', tokenize='unicode61')",
    "INSERT INTO items_fts(items_fts) VALUES ('rebuild')",
    "CREATE TRIGGER items_fts_ai AFTER INSERT ON items BEGIN "
    "INSERT INTO items_fts(rowid, title, body) VALUES (new.id, new.title, new.body); END",
    "CREATE TRIGGER items_fts_ad AFTER DELETE ON items BEGIN "
    "INSERT INTO items_fts(items_fts, rowid, title, body) "
    "VALUES ('delete', old.id, old.title, old.body); END",
    "CREATE TRIGGER items_fts_au AFTER UPDATE OF title, body ON items BEGIN "
    "INSERT INTO items_fts(items_fts, rowid, title, body) "
    "VALUES ('delete', old.id, old.title, old.body); "
    "INSERT INTO items_fts(rowid, title, body) VALUES (new.id, new.title, new.body); END",
]
POSTGRES = [
    "CREATE INDEX ix_items_fulltext ON items USING gin "
    "(to_tsvector('simple', coalesce(title, '') || ' ' || coalesce(body, '')))",
]


def upgrade() -> None:
    statements = SQLITE if op.get_bind().dialect.name == "sqlite" else POSTGRES
    for sql in statements:
        op.execute(sql)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for name in ("items_fts_ai", "items_fts_ad", "items_fts_au"):
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        op.execute("DROP TABLE IF EXISTS items_fts")
    else:
        op.execute("DROP INDEX IF EXISTS ix_items_fulltext")
