"""watch words (舆情) and their once-an-hour alert rows; FAQ auto-replies (客服话术); the
groups' switches for both

Revision ID: 0024
Revises: 0023
Create Date: 2026-12-14 10:00:00
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0024"
down_revision: str | None = "0023"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TZ = sa.DateTime(timezone=True)


def _group(table: str) -> list[Any]:
    return [
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("chat_id", BigId, nullable=False),
        sa.ForeignKeyConstraint(
            ["chat_id"], ["chats.id"], name=op.f(f"fk_{table}_chat_id_chats"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{table}")),
    ]


def upgrade() -> None:
    with op.batch_alter_table("chats") as batch:
        batch.add_column(sa.Column("listening", sa.JSON(), nullable=True))
    op.create_table(
        "watch_words",
        *_group("watch_words"),
        sa.Column("word", sa.String(32), nullable=False),
        sa.Column("created_by", sa.BigInteger(), nullable=True),
        sa.Column("created_at", TZ, nullable=False),
        sa.UniqueConstraint("chat_id", "word", name=op.f("uq_watch_words_chat_id_word")),
    )
    op.create_table(
        "watch_alerts",
        *_group("watch_alerts"),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("sent_at", TZ, nullable=False),
        sa.UniqueConstraint("chat_id", "user_id", name=op.f("uq_watch_alerts_chat_id_user_id")),
    )
    op.create_table(
        "faqs",
        *_group("faqs"),
        sa.Column("key", sa.String(255), nullable=False),
        sa.Column("question", sa.String(255), nullable=False),
        sa.Column("answer", sa.Text(), nullable=False),
        sa.Column("created_by", sa.BigInteger(), nullable=True),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("updated_at", TZ, nullable=False),
        sa.Column("answered_at", TZ, nullable=True),
        sa.Column("answered", sa.Integer(), server_default="0", nullable=False),
        sa.UniqueConstraint("chat_id", "key", name=op.f("uq_faqs_chat_id_key")),
    )


def downgrade() -> None:
    op.drop_table("faqs")
    op.drop_table("watch_alerts")
    op.drop_table("watch_words")
    with op.batch_alter_table("chats") as batch:
        batch.drop_column("listening")
