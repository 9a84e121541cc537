"""surveys: a poll's options and Telegram ids, the audience asked privately; deliveries of a
survey's question (one per survey and member)

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-12 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("surveys") as batch:
        batch.add_column(sa.Column("options", sa.JSON(), nullable=True))
        batch.add_column(sa.Column("audience", sa.String(32), nullable=True))
        batch.add_column(sa.Column("poll_id", sa.String(64), nullable=True))
        batch.add_column(sa.Column("message_id", sa.BigInteger(), nullable=True))
        batch.create_unique_constraint(op.f("uq_surveys_poll_id"), ["poll_id"])
    with op.batch_alter_table("deliveries") as batch:
        batch.add_column(sa.Column("survey_id", BigId, nullable=True))
        batch.create_foreign_key(
            op.f("fk_deliveries_survey_id_surveys"), "surveys",
            ["survey_id"], ["id"], ondelete="CASCADE",
        )  # fmt: skip
        batch.create_unique_constraint(
            op.f("uq_deliveries_survey_id_target_chat"), ["survey_id", "target_chat"]
        )


def downgrade() -> None:
    with op.batch_alter_table("deliveries") as batch:
        batch.drop_constraint(op.f("uq_deliveries_survey_id_target_chat"), type_="unique")
        batch.drop_constraint(op.f("fk_deliveries_survey_id_surveys"), type_="foreignkey")
        batch.drop_column("survey_id")
    with op.batch_alter_table("surveys") as batch:
        batch.drop_constraint(op.f("uq_surveys_poll_id"), type_="unique")
        batch.drop_column("message_id")
        batch.drop_column("poll_id")
        batch.drop_column("audience")
        batch.drop_column("options")
