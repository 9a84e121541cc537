"""moderation: the mod log (one row per action, once per group, update and kind) and each
group's order-keeping settings

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-14 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0025"
down_revision: str | None = "0024"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("chats") as batch:
        batch.add_column(sa.Column("moderation", sa.JSON(), nullable=True))
    op.create_table(
        "moderation_actions",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("chat_id", BigId, nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(12), nullable=False),
        sa.Column("rule", sa.String(16), nullable=False),
        sa.Column("reason", sa.String(200), nullable=True),
        sa.Column("by_id", sa.BigInteger(), nullable=False),
        sa.Column("at", TZ, nullable=False),
        sa.Column("until", TZ, nullable=True),
        sa.Column("undone_at", TZ, nullable=True),
        sa.Column("failed", sa.String(24), nullable=True),
        sa.Column("update_id", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["chat_id"],
            ["chats.id"],
            name=op.f("fk_moderation_actions_chat_id_chats"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_moderation_actions")),
        sa.UniqueConstraint(
            "chat_id",
            "update_id",
            "kind",
            name=op.f("uq_moderation_actions_chat_id_update_id_kind"),
        ),
    )
    op.create_index(
        "ix_moderation_actions_chat_user", "moderation_actions", ["chat_id", "user_id", "kind"]
    )


def downgrade() -> None:
    op.drop_index("ix_moderation_actions_chat_user", table_name="moderation_actions")
    op.drop_table("moderation_actions")
    with op.batch_alter_table("chats") as batch:
        batch.drop_column("moderation")
