"""Failed runs' whole build logs as chunks, and a trigram index over them (``ci search``
over months). SQLite: a contentless FTS5 ``trigram`` table ``ci_log_grams`` (rowid = chunk
id); PostgreSQL: ``pg_trgm``'s GIN index on the chunk text, when the extension can be
created (it is trusted: a database owner may); without it searches scan the chunks.
Neither index is in ``schema.py``: ``kubesift.ci.logs`` is the only code that reads them.

Revision ID: 0009
Revises: 0008
"""

import logging

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
LOG = logging.getLogger("kubesift.store")


def upgrade() -> None:
    op.create_table(
        "ci_log_chunks",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column(
            "run_id", sa.Integer, sa.ForeignKey("ci_runs.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("size", sa.Integer, nullable=False),
        sa.Column("body", sa.LargeBinary),
        sa.Column("text", sa.Text),
        sa.UniqueConstraint("run_id", "seq", name="uq_ci_log_chunks_run_seq"),
        sqlite_autoincrement=True,
    )
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        op.execute(
            "CREATE VIRTUAL TABLE ci_log_grams USING fts5(body, content='', tokenize='trigram')"
        )
        return
    try:
        with bind.begin_nested():
            op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    except sa.exc.DBAPIError as exc:
        LOG.warning("pg_trgm is not available (%s); log searches will scan", exc.orig)
        return
    op.execute("CREATE INDEX ix_ci_log_chunks_trgm ON ci_log_chunks USING gin (text gin_trgm_ops)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP TABLE IF EXISTS ci_log_grams")
    else:
        op.execute("DROP INDEX IF EXISTS ix_ci_log_chunks_trgm")
    op.drop_table("ci_log_chunks")
