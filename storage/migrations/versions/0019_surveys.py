"""surveys and survey_answers: feedback surveys (CSAT, NPS), one answer per member

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-10 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BigId = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "surveys",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("chat_id", BigId, nullable=False),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("created_by", sa.BigInteger(), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.Column("closed_at", TZ, nullable=True),
        sa.ForeignKeyConstraint(
            ["chat_id"], ["chats.id"], name=op.f("fk_surveys_chat_id_chats"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_surveys")),
    )
    op.create_index("ix_surveys_chat_id", "surveys", ["chat_id", "id"])
    op.create_table(
        "survey_answers",
        sa.Column("id", BigId, autoincrement=True, nullable=False),
        sa.Column("survey_id", BigId, nullable=False),
        sa.Column("user_id", sa.BigInteger(), nullable=False),
        sa.Column("value", sa.Integer(), nullable=False),
        sa.Column("first_at", TZ, nullable=False),
        sa.Column("answered_at", TZ, nullable=False),
        sa.ForeignKeyConstraint(
            ["survey_id"],
            ["surveys.id"],
            name=op.f("fk_survey_answers_survey_id_surveys"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_survey_answers")),
        sa.UniqueConstraint(
            "survey_id", "user_id", name=op.f("uq_survey_answers_survey_id_user_id")
        ),
    )


def downgrade() -> None:
    op.drop_table("survey_answers")
    op.drop_index("ix_surveys_chat_id", table_name="surveys")
    op.drop_table("surveys")
