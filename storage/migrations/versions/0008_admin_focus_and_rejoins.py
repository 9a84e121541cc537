"""admin focus (the group an admin manages from a private chat); memberships.present_since

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30 08:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "admin_focus",
        sa.Column("user_id", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("chat_id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("chosen_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["chat_id"], ["chats.id"], name=op.f("fk_admin_focus_chat_id_chats"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("user_id", name=op.f("pk_admin_focus")),
    )
    with op.batch_alter_table("memberships") as batch:
        batch.add_column(sa.Column("present_since", sa.DateTime(timezone=True), nullable=True))
    # Until now joined_at was moved on every rejoin: it is the latest join there is.
    op.execute("UPDATE memberships SET present_since = joined_at WHERE present")


def downgrade() -> None:
    with op.batch_alter_table("memberships") as batch:
        batch.drop_column("present_since")
    op.drop_table("admin_focus")
