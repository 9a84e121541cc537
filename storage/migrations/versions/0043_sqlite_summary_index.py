"""segments on SQLite: one index carrying every summary column the refresh reads (its
whole-group reads then scan the narrow index, not the wide rows), in place of the index of
the day's counts, whose columns lead it; PostgreSQL keeps its index (see models.py)

Revision ID: 0043
Revises: 0042
Create Date: 2026-12-22 10:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0043"
down_revision: str | None = "0042"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SUMMARY = [
    "chat_id", "present", "stage", "rfm_segment", "tier", "joined_at", "last_active_at",
    "last_order_at", "w_orders", "w_days", "w_spend", "rfm_r", "rfm_f", "rfm_m", "user_id",
]  # fmt: skip


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    op.create_index("ix_memberships_summary", "memberships", SUMMARY)
    op.drop_index("ix_memberships_chat_segments", table_name="memberships")


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    op.create_index(
        "ix_memberships_chat_segments",
        "memberships",
        ["chat_id", "present", "stage", "rfm_segment", "tier"],
    )
    op.drop_index("ix_memberships_summary", table_name="memberships")
