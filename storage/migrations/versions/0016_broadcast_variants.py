"""broadcast A/B tests: broadcasts.variants and holdout, deliveries.arm

Revision ID: 0016
Revises: 0014
Create Date: 2026-12-08 02:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("broadcasts", sa.Column("variants", sa.JSON(), nullable=True))
    op.add_column(
        "broadcasts",
        sa.Column("holdout", sa.Integer(), nullable=False, server_default=sa.text("0")),
    )
    op.add_column("deliveries", sa.Column("arm", sa.String(length=8), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("deliveries") as batch:
        batch.drop_column("arm")
    with op.batch_alter_table("broadcasts") as batch:
        batch.drop_column("holdout")
        batch.drop_column("variants")
