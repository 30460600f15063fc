"""An index on items.merged_at: the alert receivers count the PRs merged in the last day
for every new incident, which scanned every item of a big mirror (100 ms an alert at 91k).

Revision ID: 0007
Revises: 0006
"""

from alembic import op

revision = "0007"
down_revision = "0006"


def upgrade() -> None:
    op.create_index("ix_items_merged", "items", ["merged_at"])


def downgrade() -> None:
    op.drop_index("ix_items_merged", table_name="items")
