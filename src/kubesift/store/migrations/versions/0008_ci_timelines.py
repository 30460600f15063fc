"""CI run timelines (one compressed row per run), the commit each run tested (the bot's CI
section is refreshed when GitHub reports a status for that commit), and symptoms: their
definitions, the failed runs each labels, and a failed run's file list.

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
        batch.add_column(sa.Column("pod_state", sa.String(16)))
        batch.add_column(sa.Column("pod_message", sa.String(255)))
    op.create_index("ix_ci_runs_sha", "ci_runs", ["sha"])
    op.create_table(
        "ci_symptoms",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("summary", sa.String(200), nullable=False),
        sa.Column("matcher", sa.String(16), nullable=False),
        sa.Column("pattern", sa.Text, nullable=False),
        sa.Column("target", sa.String(16), nullable=False),
        sa.Column("origin", sa.String(16), nullable=False),
        sa.Column("digest", sa.String(16), nullable=False),
        sa.Column("updated_at", sa.String(32), nullable=False),
    )
    op.create_table(
        "ci_run_symptoms",
        sa.Column(
            "run_id", sa.Integer, sa.ForeignKey("ci_runs.id", ondelete="CASCADE"), primary_key=True
        ),
        sa.Column(
            "symptom_id",
            sa.String(64),
            sa.ForeignKey("ci_symptoms.id", ondelete="CASCADE"),
            primary_key=True,
        ),
    )
    op.create_index("ix_ci_run_symptoms_symptom", "ci_run_symptoms", ["symptom_id", "run_id"])
    op.create_table(
        "ci_allowances",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("test", sa.Text, nullable=False),
        sa.Column("variants", sa.Text, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("issue", sa.String(255), nullable=False),
        sa.Column("successes", sa.Integer, nullable=False),
        sa.Column("failures", sa.Integer, nullable=False),
        sa.Column("flakes", sa.Integer, nullable=False),
        sa.Column("added_at", sa.String(32), nullable=False),
    )
    op.create_table(
        "ci_renames",
        sa.Column("old", sa.Text, primary_key=True),
        sa.Column("new", sa.Text, nullable=False),
        sa.Column("added_at", sa.String(32), nullable=False),
    )
    op.create_table(
        "ci_triages",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("issue", sa.String(255), nullable=False),
        sa.Column("type", sa.String(16), nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("created_at", sa.String(32), nullable=False),
        sa.Column("resolved_at", sa.String(32)),
        sa.Column("resolution", sa.String(32)),
    )
    op.create_table(
        "ci_triage_regressions",
        sa.Column(
            "triage_id",
            sa.Integer,
            sa.ForeignKey("ci_triages.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column(
            "regression_id",
            sa.Integer,
            sa.ForeignKey("ci_regressions.id", ondelete="CASCADE"),
            primary_key=True,
        ),
    )
    op.create_index(
        "ix_ci_triage_regressions_regression", "ci_triage_regressions", ["regression_id"]
    )
    op.create_table(
        "ci_run_files",
        sa.Column(
            "run_id", sa.Integer, sa.ForeignKey("ci_runs.id", ondelete="CASCADE"), primary_key=True
        ),
        sa.Column("files", sa.Integer, nullable=False),
        sa.Column("paths", sa.LargeBinary, nullable=False),
    )


def downgrade() -> None:
    op.drop_index("ix_ci_triage_regressions_regression", table_name="ci_triage_regressions")
    op.drop_table("ci_triage_regressions")
    op.drop_table("ci_triages")
    op.drop_table("ci_renames")
    op.drop_table("ci_allowances")
    op.drop_table("ci_run_files")
    op.drop_index("ix_ci_run_symptoms_symptom", table_name="ci_run_symptoms")
    op.drop_table("ci_run_symptoms")
    op.drop_table("ci_symptoms")
    op.drop_index("ix_ci_runs_sha", table_name="ci_runs")
    with op.batch_alter_table("ci_runs") as batch:
        batch.drop_column("pod_message")
        batch.drop_column("pod_state")
        batch.drop_column("sha")
    op.drop_table("ci_timelines")
