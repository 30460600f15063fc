"""Repositories, items, labels, label events, release notes and sync state.

Revision ID: 0001
Revises:
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None

T = sa.String(32)

# GitHub ids are BIGINT: issue ids passed 2**31 (PostgreSQL's INTEGER) and event ids are far
# beyond it. They were INTEGER here before the store ran on PostgreSQL; on SQLite both are
# the same 64-bit integer, so stores created by the older text need no migration.


def _fk(table: str) -> sa.ForeignKey:
    return sa.ForeignKey(f"{table}.id", ondelete="CASCADE")


def upgrade() -> None:
    _repositories_and_items()
    _labels_and_events()
    _notes_and_sync_state()


def _repositories_and_items() -> None:
    op.create_table(
        "repositories",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("full_name", sa.String(255), nullable=False, unique=True),
        sa.Column("owner", sa.String(255), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("github_id", sa.BigInteger),
        sa.Column("api_url", sa.String(1024)),
        sa.Column("first_seen_at", T, nullable=False),
    )
    op.create_table(
        "items",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("repository_id", sa.Integer, _fk("repositories"), nullable=False),
        sa.Column("number", sa.Integer, nullable=False),
        sa.Column("github_id", sa.BigInteger),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("title", sa.Text),
        sa.Column("body", sa.Text),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("author", sa.String(255)),
        sa.Column("author_is_bot", sa.Boolean, nullable=False),
        sa.Column("created_at", T),
        sa.Column("updated_at", T),
        sa.Column("closed_at", T),
        sa.Column("merged_at", T),
        sa.Column("closed_by", sa.String(255)),
        sa.Column("comments", sa.Integer),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("raw_json", sa.Text),
        sa.Column("fetched_at", T, nullable=False),
        sa.Column("gone_at", T),
        sa.Column("moved_to", sa.String(1024)),
        sa.UniqueConstraint("repository_id", "number", name="uq_items_repo_number"),
    )
    op.create_index("ix_items_repo_updated", "items", ["repository_id", "updated_at"])
    op.create_index("ix_items_repo_created", "items", ["repository_id", "created_at"])


def _labels_and_events() -> None:
    op.create_table(
        "labels",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("repository_id", sa.Integer, _fk("repositories"), nullable=False),
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("color", sa.String(16)),
        sa.Column("description", sa.Text),
        sa.UniqueConstraint("repository_id", "name", name="uq_labels_repo_name"),
    )
    op.create_table(
        "item_labels",
        sa.Column("item_id", sa.Integer, _fk("items"), primary_key=True),
        sa.Column("label_id", sa.Integer, _fk("labels"), primary_key=True),
    )
    op.create_index("ix_item_labels_label", "item_labels", ["label_id"])
    op.create_table(
        "label_events",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("repository_id", sa.Integer, _fk("repositories"), nullable=False),
        sa.Column("github_id", sa.BigInteger, nullable=False),
        sa.Column("item_number", sa.Integer, nullable=False),
        sa.Column("event", sa.String(16), nullable=False),
        sa.Column("label", sa.String(255), nullable=False),
        sa.Column("actor", sa.String(255)),
        sa.Column("actor_is_bot", sa.Boolean, nullable=False),
        sa.Column("created_at", T, nullable=False),
        sa.UniqueConstraint("repository_id", "github_id", name="uq_label_events_repo_gid"),
    )
    op.create_index("ix_label_events_item", "label_events", ["repository_id", "item_number"])


def _notes_and_sync_state() -> None:
    op.create_table(
        "release_notes",
        sa.Column("item_id", sa.Integer, _fk("items"), primary_key=True),
        sa.Column("source", sa.String(16), primary_key=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("text", sa.Text),
        sa.Column("action_required", sa.Boolean, nullable=False),
        sa.Column("release", sa.String(32)),
        sa.Column("documentation", sa.Text),
        sa.Column("author", sa.String(255)),
    )
    op.create_table(
        "sync_state",
        sa.Column("repository_id", sa.Integer, _fk("repositories"), primary_key=True),
        sa.Column("resource", sa.String(32), primary_key=True),
        sa.Column("watermark", sa.String(64)),
        sa.Column("etag", sa.String(255)),
        sa.Column("etag_url", sa.Text),
        sa.Column("cursor", sa.Text),
        sa.Column("walk_started", sa.String(64)),
        sa.Column("walk_stop", sa.String(64)),
        sa.Column("completed_at", T),
        sa.Column("updated_at", T, nullable=False),
    )
