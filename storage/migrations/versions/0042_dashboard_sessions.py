"""dashboard sessions kept in the database (signing out ends every copy of a cookie) and
one-time sign-ins spent there (once across processes and restarts)

Revision ID: 0042
Revises: 0041
Create Date: 2026-12-21 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0042"
down_revision: str | None = "0041"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "dashboard_sessions",
        sa.Column("key", sa.String(64), nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("expires_at", TZ, nullable=False),
        sa.Column("ended_at", TZ, nullable=True),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_dashboard_sessions")),
    )
    op.create_table(
        "dashboard_spent",
        sa.Column("key", sa.String(96), nullable=False),
        sa.Column("until", TZ, nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_dashboard_spent")),
    )
    op.create_index("ix_dashboard_spent_until", "dashboard_spent", ["until"])


def downgrade() -> None:
    op.drop_index("ix_dashboard_spent_until", table_name="dashboard_spent")
    op.drop_table("dashboard_spent")
    op.drop_table("dashboard_sessions")
