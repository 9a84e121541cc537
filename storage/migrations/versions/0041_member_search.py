"""the dashboard's member search on PostgreSQL: trigram indexes (pg_trgm, a trusted extension
shipped with PostgreSQL) on the lower-cased first name, last name and username, so a search
for part of a name finds its few users without reading every member of a big group (3.7 s →
about 10 ms on a million members). SQLite keeps its scan: it has no such index.

The indexes are on expressions, which the models cannot declare for one dialect only; they
live here alone (Alembic's comparison skips expression indexes), documented on UserRow.

Revision ID: 0041
Revises: 0040
Create Date: 2026-12-21 10:00:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0041"
down_revision: str | None = "0040"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = ("first_name", "last_name", "username")


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for column in COLUMNS:
        op.execute(
            f"CREATE INDEX IF NOT EXISTS ix_users_{column}_trgm ON users "
            f"USING gin (lower({column}) gin_trgm_ops)"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for column in COLUMNS:
        op.execute(f"DROP INDEX IF EXISTS ix_users_{column}_trgm")
