"""/stats: make-up check-ins (补签卡) counted apart from the check-in rate; joins and leaves
indexed for a member's presence at an instant

A make-up check-in restores a past day on which its member was not active, so counted with
the day's check-ins it could lift that day's rate above 100%. Its row is now marked
(`checkins.makeup`) and the daily rollup counts it in `makeups`, not in `checkins`. Existing
make-up rows are found by the redemption that made them (a 补签卡 redemption by the same
member at the same instant: the two are written together with the same time) and moved
from `checkins` to `makeups` on their day.

`ix_activity_events_presence` (partial: joins and leaves only) lets the count of members
present at a period's start find a rejoiner's latest join or leave before it directly.

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-14 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0023"
down_revision: str | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MARK_MAKEUPS = """
UPDATE checkins SET makeup = TRUE
WHERE points = 0 AND EXISTS (
    SELECT 1 FROM shop_redemptions AS r
    WHERE r.chat_id = checkins.chat_id AND r.user_id = checkins.user_id
      AND r.kind = 'makeup' AND r.at = checkins.at
)
"""
_MADE_UP = """(
    SELECT count(*) FROM checkins AS c
    WHERE c.chat_id = daily_stats.chat_id AND c.day = daily_stats.day AND c.makeup
)"""
MOVE_COUNTS = f"""
UPDATE daily_stats SET makeups = {_MADE_UP}, checkins = checkins - {_MADE_UP}
WHERE EXISTS (
    SELECT 1 FROM checkins AS c
    WHERE c.chat_id = daily_stats.chat_id AND c.day = daily_stats.day AND c.makeup
)
"""
PRESENCE = "kind IN ('join', 'leave')"
BACK_COUNTS = "UPDATE daily_stats SET checkins = checkins + makeups WHERE makeups > 0"


def upgrade() -> None:
    with op.batch_alter_table("checkins") as batch:
        batch.add_column(
            sa.Column("makeup", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    with op.batch_alter_table("daily_stats") as batch:
        batch.add_column(
            sa.Column("makeups", sa.BigInteger(), nullable=False, server_default=sa.text("0"))
        )
    op.execute(MARK_MAKEUPS)
    op.execute(MOVE_COUNTS)
    op.create_index(
        "ix_activity_events_presence",
        "activity_events",
        ["chat_id", "user_id", "at"],
        sqlite_where=sa.text(PRESENCE),
        postgresql_where=sa.text(PRESENCE),
    )


def downgrade() -> None:
    op.drop_index("ix_activity_events_presence", table_name="activity_events")
    op.execute(BACK_COUNTS)
    with op.batch_alter_table("daily_stats") as batch:
        batch.drop_column("makeups")
    with op.batch_alter_table("checkins") as batch:
        batch.drop_column("makeup")
