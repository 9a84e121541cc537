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
    with op.batch_alter_table("chats") as batch:
        batch.add_column(sa.Column("rfm_by_orders", sa.Boolean(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("chats") as batch:
        batch.drop_column("rfm_by_orders")
