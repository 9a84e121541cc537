"""points shop, redemptions, points expiry and its reminders

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-30 19:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TZ = sa.DateTime(timezone=True)


def _chat_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["chat_id"], ["chats.id"], name=op.f(f"fk_{table}_chat_id_chats"), ondelete="CASCADE"
    )


def upgrade() -> None:
    with op.batch_alter_table("chats") as batch:
        batch.add_column(
            sa.Column(
                "points_expiry_months", sa.Integer(), nullable=False, server_default=sa.text("0")
            )
        )
    op.create_table(
        "shop_items",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("chat_id", BigId, nullable=False),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("price", sa.BigInteger(), nullable=False),
        sa.Column("offer_id", BigId, nullable=True),
        sa.Column("stock", sa.Integer(), nullable=True),
        sa.Column("sold", sa.Integer(), nullable=False, server_default=sa.text("0")),
        sa.Column("status", sa.String(8), nullable=False, server_default="active"),
        sa.Column("makeup_every_days", sa.Integer(), nullable=True),
        sa.Column("created_at", TZ, nullable=False),
        _chat_fk("shop_items"),
        sa.ForeignKeyConstraint(
            ["offer_id"],
            ["coupon_templates.id"],
            name=op.f("fk_shop_items_offer_id_coupon_templates"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shop_items")),
    )
    op.create_index("ix_shop_items_chat_status", "shop_items", ["chat_id", "status"])
    op.create_table(
        "shop_redemptions",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("item_id", BigId, nullable=False),
        sa.Column("chat_id", BigId, nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("price", sa.BigInteger(), nullable=False),
        sa.Column("idempotency_key", sa.String(128), nullable=False),
        sa.Column("coupon_code", sa.String(16), nullable=True),
        sa.Column("at", TZ, nullable=False),
        _chat_fk("shop_redemptions"),
        sa.ForeignKeyConstraint(
            ["item_id"],
            ["shop_items.id"],
            name=op.f("fk_shop_redemptions_item_id_shop_items"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shop_redemptions")),
        sa.UniqueConstraint("idempotency_key", name=op.f("uq_shop_redemptions_idempotency_key")),
    )
    op.create_index("ix_shop_redemptions_chat_user", "shop_redemptions", ["chat_id", "user_id"])
    op.create_table(
        "points_reminders",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("chat_id", BigId, nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("expires_on", sa.Date(), nullable=False),
        sa.Column("at", TZ, nullable=False),
        _chat_fk("points_reminders"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_points_reminders")),
        sa.UniqueConstraint(
            "chat_id",
            "user_id",
            "expires_on",
            name=op.f("uq_points_reminders_chat_id_user_id_expires_on"),
        ),
    )


def downgrade() -> None:
    op.drop_table("points_reminders")
    op.drop_index("ix_shop_redemptions_chat_user", table_name="shop_redemptions")
    op.drop_table("shop_redemptions")
    op.drop_index("ix_shop_items_chat_status", table_name="shop_items")
    op.drop_table("shop_items")
    with op.batch_alter_table("chats") as batch:
        batch.drop_column("points_expiry_months")
