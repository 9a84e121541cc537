"""`growthbot run` and `growthbot worker` started together both migrate the database
(PostgreSQL only: `growthbot worker` refuses SQLite, whose database one process owns)."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import uuid
from collections.abc import Iterator

import pytest
from sqlalchemy import make_url, text

from storage.engine import create_engine
from storage.migrate import check_migrated
from tests.conftest import BASE_PG_URL


@pytest.fixture
def empty_database() -> Iterator[str]:
    """A PostgreSQL database of its own with nothing in it yet, dropped after."""
    name = f"growthbot_fresh_{uuid.uuid4().hex[:12]}"

    async def admin(statement: str) -> None:
        engine = create_engine(BASE_PG_URL, isolation_level="AUTOCOMMIT")
        async with engine.connect() as conn:
            await conn.execute(text(statement))
        await engine.dispose()

    asyncio.run(admin(f'CREATE DATABASE "{name}"'))
    try:
        yield make_url(BASE_PG_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        asyncio.run(admin(f'DROP DATABASE "{name}" WITH (FORCE)'))


def test_three_processes_migrating_an_empty_database_at_once_all_succeed(empty_database: str):
    """Two at once both created the version table and the second start failed with a
    unique violation: one migration at a time now, the others find nothing left to do."""
    code = "import sys; from storage.migrate import upgrade; upgrade(sys.argv[1])"
    runs = [  # processes, as in production (alembic's context is one per process)
        subprocess.Popen([sys.executable, "-c", code, empty_database], stderr=subprocess.PIPE)
        for _ in range(3)
    ]
    failures = [run.communicate(timeout=120)[1].decode()[-300:] for run in runs]

    assert [run.returncode for run in runs] == [0, 0, 0], failures
    check_migrated(empty_database)  # at the latest revision, once
