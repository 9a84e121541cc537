"""Alembic environment: async engines, the project's metadata, batch mode for SQLite."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy import text
from sqlalchemy.engine import Connection

from storage.engine import create_engine
from storage.models import Base, include_on

config = context.config
target_metadata = Base.metadata


# One migration at a time per PostgreSQL database: `growthbot run` and `growthbot worker`
# started together both migrate, and two at once both created the version table (the
# second start failed with a unique violation). The key is in a range of its own (see
# storage/repositories/stats.py's rollup keys); the lock ends with the transaction. SQLite
# needs none: a migration holds the database's write lock.
MIGRATION_LOCK = 0x4D49_0000_0000  # "MI" << 32


def _run(connection: Connection) -> None:
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": MIGRATION_LOCK})
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        include_object=include_on(connection.dialect.name),
    )
    with context.begin_transaction():
        context.run_migrations()


async def _online() -> None:
    engine = create_engine(config.get_main_option("sqlalchemy.url") or "")
    async with engine.connect() as connection:
        await connection.run_sync(_run)
        await connection.commit()
    await engine.dispose()


if context.is_offline_mode():
    context.configure(url=config.get_main_option("sqlalchemy.url"), target_metadata=target_metadata)
    with context.begin_transaction():
        context.run_migrations()
else:
    asyncio.run(_online())
