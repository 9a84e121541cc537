"""coupon offer A/B tests: coupon_templates.variants, holdout, planned; coupons.arm;
coupon_holdouts (members an audience grant held out)

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-11 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.add_column("coupon_templates", sa.Column("variants", sa.JSON(), nullable=True))
    op.add_column(
        "coupon_templates",
        sa.Column("holdout", sa.Integer(), nullable=False, server_default=sa.text("0")),
    )
    op.add_column("coupon_templates", sa.Column("planned", sa.Integer(), nullable=True))
    op.add_column("coupons", sa.Column("arm", sa.String(length=8), nullable=True))
    op.create_table(
        "coupon_holdouts",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("template_id", BigId, nullable=False),
        sa.Column("chat_id", BigId, nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("held_at", TZ, nullable=False),
        sa.ForeignKeyConstraint(
            ["template_id"],
            ["coupon_templates.id"],
            name=op.f("fk_coupon_holdouts_template_id_coupon_templates"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["chat_id"],
            ["chats.id"],
            name=op.f("fk_coupon_holdouts_chat_id_chats"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_coupon_holdouts")),
        sa.UniqueConstraint(
            "template_id", "user_id", name=op.f("uq_coupon_holdouts_template_id_user_id")
        ),
    )


def downgrade() -> None:
    op.drop_table("coupon_holdouts")
    with op.batch_alter_table("coupons") as batch:
        batch.drop_column("arm")
    with op.batch_alter_table("coupon_templates") as batch:
        batch.drop_column("planned")
        batch.drop_column("holdout")
        batch.drop_column("variants")
