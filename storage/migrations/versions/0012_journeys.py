"""journeys: runs, their outbox rows, birthdays

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-30 19:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("chats") as batch:
        batch.add_column(sa.Column("journeys", sa.JSON(), nullable=True))
    with op.batch_alter_table("users") as batch:
        batch.add_column(sa.Column("birthday", sa.String(5), nullable=True))
        batch.add_column(sa.Column("birthday_from", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("journeys_off", sa.Boolean(), nullable=True))
    op.create_table(
        "journey_runs",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("chat_id", BigId, nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("journey", sa.String(16), nullable=False),
        sa.Column("episode", sa.String(32), nullable=False),
        sa.Column("step", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("coupon_code", sa.String(32), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["chat_id"],
            ["chats.id"],
            name=op.f("fk_journey_runs_chat_id_chats"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_journey_runs")),
        sa.UniqueConstraint(
            "chat_id",
            "user_id",
            "journey",
            "episode",
            "step",
            name=op.f("uq_journey_runs_chat_id_user_id_journey_episode_step"),
        ),
    )
    op.create_index(
        op.f("ix_journey_runs_chat_journey_at"), "journey_runs", ["chat_id", "journey", "at"]
    )
    with op.batch_alter_table("deliveries") as batch:
        batch.add_column(sa.Column("journey_run_id", BigId, nullable=True))
        batch.add_column(sa.Column("content", sa.JSON(), nullable=True))
        batch.create_foreign_key(
            op.f("fk_deliveries_journey_run_id_journey_runs"), "journey_runs",
            ["journey_run_id"], ["id"], ondelete="CASCADE",
        )  # fmt: skip
        batch.create_unique_constraint(op.f("uq_deliveries_journey_run_id"), ["journey_run_id"])


def downgrade() -> None:
    with op.batch_alter_table("deliveries") as batch:
        batch.drop_constraint(op.f("uq_deliveries_journey_run_id"), type_="unique")
        batch.drop_constraint(op.f("fk_deliveries_journey_run_id_journey_runs"), type_="foreignkey")
        batch.drop_column("content")
        batch.drop_column("journey_run_id")
    op.drop_table("journey_runs")
    with op.batch_alter_table("users") as batch:
        batch.drop_column("journeys_off")
        batch.drop_column("birthday_from")
        batch.drop_column("birthday")
    with op.batch_alter_table("chats") as batch:
        batch.drop_column("journeys")
