"""SQLite statements run on the event loop's thread (storage/inline_sqlite.py), yet nothing
that can wait does: a lock held elsewhere, a commit, a long batch."""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import text

from storage import inline_sqlite
from storage.engine import create_engine, session_factory
from storage.inline_sqlite import long_statements


@pytest.fixture
def sqlite_url(tmp_path: Path, sqlite_template: Path) -> str:
    path = tmp_path / "inline.db"
    shutil.copy(sqlite_template, path)
    return f"sqlite+aiosqlite:///{path}"


class Ticks:
    """The loop's turns, counted while it runs: how much it got to do meanwhile."""

    def __init__(self) -> None:
        self.n = 0
        self._task = asyncio.create_task(self._count())

    async def _count(self) -> None:
        while True:
            self.n += 1
            await asyncio.sleep(0)

    def stop(self) -> None:
        self._task.cancel()


async def test_a_write_lock_held_by_another_engine_of_this_loop_does_not_stop_the_loop(
    sqlite_url,
):
    holder, waiter = create_engine(sqlite_url), create_engine(sqlite_url)
    order: list[str] = []

    async def write_once_the_lock_is_free() -> None:
        async with waiter.begin() as conn:
            await conn.execute(
                text("INSERT INTO users (id, first_name, updated_at) VALUES (2, 'b', '2026-11-01')")
            )
        order.append("waiter wrote")

    async with holder.begin() as conn:
        await conn.execute(
            text("INSERT INTO users (id, first_name, updated_at) VALUES (1, 'a', '2026-11-01')")
        )
        waiting = asyncio.create_task(write_once_the_lock_is_free())
        await asyncio.sleep(0.2)  # the loop runs on while the waiter waits for the lock
        order.append("holder commits")
    await asyncio.wait_for(waiting, 10)
    async with holder.connect() as conn:
        ids = (await conn.execute(text("SELECT id FROM users ORDER BY id"))).scalars().all()
    await holder.dispose()
    await waiter.dispose()

    assert order == ["holder commits", "waiter wrote"]
    assert ids == [1, 2]


async def test_a_long_transaction_lets_the_loop_run_between_its_statements(sqlite_url):
    engine = create_engine(sqlite_url)
    ticks = Ticks()
    await asyncio.sleep(0)
    async with engine.begin() as conn:
        started, before = time.perf_counter(), ticks.n
        while time.perf_counter() - started < 50 * inline_sqlite.SLICE:  # slack for a busy machine
            await conn.execute(text("SELECT count(*) FROM users"))
        during = ticks.n - before
    ticks.stop()
    await engine.dispose()

    assert during >= 5


async def test_checkpoints_between_commits_leave_a_whole_database_with_every_row(
    sqlite_url, monkeypatch
):
    monkeypatch.setattr(inline_sqlite, "CHECKPOINT_EVERY", 0.0)  # one after every commit
    engine = create_engine(sqlite_url)
    for i in range(300):
        async with engine.begin() as conn:
            await conn.execute(
                text(
                    "INSERT INTO users (id, first_name, updated_at) VALUES (:i, 'x', '2026-11-01')"
                ),
                {"i": 1000 + i},
            )
    await engine.dispose()
    path = sqlite_url.removeprefix("sqlite+aiosqlite:///")
    with sqlite3.connect(path) as plain:
        count = plain.execute("SELECT count(*) FROM users").fetchone()[0]
        check = plain.execute("PRAGMA integrity_check").fetchone()[0]

    assert (count, check) == (300, "ok")


SLOW = (  # a statement of a few hundred milliseconds: a million steps of a recursive CTE
    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1000000) "
    "SELECT count(*) FROM n"
)


async def test_long_statements_run_off_the_loop_until_their_transaction_ends(sqlite_url):
    """A statement cannot yield: one that reads a whole big group (the segments refresh) would
    hold the loop for seconds. Said to be long, it runs on the connection's thread while the
    loop goes on; the next transaction is inline again."""
    engine = create_engine(sqlite_url)
    loop_thread = threading.get_ident()
    ticks = Ticks()
    async with session_factory(engine)() as session:
        conn = await session.connection()
        raw = await conn.get_raw_connection()
        raw.driver_connection.sqlite.create_function("thread_id", 0, threading.get_ident)
        inline = await session.scalar(text("SELECT thread_id()"))
        before = ticks.n
        await session.scalar(text(SLOW))
        held = ticks.n - before
        await long_statements(session)
        threaded = await session.scalar(text("SELECT thread_id()"))
        before = ticks.n
        await session.scalar(text(SLOW))
        free = ticks.n - before
        await session.commit()
        again = await session.scalar(text("SELECT thread_id()"))
    ticks.stop()
    await engine.dispose()

    assert inline == loop_thread == again != threaded
    assert held <= 2 < 10 <= free  # inline the loop waited; threaded it ran on


def _writable(path: Path) -> bool:
    plain = sqlite3.connect(path, timeout=0)
    try:
        plain.execute("BEGIN IMMEDIATE")
        plain.execute("ROLLBACK")
        return True
    except sqlite3.OperationalError:
        return False
    finally:
        plain.close()


async def test_a_long_statement_whose_caller_is_cancelled_leaves_the_database_writable(
    sqlite_url,
):
    """A refresh cancelled at a stop while its statement runs on the thread: the statement is
    interrupted and the transaction ended, instead of a closed connection holding the write
    lock until the garbage collector finalised it (every writer failing meanwhile)."""
    engine = create_engine(sqlite_url)
    session = session_factory(engine)()

    async def work() -> None:
        await session.execute(
            text("INSERT INTO users (id, first_name, updated_at) VALUES (1, 'a', '2026-11-01')")
        )
        await long_statements(session)
        await session.scalar(text(SLOW.replace("1000000", "30000000")))  # many seconds

    task = asyncio.create_task(work())
    await asyncio.sleep(0.1)  # the statement is under way on the thread
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    started = time.perf_counter()
    await session.close()
    closing = time.perf_counter() - started
    writable = _writable(Path(sqlite_url.removeprefix("sqlite+aiosqlite:///")))
    await engine.dispose()

    assert writable
    assert closing < 2  # the statement stopped, not run to its end


async def test_a_batch_of_many_rows_lets_the_loop_run_between_its_steps(sqlite_url, monkeypatch):
    monkeypatch.setattr(inline_sqlite, "SLICE", 0.0)  # a yield before every step
    engine = create_engine(sqlite_url)
    steps = 10 * inline_sqlite.ROWS_PER_STEP
    rows = [(5000 + i, f"member {i}", "2026-11-01") for i in range(steps)]
    ticks = Ticks()
    await asyncio.sleep(0)
    async with engine.begin() as conn:
        raw = await conn.get_raw_connection()
        inline = raw.driver_connection
        assert isinstance(inline, inline_sqlite.InlineSqlite)
        before = ticks.n
        await inline.executemany_inline(
            "INSERT INTO users (id, first_name, updated_at) VALUES (?, ?, ?)", rows
        )
        during = ticks.n - before
    ticks.stop()
    async with engine.connect() as conn:
        stored = await conn.scalar(text("SELECT count(*) FROM users WHERE id >= 5000"))
    await engine.dispose()

    assert stored == len(rows)
    assert during >= 10  # a turn of the loop before each of the ten steps
