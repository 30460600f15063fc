"""Alert triage: incidents, signals, feedback, the page outbox, log templates, the issues
of recurring incidents, models.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"

T = sa.String(32)
S = sa.String(255)


def _incidents() -> None:
    op.create_table(
        "alert_incidents",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("group_key", sa.String(1024), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("name", S, nullable=False),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("namespace", S, nullable=False),
        sa.Column("workload", S, nullable=False),
        sa.Column("cluster", S, nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("runbook", sa.String(1024), nullable=False),
        sa.Column("opened_at", T, nullable=False),
        sa.Column("last_at", T, nullable=False),
        sa.Column("closed_at", T),
        sa.Column("open_keys", sa.Text, nullable=False),
        sa.Column("signals", sa.Integer, nullable=False),
        sa.Column("flaps", sa.Integer, nullable=False),
        sa.Column("decision", sa.String(16), nullable=False),
        sa.Column("shadow", sa.Boolean, nullable=False),
        sa.Column("score", sa.Float, nullable=False),
        sa.Column("threshold", sa.Float, nullable=False),
        sa.Column("model", sa.String(64), nullable=False),
        sa.Column("features", sa.Text, nullable=False),
        sa.Column("explanation", sa.Text, nullable=False),
        sa.Column("digested_at", T),
    )
    op.create_index("ix_alert_incidents_group", "alert_incidents", ["group_key", "last_at"])
    op.create_index("ix_alert_incidents_opened", "alert_incidents", ["opened_at"])
    op.create_index(
        "ix_alert_incidents_name", "alert_incidents", ["name", "namespace", "opened_at"]
    )


def _signals() -> None:
    op.create_table(
        "alert_signals",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("dedup", S, nullable=False, unique=True),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("key", sa.String(512), nullable=False),
        sa.Column("name", S, nullable=False),
        sa.Column("severity", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("at", T, nullable=False),
        sa.Column("received_at", T, nullable=False),
        *[sa.Column(c, S, nullable=False) for c in ("namespace", "workload", "pod", "node")],
        sa.Column("cluster", S, nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("link", sa.String(2048), nullable=False),
        sa.Column("labels", sa.Text, nullable=False),
        sa.Column("occurrences", sa.Integer, nullable=False),
        sa.Column("group_key", sa.String(1024), nullable=False),
        sa.Column("truncated", sa.Integer, nullable=False),
        sa.Column("template_id", sa.Integer),
        sa.Column(
            "incident_id",
            sa.Integer,
            sa.ForeignKey("alert_incidents.id", ondelete="SET NULL"),
        ),
    )
    op.create_index(
        "ix_alert_signals_workload_at", "alert_signals", ["namespace", "workload", "at"]
    )
    op.create_index("ix_alert_signals_at", "alert_signals", ["at"])
    op.create_index("ix_alert_signals_key_at", "alert_signals", ["key", "at"])
    op.create_index("ix_alert_signals_incident", "alert_signals", ["incident_id"])


def _feedback_outbox() -> None:
    incident = sa.ForeignKey("alert_incidents.id", ondelete="CASCADE")
    op.create_table(
        "alert_feedback",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("incident_id", sa.Integer, incident, nullable=False),
        sa.Column("needs_human", sa.Boolean, nullable=False),
        sa.Column("explicit", sa.Boolean, nullable=False),
        sa.Column("via", sa.String(16), nullable=False),
        sa.Column("user", S, nullable=False),
        sa.Column("at", T, nullable=False),
        sa.Column("note", sa.Text, nullable=False),
    )
    op.create_index("ix_alert_feedback_incident", "alert_feedback", ["incident_id"])
    op.create_table(
        "alert_outbox",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column(
            "incident_id",
            sa.Integer,
            sa.ForeignKey("alert_incidents.id", ondelete="CASCADE"),
            nullable=False,
        ),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("created_at", T, nullable=False),
        sa.Column("sent_at", T),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("error", sa.Text),
        sa.UniqueConstraint("incident_id", "kind", name="uq_alert_outbox_incident_kind"),
    )


def _templates_models() -> None:
    op.create_table(
        "alert_templates",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("tokens", sa.Text, nullable=False),
        sa.Column("count", sa.Integer, nullable=False),
        sa.Column("first_at", T, nullable=False),
        sa.Column("last_at", T, nullable=False),
    )
    op.create_table(
        "alert_issues",
        sa.Column("group_key", sa.String(1024), primary_key=True),
        sa.Column("repo", S, nullable=False),
        sa.Column("number", sa.Integer, nullable=False),
        sa.Column("occurrences", sa.Integer, nullable=False),
        sa.Column("updated_at", T, nullable=False),
    )
    op.create_table(
        "alert_models",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("created_at", T, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("metrics", sa.Text, nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
    )


def upgrade() -> None:
    _incidents()
    _signals()
    _feedback_outbox()
    _templates_models()


def downgrade() -> None:
    for name in (
        "alert_models",
        "alert_issues",
        "alert_templates",
        "alert_outbox",
        "alert_feedback",
        "alert_signals",
        "alert_incidents",
    ):
        op.drop_table(name)
