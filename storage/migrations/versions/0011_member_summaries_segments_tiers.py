"""member summaries, segments, tiers, tags and saved audiences

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-30 16:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
ZERO = sa.text("0")


def _create(name: str, *columns: sa.Column, unique: list[str]) -> None:  # type: ignore[type-arg]
    """A table of one group's rows: an id, chat_id (cascading), `columns`, one unique key."""
    op.create_table(
        name,
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("chat_id", BigId, nullable=False),
        *columns,
        sa.ForeignKeyConstraint(
            ["chat_id"], ["chats.id"], name=op.f(f"fk_{name}_chat_id_chats"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{name}")),
        sa.UniqueConstraint(*unique, name=op.f(f"uq_{name}_{'_'.join(unique)}")),
    )


def upgrade() -> None:
    with op.batch_alter_table("chats") as batch:
        batch.add_column(sa.Column("segments", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("tiers", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("rfm_from", sa.Date(), nullable=True))
    with op.batch_alter_table("memberships") as batch:
        batch.add_column(sa.Column("last_active_day", sa.Date(), nullable=True))
        batch.add_column(
            sa.Column("active_days", sa.Integer(), nullable=False, server_default=ZERO)
        )
        batch.add_column(sa.Column("orders", sa.Integer(), nullable=False, server_default=ZERO))
        batch.add_column(sa.Column("spend", sa.BigInteger(), nullable=False, server_default=ZERO))
        batch.add_column(sa.Column("last_order_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(
            sa.Column("points_earned", sa.BigInteger(), nullable=False, server_default=ZERO)
        )
        batch.add_column(sa.Column("w_orders", sa.Integer(), nullable=False, server_default=ZERO))
        batch.add_column(sa.Column("w_spend", sa.BigInteger(), nullable=False, server_default=ZERO))
        batch.add_column(sa.Column("w_days", sa.Integer(), nullable=False, server_default=ZERO))
        batch.add_column(sa.Column("stage", sa.String(16), nullable=True))
        batch.add_column(sa.Column("stage_since", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("rfm_r", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("rfm_f", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("rfm_m", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("rfm_segment", sa.String(24), nullable=True))
        batch.add_column(sa.Column("tier", sa.Integer(), nullable=False, server_default=ZERO))
        batch.add_column(sa.Column("tier_since", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("tier_below_since", sa.DateTime(timezone=True), nullable=True))
    _create(
        "member_months",
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("active_days", sa.Integer(), nullable=False),
        sa.Column("orders", sa.Integer(), nullable=False),
        sa.Column("spend", sa.BigInteger(), nullable=False),
        sa.Column("points_earned", sa.BigInteger(), nullable=False),
        unique=["chat_id", "user_id", "month"],
    )
    _create(
        "member_days",
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        unique=["chat_id", "user_id", "day"],
    )
    _create(
        "segment_counts",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("dimension", sa.String(8), nullable=False),
        sa.Column("key", sa.String(32), nullable=False),
        sa.Column("members", sa.Integer(), nullable=False),
        unique=["chat_id", "day", "dimension", "key"],
    )
    _create(
        "member_tags",
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("tag", sa.String(64), nullable=False),
        sa.Column("source", sa.String(8), nullable=False),
        sa.Column("by", sa.BigInteger(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        unique=["chat_id", "user_id", "tag"],
    )
    op.create_index(op.f("ix_member_tags_chat_tag"), "member_tags", ["chat_id", "tag"])
    _create(
        "audiences",
        sa.Column("name", sa.String(32), nullable=False),
        sa.Column("rule", sa.Text(), nullable=False),
        sa.Column("by", sa.BigInteger(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        unique=["chat_id", "name"],
    )
    _create(
        "tier_rewards",
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        unique=["chat_id", "user_id", "level"],
    )


def downgrade() -> None:
    for table in (
        "tier_rewards", "audiences", "member_tags", "segment_counts", "member_days",
        "member_months",
    ):  # fmt: skip
        op.drop_table(table)
    with op.batch_alter_table("memberships") as batch:
        for column in (
            "tier_below_since", "tier_since", "tier", "rfm_segment", "rfm_m", "rfm_f", "rfm_r",
            "stage_since", "stage", "w_days", "w_spend", "w_orders", "points_earned",
            "last_order_at", "spend", "orders", "active_days", "last_active_day",
        ):  # fmt: skip
            batch.drop_column(column)
    with op.batch_alter_table("chats") as batch:
        batch.drop_column("rfm_from")
        batch.drop_column("tiers")
        batch.drop_column("segments")
