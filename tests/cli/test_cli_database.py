"""The command line against a database that is missing or not migrated: one line, no file."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import text

from bot.cli import main
from bot.settings import get_settings
from storage.engine import create_engine

EXPORT = ["export", "members", "--chat", "-1001234567890"]


@pytest.fixture
def elsewhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A folder with no .env and no database; DATABASE_URL as the test sets it."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


def test_a_folder_without_the_database_gets_one_line_and_no_new_file(elsewhere: Path, capsys):
    code = main(EXPORT)

    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and "Traceback" not in err
    assert f"no database at {elsewhere / 'growthbot.db'}" in err
    assert "growthbot db upgrade" in err
    assert not (elsewhere / "growthbot.db").exists()


def test_an_sqlite_file_that_was_never_migrated_says_so(
    elsewhere: Path, capsys, monkeypatch: pytest.MonkeyPatch
):
    sqlite3.connect(elsewhere / "empty.db").close()
    monkeypatch.setenv("DATABASE_URL", f"sqlite+aiosqlite:///{elsewhere / 'empty.db'}")

    code = main(["posts", "list", "--chat", "-1001234567890"])

    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1
    assert "has not been migrated; run `growthbot db upgrade`" in err


def test_a_database_behind_the_code_says_which_migration_it_is_at(
    database_url: str, elsewhere: Path, capsys, monkeypatch: pytest.MonkeyPatch
):
    async def stamp(revision: str | None) -> str:
        engine = create_engine(database_url)
        async with engine.begin() as conn:
            head = (await conn.execute(text("SELECT version_num FROM alembic_version"))).scalar()
            if revision is not None:
                await conn.execute(text("UPDATE alembic_version SET version_num = :r"),
                                   {"r": revision})  # fmt: skip
        await engine.dispose()
        return str(head)

    monkeypatch.setenv("DATABASE_URL", database_url)
    head = asyncio.run(stamp("0006"))
    try:
        code = main(EXPORT)
    finally:
        asyncio.run(stamp(head))

    err = capsys.readouterr().err
    assert code == 2 and err.count("\n") == 1
    assert f"is at migration 0006, this version needs {head}" in err
    assert "run `growthbot db upgrade`" in err
