"""Alembic, driven from code so that `growthbot db upgrade` and tests need no alembic.ini."""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command
from alembic.config import Config

MIGRATIONS = Path(__file__).with_name("migrations")


def alembic_config(url: str) -> Config:
    """A Config pointing at storage/migrations for the given database."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def upgrade(url: str, revision: str = "head") -> None:
    """Apply pending migrations (blocking; call from a thread inside an event loop)."""
    command.upgrade(alembic_config(url), revision)


async def upgrade_async(url: str) -> None:
    """Apply pending migrations without blocking the running loop."""
    await asyncio.to_thread(upgrade, url)


class NotMigrated(Exception):
    """The database the command would use is missing, or not at the code's schema."""

    def __init__(self, where: str, *, missing: bool, current: str | None, needed: str) -> None:
        super().__init__(where)
        self.where, self.missing, self.current, self.needed = where, missing, current, needed


def check_migrated(url: str) -> None:
    """NotMigrated unless the database exists and is at the latest migration. An SQLite file
    that does not exist is reported, never created (connecting would create it empty)."""
    from alembic.script import ScriptDirectory
    from sqlalchemy.engine import make_url

    from storage.engine import is_sqlite

    needed = ",".join(sorted(ScriptDirectory.from_config(alembic_config(url)).get_heads()))
    parsed = make_url(url)
    where = parsed.render_as_string(hide_password=True)
    if is_sqlite(url) and parsed.database not in (None, "", ":memory:"):
        path = Path(parsed.database or "").resolve()
        where = str(path)
        if not path.is_file():
            raise NotMigrated(where, missing=True, current=None, needed=needed)
    current = asyncio.run(_current_revision(url))
    if current != needed:
        raise NotMigrated(where, missing=False, current=current, needed=needed)


async def _current_revision(url: str) -> str | None:
    from sqlalchemy import inspect, text

    from storage.engine import create_engine

    engine = create_engine(url, read_only=True)
    try:
        async with engine.connect() as conn:
            if not await conn.run_sync(lambda c: inspect(c).has_table("alembic_version")):
                return None
            rows = await conn.execute(text("SELECT version_num FROM alembic_version"))
            return ",".join(sorted(r[0] for r in rows)) or None
    finally:
        await engine.dispose()
