"""Engine and session factory for SQLite (embedded default) and PostgreSQL."""

from __future__ import annotations

import socket
import sqlite3
import time
from pathlib import Path
from typing import Any

import asyncpg
from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, DisconnectionError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as SqlTimeout
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)

from storage.inline_sqlite import InlineSqlite, connector
from storage.local_day import sqlite_local_day


def is_sqlite(url: str) -> bool:
    """Whether the URL names an SQLite database."""
    return make_url(url).get_backend_name() == "sqlite"


CONNECT_TIMEOUT = 10.0  # seconds to open a PostgreSQL connection (TCP, TLS and login)
POOL_TIMEOUT = 15.0  # seconds to wait for a free pooled connection


def create_engine(
    url: str,
    *,
    read_only: bool = False,
    command_timeout: float | None = None,
    **kwargs: Any,
) -> AsyncEngine:
    """An async engine; SQLite gets WAL, a busy timeout and write-locking transactions.

    A writing engine on an SQLite file runs its statements on the event loop's thread
    (storage/inline_sqlite.py). `read_only` (reports from the command line) keeps aiosqlite's
    thread and begins plainly: under WAL a reader needs no lock, so it is never starved by
    a bot process that writes many times a second.

    On PostgreSQL, opening a connection and waiting for one from the pool are bounded
    (CONNECT_TIMEOUT, POOL_TIMEOUT), and so is each statement when `command_timeout` is
    given: a database that accepts connections and never answers fails within a known time
    instead of holding every caller (and the bot's stop) for minutes.
    """
    if not is_sqlite(url):
        connect_args: dict[str, Any] = {"timeout": CONNECT_TIMEOUT}
        if command_timeout is not None:
            connect_args["command_timeout"] = command_timeout
        kwargs["connect_args"] = connect_args | kwargs.get("connect_args", {})
        kwargs.setdefault("pool_timeout", POOL_TIMEOUT)
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
        # SQLite has no time zones: the daily rollup's SQL asks Python for a local day.
        dbapi_connection.create_function("local_day", 2, sqlite_local_day, deterministic=True)

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


def is_transient(error: BaseException) -> bool:
    """Worth trying again as it is: the database could not be reached (connection_problem,
    the one classifier of that), or it failed or was busy on the way (a lock, a dropped
    connection), not because of the data: a value it refuses fails the same way every time."""
    if connection_problem(error) is not None:
        return True
    if isinstance(error, OperationalError | InterfaceError | DisconnectionError):
        return True
    return isinstance(error, DBAPIError) and bool(error.connection_invalidated)


def where(url: str) -> str:
    """The database a URL names, for a message: never its password."""
    parsed = make_url(url)
    if is_sqlite(url):
        database = parsed.database or ":memory:"
        if database != ":memory:":
            database = str(Path(database).resolve())
        return f"the SQLite database {database}"
    host = parsed.host or "localhost"
    port = parsed.port or 5432
    user = f" as {parsed.username}" if parsed.username else ""
    return f"database {parsed.database or '(default)'} on {host}:{port}{user}"


_LOGIN_ERRORS = (
    asyncpg.InvalidPasswordError,
    asyncpg.InvalidAuthorizationSpecificationError,  # no such role, refused by pg_hba
    asyncpg.InvalidCatalogNameError,  # no such database
    asyncpg.CannotConnectNowError,  # starting up or shutting down
    asyncpg.TooManyConnectionsError,
    asyncpg.ConnectionDoesNotExistError,
    asyncpg.exceptions.ConnectionFailureError,
)


def unavailable(url: str, error: BaseException) -> str | None:
    """One line saying which database (without the password) could not be used and why,
    when `error` is about reaching it, logging in or finding it; None for anything else."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        found = _why(current)
        if found is not None:
            return f"cannot use {where(url)}: {found}"
        orig = getattr(current, "orig", None)
        nxt = orig if isinstance(orig, BaseException) else None
        current = nxt or current.__cause__ or current.__context__
    return None


def connection_problem(error: BaseException) -> str | None:
    """Why the database could not be used, in a few words, when `error` says it could not
    be reached (or did not answer in time); None for anything else, e.g. a bug."""
    problem = unavailable("sqlite://", error)
    return problem.split(": ", 1)[1] if problem is not None else None


def _why(error: BaseException) -> str | None:
    if isinstance(error, TimeoutError):
        return f"no answer in time ({type(error).__name__}): is it up and reachable?"
    if isinstance(error, SqlTimeout):
        return f"no free connection in the pool within {POOL_TIMEOUT:.0f} s"
    if isinstance(error, _LOGIN_ERRORS):
        return " ".join(str(error).split()) or type(error).__name__
    if isinstance(error, socket.gaierror):
        return f"unknown host ({error.strerror or error})"
    if isinstance(error, ConnectionError) or (
        isinstance(error, OSError) and "Connect call failed" in str(error)
    ):
        text = " ".join(str(error).split()) or type(error).__name__
        return f"connection failed ({text})"
    if isinstance(error, sqlite3.OperationalError) and "unable to open" in str(error):
        return f"{error} (does its folder exist, and may this user write there?)"
    return None
