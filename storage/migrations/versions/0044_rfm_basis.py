"""segments: what F and M counted when a group's segments were written (orders or active
days), so that a refresh checks a member's stored segment only when that changed

Revision ID: 0044
Revises: 0043
Create Date: 2026-12-22 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0044"
down_revision: str | None = "0043"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("chats", sa.Column("rfm_by_orders", sa.Boolean(), nullable=True))


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        # Natively (SQLite 3.35+): a batch copy of `chats` would drop the old table, and with
        # foreign keys on that deletes every row that refers to a group.
        op.execute("ALTER TABLE chats DROP COLUMN rfm_by_orders")
    else:
        op.drop_column("chats", "rfm_by_orders")
