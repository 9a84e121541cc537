"""alerts_sent: each alert to a group's admins once per condition and local day; one
channel link (渠道) of a name per group

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-09 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "alerts_sent",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("chat_id", BigId, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("object_id", sa.BigInteger(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("sent_at", TZ, nullable=False),
        sa.ForeignKeyConstraint(
            ["chat_id"], ["chats.id"], name=op.f("fk_alerts_sent_chat_id_chats"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alerts_sent")),
        sa.UniqueConstraint(
            "chat_id",
            "kind",
            "object_id",
            "day",
            name=op.f("uq_alerts_sent_chat_id_kind_object_id_day"),
        ),
    )
    op.create_index(
        "uq_invite_links_channel_name",
        "invite_links",
        ["chat_id", "name"],
        unique=True,
        sqlite_where=sa.text("kind = 'channel'"),
        postgresql_where=sa.text("kind = 'channel'"),
    )


def downgrade() -> None:
    op.drop_index("uq_invite_links_channel_name", table_name="invite_links")
    op.drop_table("alerts_sent")
