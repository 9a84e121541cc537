"""Engine and session factory for SQLite (embedded default) and PostgreSQL."""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from storage.inline_sqlite import InlineSqlite, connector


def is_sqlite(url: str) -> bool:
    """Whether the URL names an SQLite database."""
    return make_url(url).get_backend_name() == "sqlite"


def create_engine(url: str, *, read_only: bool = False, **kwargs: Any) -> AsyncEngine:
    """An async engine; SQLite gets WAL, a busy timeout and write-locking transactions.

    A writing engine on an SQLite file runs its statements on the event loop's thread
    (storage/inline_sqlite.py). `read_only` (reports from the command line) keeps aiosqlite's
    thread and begins plainly: under WAL a reader needs no lock, so it is never starved by
    a bot process that writes many times a second.
    """
    if not is_sqlite(url):
        return _ping_when_idle(create_async_engine(url, **kwargs))
    # One connection: in-process writers queue on the pool (cheap, fair) instead of on
    # SQLite's file lock, whose busy handler sleeps in steps of up to 25 ms.
    kwargs.setdefault("pool_size", 1)
    kwargs.setdefault("max_overflow", 0)
    database = make_url(url).database
    on_file = database not in (None, "", ":memory:")
    if on_file and not read_only:
        kwargs.setdefault("async_creator", connector(str(database)))
    engine = create_async_engine(url, **kwargs)

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy decide when transactions begin (see _on_begin).
        dbapi_connection.isolation_level = None
        inline = isinstance(dbapi_connection.driver_connection, InlineSqlite)
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        # Inline, a wait would stop the loop: InlineSqlite waits for locks on its thread.
        cursor.execute(f"PRAGMA busy_timeout={0 if inline else 10000}")
        if on_file:
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
        if inline:
            cursor.execute("PRAGMA wal_autocheckpoint=0")  # InlineSqlite checkpoints
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Any) -> None:
        # IMMEDIATE takes the write lock up front, so two writers queue on the busy timeout
        # instead of one failing with "database is locked" when it upgrades a read lock.
        conn.exec_driver_sql("BEGIN" if read_only else "BEGIN IMMEDIATE")

    return engine


IDLE_PING = 10.0  # seconds a pooled PostgreSQL connection may rest before it is pinged


def _ping_when_idle(engine: AsyncEngine) -> AsyncEngine:
    """Ping a pooled connection on checkout only if it rested for IDLE_PING seconds.

    SQLAlchemy's pool_pre_ping pings on every checkout: one more round trip per transaction,
    a tenth of a check-in. A connection in steady use is known to be alive; one that rested
    may have been closed by a server restart or an idle timeout, and a failed ping makes the
    pool replace it (DisconnectionError) before the caller sees anything.
    """

    @event.listens_for(engine.sync_engine, "checkin")
    def _rested(_dbapi_connection: Any, record: Any) -> None:
        record.info["rested_at"] = time.monotonic()

    @event.listens_for(engine.sync_engine, "checkout")
    def _checked_out(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        rested_at = record.info.get("rested_at")
        if rested_at is None or time.monotonic() - rested_at < IDLE_PING:
            return
        try:
            dbapi_connection.ping()
        except Exception as error:
            raise DisconnectionError("the pooled connection did not answer a ping") from error

    return engine


def session_factory(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions that keep loaded values after commit (repositories return plain data anyway)."""
    return async_sessionmaker(engine, expire_on_commit=False, autoflush=False)


async def ping(engine: AsyncEngine) -> None:
    """SELECT 1 on a connection of the pool: raises unless the database answers."""
    async with engine.connect() as connection:
        await connection.execute(text("SELECT 1"))
