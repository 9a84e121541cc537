"""points expiry: the grace after turning it on or shortening it, and the expiry notice

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-01 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("chats") as batch:
        batch.add_column(sa.Column("points_expire_from", sa.Date(), nullable=True))
    with op.batch_alter_table("points_reminders") as batch:
        batch.add_column(sa.Column("told_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("points_reminders") as batch:
        batch.drop_column("told_at")
    with op.batch_alter_table("chats") as batch:
        batch.drop_column("points_expire_from")
