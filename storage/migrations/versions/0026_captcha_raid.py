"""captcha and raid mode: one pending captcha per group, member and join (a redelivered join
acts once), moved out of `pending` once by a conditional UPDATE, its minutes counted from
when a prompt first shows it (`shown_at`); each group's raid state

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-15 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0026"
down_revision: str | None = "0025"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "captchas",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("chat_id", BigId, nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("joined_at", TZ, nullable=False),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("question", sa.String(16), nullable=False),
        sa.Column("options", sa.String(64), nullable=False),
        sa.Column("salt", sa.String(16), nullable=False),
        sa.Column("answer_hash", sa.String(32), nullable=False),
        sa.Column("deadline", TZ, nullable=True),  # shown_at + captcha_minutes
        sa.Column("via_request", sa.Boolean(), nullable=False),
        sa.Column("prompt_chat_id", sa.BigInteger(), nullable=True),
        sa.Column("prompt_message_id", sa.BigInteger(), nullable=True),
        sa.Column("status", sa.String(8), nullable=False),
        sa.Column("decided_at", TZ, nullable=True),
        sa.Column("shown_at", TZ, nullable=True),  # None: waits for a prompt, never expires
        sa.ForeignKeyConstraint(
            ["chat_id"], ["chats.id"], name=op.f("fk_captchas_chat_id_chats"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_captchas")),
        sa.UniqueConstraint(
            "chat_id", "user_id", "joined_at", name=op.f("uq_captchas_chat_id_user_id_joined_at")
        ),
    )
    op.create_index("ix_captchas_status_deadline", "captchas", ["status", "deadline"])
    op.create_index("ix_captchas_chat_user", "captchas", ["chat_id", "user_id", "status"])
    op.create_table(
        "raid_states",
        sa.Column("chat_id", BigId, nullable=False),
        sa.Column("on_since", TZ, nullable=True),
        sa.Column("last_join", TZ, nullable=True),
        sa.Column("told_at", TZ, nullable=True),
        sa.ForeignKeyConstraint(
            ["chat_id"],
            ["chats.id"],
            name=op.f("fk_raid_states_chat_id_chats"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("chat_id", name=op.f("pk_raid_states")),
    )


def downgrade() -> None:
    op.drop_table("raid_states")
    op.drop_index("ix_captchas_chat_user", table_name="captchas")
    op.drop_index("ix_captchas_status_deadline", table_name="captchas")
    op.drop_table("captchas")
