"""the dashboard's members table: partial indexes of present members by group and the
columns it sorts on (points, spend, orders, last active), the user id breaking ties

Revision ID: 0040
Revises: 0030
Create Date: 2026-12-20 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0040"
down_revision: str | None = "0030"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = ("points", "spend", "orders", "last_active_at")


def upgrade() -> None:
    for column in COLUMNS:
        op.create_index(
            f"ix_memberships_present_{column}",
            "memberships",
            ["chat_id", column, "user_id"],
            sqlite_where=sa.text("present = 1"),
            postgresql_where=sa.text("present"),
        )


def downgrade() -> None:
    for column in COLUMNS:
        op.drop_index(f"ix_memberships_present_{column}", table_name="memberships")
