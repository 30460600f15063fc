"""CI results: jobs, tests, runs, failures and flakes, daily counts, logs, regressions.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"

T = sa.String(32)


def _jobs_tests() -> None:
    op.create_table(
        "ci_jobs",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("name", sa.String(512), nullable=False, unique=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("variants", sa.String(512), nullable=False),
        sa.Column("first_seen_at", T, nullable=False),
    )
    op.create_table(
        "ci_tests",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("suite", sa.String(512), nullable=False),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("digest", sa.String(40), nullable=False, unique=True),
        sa.Column("component", sa.String(128), nullable=False),
        sa.Column("lifecycle", sa.String(16), nullable=False),
    )
    for name in ("ci_rosters", "ci_texts"):
        op.create_table(
            name,
            sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
            sa.Column("digest", sa.String(40), nullable=False, unique=True),
            sa.Column("tests" if name == "ci_rosters" else "text", sa.Text, nullable=False),
        )


def _runs() -> None:
    op.create_table(
        "ci_runs",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("source", sa.String(1024), nullable=False),
        sa.Column("path", sa.String(1024), nullable=False),
        sa.Column(
            "job_id", sa.Integer, sa.ForeignKey("ci_jobs.id", ondelete="CASCADE"), nullable=False
        ),
        sa.Column("build", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("repo", sa.String(255)),
        sa.Column("pr", sa.Integer),
        sa.Column("pr_author", sa.String(255)),
        sa.Column("started_at", T),
        sa.Column("finished_at", T),
        sa.Column("day", sa.String(10)),
        sa.Column("version", sa.String(64)),
        sa.Column("url", sa.String(1024)),
        sa.Column("tests", sa.Integer, nullable=False),
        sa.Column("failures", sa.Integer, nullable=False),
        sa.Column("flakes", sa.Integer, nullable=False),
        sa.Column("skipped", sa.Integer, nullable=False),
        sa.Column("roster_id", sa.Integer, sa.ForeignKey("ci_rosters.id")),
        sa.Column("errors", sa.Text),
        sa.Column("imported_at", T, nullable=False),
        sa.UniqueConstraint("source", "path", name="uq_ci_runs_source_path"),
    )
    op.create_index("ix_ci_runs_job_started", "ci_runs", ["job_id", "started_at"])
    op.create_index("ix_ci_runs_day", "ci_runs", ["day"])


def _results() -> None:
    op.create_table(
        "ci_results",
        sa.Column(
            "run_id",
            sa.Integer,
            sa.ForeignKey("ci_runs.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column(
            "test_id",
            sa.Integer,
            sa.ForeignKey("ci_tests.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("status", sa.Integer, nullable=False),
        sa.Column("text_id", sa.Integer, sa.ForeignKey("ci_texts.id")),
        sa.Column("seconds", sa.Float),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("masked", sa.Boolean, nullable=False),
    )
    op.create_index("ix_ci_results_test", "ci_results", ["test_id", "run_id"])
    op.create_index("ix_ci_results_text", "ci_results", ["text_id"])
    op.create_table(
        "ci_daily",
        sa.Column("day", sa.String(10), primary_key=True),
        sa.Column(
            "job_id", sa.Integer, sa.ForeignKey("ci_jobs.id", ondelete="CASCADE"), primary_key=True
        ),
        sa.Column(
            "test_id",
            sa.Integer,
            sa.ForeignKey("ci_tests.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("runs", sa.Integer, nullable=False),
        sa.Column("passes", sa.Integer, nullable=False),
        sa.Column("flakes", sa.Integer, nullable=False),
        sa.Column("failures", sa.Integer, nullable=False),
    )
    op.create_index("ix_ci_daily_test", "ci_daily", ["test_id", "day"])
    op.create_table(
        "ci_daily_variants",
        sa.Column("day", sa.String(10), primary_key=True),
        sa.Column("variants", sa.String(512), primary_key=True),
        sa.Column(
            "test_id",
            sa.Integer,
            sa.ForeignKey("ci_tests.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("runs", sa.Integer, nullable=False),
        sa.Column("passes", sa.Integer, nullable=False),
        sa.Column("flakes", sa.Integer, nullable=False),
        sa.Column("failures", sa.Integer, nullable=False),
    )


def _logs_regressions() -> None:
    op.create_table(
        "ci_logs",
        sa.Column(
            "run_id", sa.Integer, sa.ForeignKey("ci_runs.id", ondelete="CASCADE"), primary_key=True
        ),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("tail", sa.LargeBinary, nullable=False),
    )
    op.create_table(
        "ci_regressions",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column(
            "test_id",
            sa.Integer,
            sa.ForeignKey("ci_tests.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("variants", sa.Text, nullable=False),
        sa.Column("component", sa.String(128), nullable=False),
        sa.Column("status", sa.Integer, nullable=False),
        sa.Column("p", sa.Float),
        sa.Column("explanation", sa.Text),
        sa.Column("opened_at", T, nullable=False),
        sa.Column("closed_at", T),
        sa.Column("last_failure", T),
        sa.Column("max_failures", sa.Integer, nullable=False),
        sa.Column("issue", sa.String(255)),
        sa.Column("triaged_at", T),
    )
    op.create_index("ix_ci_regressions_cell", "ci_regressions", ["test_id", "variants"])


def upgrade() -> None:
    _jobs_tests()
    _runs()
    _results()
    _logs_regressions()


def downgrade() -> None:
    for name in (
        "ci_regressions",
        "ci_logs",
        "ci_daily_variants",
        "ci_daily",
        "ci_results",
        "ci_runs",
        "ci_texts",
        "ci_rosters",
        "ci_tests",
        "ci_jobs",
    ):
        op.drop_table(name)
