"""channels (渠道) as a dimension: a placement's cost on its invite link, and a channel
attached to at most one campaign (its cost is counted once)

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-12 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("invite_links") as batch:
        batch.add_column(sa.Column("cost", sa.BigInteger(), nullable=True))
    op.create_index(
        "uq_campaign_items_channel",
        "campaign_items",
        ["kind", "ref"],
        unique=True,
        sqlite_where=sa.text("kind = 'channel'"),
        postgresql_where=sa.text("kind = 'channel'"),
    )


def downgrade() -> None:
    op.drop_index("uq_campaign_items_channel", table_name="campaign_items")
    with op.batch_alter_table("invite_links") as batch:
        batch.drop_column("cost")
