"""daily_stats: the daily rollup /stats reads; member_days by day

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-01 02:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
COUNTERS = (
    "joins", "leaves", "messages", "active", "checkins", "invites_confirmed",
    "coupons_claimed", "coupons_redeemed", "discount", "orders", "gmv", "first_orders",
)  # fmt: skip


def upgrade() -> None:
    op.create_table(
        "daily_stats",
        sa.Column("chat_id", BigId, nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        *(
            sa.Column(name, sa.BigInteger(), nullable=False, server_default=sa.text("0"))
            for name in COUNTERS
        ),
        sa.ForeignKeyConstraint(
            ["chat_id"], ["chats.id"], name=op.f("fk_daily_stats_chat_id_chats"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("chat_id", "day", name=op.f("pk_daily_stats")),
    )
    op.create_index("ix_member_days_chat_day", "member_days", ["chat_id", "day", "user_id"])
    # what /stats, the funnels and the cohorts read by period
    op.create_index("ix_coupons_chat_issued", "coupons", ["chat_id", "issued_at"])
    op.create_index("ix_orders_chat_at", "orders", ["chat_id", "at"])
    op.create_index("ix_memberships_chat_joined", "memberships", ["chat_id", "joined_at"])


def downgrade() -> None:
    op.drop_index("ix_memberships_chat_joined", table_name="memberships")
    op.drop_index("ix_orders_chat_at", table_name="orders")
    op.drop_index("ix_coupons_chat_issued", table_name="coupons")
    op.drop_index("ix_member_days_chat_day", table_name="member_days")
    op.drop_table("daily_stats")
