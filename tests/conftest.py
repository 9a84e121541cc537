"""Databases for the tests: every storage-touching test runs on SQLite and on PostgreSQL."""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy import make_url, text

from bot import wiring
from storage.engine import create_engine, session_factory
from storage.migrate import upgrade
from storage.models import Base
from storage.uow import SqlUnitOfWork

wiring.install()  # the cron engine and coupon rewards, as every entry point installs them

BASE_PG_URL = os.environ.get(
    "TEST_POSTGRES_URL", "postgresql+asyncpg://growthbot:growthbot@127.0.0.1:5432/growthbot_test"
)


def _worker_url(base: str) -> str:
    """One PostgreSQL database per pytest-xdist worker (``<name>_gw0`` …), so parallel workers
    never truncate each other's tables; without xdist the given database itself."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    return f"{base}_{worker}" if worker else base


PG_URL = _worker_url(BASE_PG_URL)


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
        if PG_URL != BASE_PG_URL:  # a worker's own database, made on first use
            admin = create_engine(BASE_PG_URL, isolation_level="AUTOCOMMIT")
            name = make_url(PG_URL).database
            async with admin.connect() as conn:
                found = await conn.scalar(
                    text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}
                )
                if not found:
                    await conn.execute(text(f'CREATE DATABASE "{name}"'))
            await admin.dispose()
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

    async def empty() -> None:
        engine = create_engine(url)
        async with engine.connect() as conn:
            raw = await conn.get_raw_connection()
            await raw.driver_connection.execute(EMPTY_ALL)  # type: ignore[union-attr]
        await engine.dispose()

    asyncio.run(empty())
    yield url


# Every table emptied and every id sequence restarted, as TRUNCATE … RESTART IDENTITY did, in
# one round trip: DELETE of a test's few rows takes milliseconds where TRUNCATE of fifty
# tables took 200-400 ms (new files for every table), once per PostgreSQL test. Children
# first, so no foreign key is ever in the way.
EMPTY_ALL = (
    "BEGIN; SET LOCAL synchronous_commit = off; "
    + " ".join(f"DELETE FROM {t.name};" for t in reversed(Base.metadata.sorted_tables))
    + " SELECT setval(c.oid, 1, false) FROM pg_class c"
    " WHERE c.relkind = 'S' AND c.relnamespace = 'public'::regnamespace; COMMIT;"
)


@pytest.fixture
async def uow_factory(database_url: str) -> AsyncIterator[type[SqlUnitOfWork] | object]:
    """A callable making a fresh unit of work on the test database."""
    engine = create_engine(database_url)
    sessions = session_factory(engine)
    yield lambda: SqlUnitOfWork(sessions)
    await engine.dispose()
