"""The labeling bot: durable job queue, decisions, human corrections, repo settings.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"

T = sa.String(32)


def upgrade() -> None:
    op.create_table(
        "bot_jobs",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("delivery_id", sa.String(128), nullable=False, unique=True),
        sa.Column("event", sa.String(64), nullable=False),
        sa.Column("action", sa.String(32)),
        sa.Column("repo", sa.String(255)),
        sa.Column("number", sa.Integer),
        sa.Column("payload", sa.Text, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("next_attempt_at", T, nullable=False),
        sa.Column("locked_by", sa.String(128)),
        sa.Column("locked_until", T),
        sa.Column("received_at", T, nullable=False),
        sa.Column("finished_at", T),
        sa.Column("outcome", sa.String(64)),
        sa.Column("error", sa.Text),
    )
    op.create_index("ix_bot_jobs_status_next", "bot_jobs", ["status", "next_attempt_at"])
    op.create_index("ix_bot_jobs_item", "bot_jobs", ["repo", "number", "status"])
    op.create_table(
        "bot_decisions",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("job_id", sa.Integer, sa.ForeignKey("bot_jobs.id", ondelete="SET NULL")),
        sa.Column("repo", sa.String(255), nullable=False),
        sa.Column("number", sa.Integer, nullable=False),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("label", sa.String(255), nullable=False),
        sa.Column("score", sa.Float, nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("dry_run", sa.Boolean, nullable=False),
        sa.Column("model", sa.String(255)),
        sa.Column("created_at", T, nullable=False),
    )
    op.create_index("ix_bot_decisions_item", "bot_decisions", ["repo", "number"])
    op.create_table(
        "bot_corrections",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("delivery_id", sa.String(128), unique=True),
        sa.Column("repo", sa.String(255), nullable=False),
        sa.Column("number", sa.Integer, nullable=False),
        sa.Column("label", sa.String(255), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("actor", sa.String(255)),
        sa.Column("created_at", T, nullable=False),
    )
    op.create_index("ix_bot_corrections_item", "bot_corrections", ["repo", "number"])
    op.create_table(
        "bot_settings",
        sa.Column("repo", sa.String(255), primary_key=True),
        sa.Column("families", sa.Text),
        sa.Column("target_precision", sa.Float),
        sa.Column("comment", sa.Boolean),
        sa.Column("dry_run", sa.Boolean),
        sa.Column("updated_at", T, nullable=False),
    )


def downgrade() -> None:
    for name in ("bot_settings", "bot_corrections", "bot_decisions", "bot_jobs"):
        op.drop_table(name)
