"""Databases for the tests: every storage-touching test runs on SQLite and on PostgreSQL."""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from bot import wiring
from storage.engine import create_engine, session_factory
from storage.migrate import upgrade
from storage.models import Base
from storage.uow import SqlUnitOfWork

wiring.install()  # the cron engine and coupon rewards, as every entry point installs them

PG_URL = os.environ.get(
    "TEST_POSTGRES_URL", "postgresql+asyncpg://growthbot:growthbot@127.0.0.1:5432/growthbot_test"
)


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated SQLite file, copied for each test (migrating once is the slow part)."""
    path = tmp_path_factory.mktemp("db") / "template.db"
    upgrade(f"sqlite+aiosqlite:///{path}")
    return path


@pytest.fixture(scope="session")
def pg_migrated() -> str:
    """The PostgreSQL test database, rebuilt from migrations once per run."""
    import asyncio

    async def reset() -> None:
        engine = create_engine(PG_URL)
        async with engine.begin() as conn:
            await conn.execute(text("DROP SCHEMA public CASCADE"))
            await conn.execute(text("CREATE SCHEMA public"))
        await engine.dispose()

    asyncio.run(reset())
    upgrade(PG_URL)
    return PG_URL


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(
    request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path
) -> Iterator[str]:
    """A clean, migrated database of each kind."""
    if request.param == "sqlite":
        path = tmp_path / "test.db"
        shutil.copy(sqlite_template, path)
        yield f"sqlite+aiosqlite:///{path}"
        return
    url = request.getfixturevalue("pg_migrated")
    import asyncio

    async def truncate() -> None:
        engine = create_engine(url)
        names = ", ".join(t.name for t in Base.metadata.sorted_tables)
        async with engine.begin() as conn:
            await conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        await engine.dispose()

    asyncio.run(truncate())
    yield url


@pytest.fixture
async def uow_factory(database_url: str) -> AsyncIterator[type[SqlUnitOfWork] | object]:
    """A callable making a fresh unit of work on the test database."""
    engine = create_engine(database_url)
    sessions = session_factory(engine)
    yield lambda: SqlUnitOfWork(sessions)
    await engine.dispose()
