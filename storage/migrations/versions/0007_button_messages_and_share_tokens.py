"""button messages, offer purpose, team share tokens

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30 08:00:00
"""

import secrets
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "button_messages",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("chat_id", sa.BigInteger(), nullable=False),
        sa.Column("message_id", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("object_id", sa.BigInteger(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_button_messages")),
        sa.UniqueConstraint(
            "chat_id",
            "message_id",
            "kind",
            "object_id",
            name=op.f("uq_button_messages_chat_id_message_id_kind_object_id"),
        ),
    )
    with op.batch_alter_table("coupon_templates") as batch:
        batch.add_column(
            sa.Column("purpose", sa.String(length=16), server_default="offer", nullable=False)
        )
    with op.batch_alter_table("teams") as batch:
        batch.add_column(sa.Column("share_token", sa.String(length=32), nullable=True))
        batch.create_unique_constraint(op.f("uq_teams_share_token"), ["share_token"])

    conn = op.get_bind()
    # Offers that pay out group-buy completions were claimable by a forged tap: no longer.
    conn.execute(
        sa.text(
            "UPDATE coupon_templates SET purpose = 'groupbuy' "
            "WHERE id IN (SELECT offer_id FROM deals)"
        )
    )
    # Bot messages that already carry buttons stay tappable.
    now = sa.func.now() if conn.dialect.name == "postgresql" else sa.text("CURRENT_TIMESTAMP")
    for kind, select in (
        ("deal", "SELECT c.telegram_id, d.message_id, d.id FROM deals d "
                 "JOIN chats c ON c.id = d.chat_id WHERE d.message_id IS NOT NULL"),
        ("team", "SELECT c.telegram_id, t.chat_message_id, t.id FROM teams t "
                 "JOIN deals d ON d.id = t.deal_id JOIN chats c ON c.id = d.chat_id "
                 "WHERE t.chat_message_id IS NOT NULL"),
        ("broadcast", "SELECT progress_chat_id, progress_message_id, id FROM broadcasts "
                      "WHERE progress_message_id IS NOT NULL"),
    ):  # fmt: skip
        for chat_id, message_id, object_id in conn.execute(sa.text(select)).all():
            conn.execute(
                sa.insert(sa.table(
                    "button_messages", sa.column("chat_id"), sa.column("message_id"),
                    sa.column("kind"), sa.column("object_id"), sa.column("created_at"),
                )).values(
                    chat_id=chat_id, message_id=message_id, kind=kind, object_id=object_id,
                    created_at=now,
                )
            )  # fmt: skip
    teams = sa.table("teams", sa.column("id"), sa.column("share_token"))
    for (team_id,) in conn.execute(sa.text("SELECT id FROM teams")).all():
        conn.execute(
            sa.update(teams)
            .where(teams.c.id == team_id)
            .values(share_token=secrets.token_urlsafe(12))
        )


def downgrade() -> None:
    with op.batch_alter_table("teams") as batch:
        batch.drop_constraint(op.f("uq_teams_share_token"), type_="unique")
        batch.drop_column("share_token")
    with op.batch_alter_table("coupon_templates") as batch:
        batch.drop_column("purpose")
    op.drop_table("button_messages")
