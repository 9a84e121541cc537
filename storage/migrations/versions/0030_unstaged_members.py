"""segments: a partial index on the members without a stage yet (new since the last
refresh), so the refresh finds them without reading the group, and one the day's counts per
stage, segment and tier read alone

Revision ID: 0030
Revises: 0026
Create Date: 2026-12-20 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0030"
down_revision: str | None = "0026"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(
        "ix_memberships_chat_segments",
        "memberships",
        ["chat_id", "present", "stage", "rfm_segment", "tier"],
    )
    op.create_index(
        "ix_memberships_unstaged",
        "memberships",
        ["chat_id", "stage"],
        postgresql_where=sa.text("stage IS NULL"),
        sqlite_where=sa.text("stage IS NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_memberships_unstaged", table_name="memberships")
    op.drop_index("ix_memberships_chat_segments", table_name="memberships")
