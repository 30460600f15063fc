"""CI run timelines (one compressed row per run) and the commit each run tested (the
bot's CI section is refreshed when GitHub reports a status for that commit).

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"


def upgrade() -> None:
    op.create_table(
        "ci_timelines",
        sa.Column(
            "run_id", sa.Integer, sa.ForeignKey("ci_runs.id", ondelete="CASCADE"), primary_key=True
        ),
        sa.Column("intervals", sa.Integer, nullable=False),
        sa.Column("failed", sa.Integer, nullable=False),
        sa.Column("body", sa.LargeBinary, nullable=False),
    )
    with op.batch_alter_table("ci_runs") as batch:
        batch.add_column(sa.Column("sha", sa.String(64)))
    op.create_index("ix_ci_runs_sha", "ci_runs", ["sha"])


def downgrade() -> None:
    op.drop_index("ix_ci_runs_sha", table_name="ci_runs")
    with op.batch_alter_table("ci_runs") as batch:
        batch.drop_column("sha")
    op.drop_table("ci_timelines")
