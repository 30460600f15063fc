"""The reconciler: runs, decisions and the lock that lets one reconciler act at a time.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"

T = sa.String(32)


def upgrade() -> None:
    op.create_table(
        "reconcile_runs",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("holder", sa.String(255), nullable=False),
        sa.Column("steps", sa.String(255), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("started_at", T, nullable=False),
        sa.Column("finished_at", T),
        sa.Column("error", sa.Text),
    )
    op.create_table(
        "reconcile_decisions",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("run_id", sa.Integer, sa.ForeignKey("reconcile_runs.id", ondelete="CASCADE")),
        sa.Column("controller", sa.String(32), nullable=False),
        sa.Column("action", sa.String(32), nullable=False),
        sa.Column("subject", sa.String(255)),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("details", sa.Text),
        sa.Column("created_at", T, nullable=False),
    )
    op.create_index("ix_reconcile_decisions_subject", "reconcile_decisions", ["subject", "id"])
    op.create_table(
        "reconcile_locks",
        sa.Column("name", sa.String(64), primary_key=True),
        sa.Column("holder", sa.String(255)),
        sa.Column("acquired_at", T),
        sa.Column("expires_at", T),
    )


def downgrade() -> None:
    for name in ("reconcile_locks", "reconcile_decisions", "reconcile_runs"):
        op.drop_table(name)
