"""An aiosqlite connection whose statements run on the event loop's own thread.

aiosqlite hands every call to a thread of its own and back: a statement is three or four
such hops (cursor, execute, fetch, close), each a queue put, a thread wake-up and a wake of
the loop. On a busy machine a hop costs far more than the statement (a check-in's dozen
statements take well under a millisecond; their hops took ten).

Inline is safe only where SQLite cannot make the caller wait, so:

- `BEGIN IMMEDIATE` is tried inline without a busy timeout. If another connection holds
  the write lock (another process, or another engine of this one, whose transaction may be
  waiting on this very loop), it is retried on the thread, which waits up to WAIT_MS, as
  everything on the thread does.
- Inside a transaction that holds the write lock, under WAL, statements need no other lock
  and touch pages in memory: they run inline.
- With synchronous=NORMAL a COMMIT writes the log without syncing (inline: p50 0.06 ms,
  p99 about 1 ms in the benchmark), so it runs inline, except where SQLite would sync:
  this connection never checkpoints by itself (wal_autocheckpoint=0); once per
  CHECKPOINT_EVERY a commit goes through the thread followed by a PASSIVE checkpoint, and
  so does the next commit, which may start the log afresh and sync its header (as does the
  first commit after connecting, which may create the log). strace counts no sync on the
  loop's thread.
- PRAGMAs, and opening and closing, go through the thread.

Inline work still holds the loop, so the connection yields to it (one `sleep(0)`, the
transaction and its lock kept) whenever SLICE has passed since it last did: a big batch or a
long transaction never holds the loop much longer than that.

A single statement cannot yield, and some read a whole big group (the segments refresh, an
audience of a million members: seconds each). Their caller says so (`long_statements`): until
the transaction ends, its statements run on the thread, and the loop goes on meanwhile (other
writers wait for the lock, as they would anyway).
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import time
from collections.abc import Callable, Sequence
from typing import Any

import aiosqlite
from sqlalchemy.ext.asyncio import AsyncSession

WAIT_MS = 10_000  # how long a BEGIN waits for another connection's write lock
CHECKPOINT_EVERY = 1.0  # seconds between checkpoints (each on the thread, after a commit)
SLICE = 0.002  # seconds of inline work between two yields to the loop
ROWS_PER_STEP = 25  # rows of an executemany between two chances to yield (well under SLICE)


def _busy(error: sqlite3.OperationalError) -> bool:
    return "locked" in str(error) or "busy" in str(error)


class InlineSqlite(aiosqlite.Connection):
    """See the module docstring; made by `connector(path)` for SQLAlchemy's async_creator."""

    def __init__(self, database: str) -> None:
        super().__init__(
            lambda: sqlite3.connect(database, check_same_thread=False), iter_chunk_size=64
        )
        self._thread.daemon = True
        self._resumed = 0.0  # when this connection last came back from the loop
        self._checkpointed_at = time.monotonic()
        self._restarts = True  # the next commit may start the log file afresh (and sync)
        self.long_ahead = False  # the transaction's statements run on the thread (see above)

    @property
    def sqlite(self) -> sqlite3.Connection:
        """The sqlite3 connection, for statements run on the loop's thread without even
        aiosqlite's cursor (Repository.driver): only inside a transaction that holds the
        write lock, as every inline statement."""
        return self._conn

    async def _execute(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        if not self._running or not self._connection:
            raise ValueError("Connection closed")
        sql = args[0].lstrip()[:16].upper() if args and isinstance(args[0], str) else ""
        own = getattr(fn, "__self__", None) is self._connection
        name = getattr(fn, "__name__", "")
        if own and name == "close":
            return await self._threaded(self._closing, fn)
        if self.long_ahead:
            # Everything until the transaction ends queues on the thread behind the statement
            # before it, which may still be running there if its caller was cancelled.
            try:
                return await self._threaded(fn, *args, **kwargs)
            finally:
                if own and name in ("commit", "rollback"):
                    self.long_ahead = False
        if own and name == "commit":
            return await self._commit(fn)
        if sql.startswith("PRAGMA"):
            return await self._threaded(self._waiting, fn, *args, **kwargs)
        if time.perf_counter() - self._resumed > SLICE:
            await asyncio.sleep(0)  # let the loop run what is waiting before going on
            self._resumed = time.perf_counter()
        if sql.startswith("BEGIN"):
            try:
                return fn(*args, **kwargs)
            except sqlite3.OperationalError as error:
                if not _busy(error):
                    raise
                return await self._threaded(self._waiting, fn, *args, **kwargs)
        return fn(*args, **kwargs)

    async def executemany_inline(self, sql: str, rows: Sequence[Any]) -> None:
        """executemany on the loop's thread, ROWS_PER_STEP rows per step: a batch of many
        rows is not one step that holds the loop (the steps yield as statements do)."""
        for start in range(0, len(rows), ROWS_PER_STEP):
            await self._execute(self._conn.executemany, sql, rows[start : start + ROWS_PER_STEP])

    async def _commit(self, commit: Callable[[], None]) -> None:
        """Inline, but on the thread where a sync may happen (see the module docstring)."""
        now = time.monotonic()
        if now - self._checkpointed_at >= CHECKPOINT_EVERY:
            self._checkpointed_at = now
            self._restarts = True
            await self._threaded(self._waiting, self._commit_and_checkpoint, commit)
        elif self._restarts:
            self._restarts = False
            await self._threaded(self._waiting, commit)
        else:
            commit()

    def _commit_and_checkpoint(self, commit: Callable[[], None]) -> None:
        """On the thread: copy the log into the database, without waiting for readers."""
        commit()
        self._conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()

    async def _threaded(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        try:
            return await super()._execute(fn, *args, **kwargs)  # type: ignore[no-untyped-call]
        except asyncio.CancelledError:
            if self.long_ahead:  # nobody waits for the long statement: stop it at its next step
                self._conn.interrupt()
            raise
        finally:
            self._resumed = time.perf_counter()

    def _closing(self, close: Callable[[], None]) -> None:
        """On the thread: end the transaction, then close. A statement a cancelled caller left
        pending would otherwise keep the closed connection, and its write lock, alive until
        the garbage collector finalises it."""
        with contextlib.suppress(sqlite3.Error):
            self._conn.rollback()
        close()

    def _waiting(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """On the thread: wait for locks as a plain connection would (inline, it never does)."""
        self._conn.execute(f"PRAGMA busy_timeout={WAIT_MS}")
        try:
            return fn(*args, **kwargs)
        finally:
            self._conn.execute("PRAGMA busy_timeout=0")


async def long_statements(session: AsyncSession) -> None:
    """The statements this session runs until its transaction ends read much (seconds on a
    big group): on SQLite they go to the connection's thread instead of holding the loop.
    Nothing elsewhere (PostgreSQL, aiosqlite's own thread)."""
    connection = await session.connection()
    raw = await connection.get_raw_connection()
    if isinstance(raw.driver_connection, InlineSqlite):
        raw.driver_connection.long_ahead = True


def connector(database: str) -> Callable[[], InlineSqlite]:
    """SQLAlchemy's async_creator for an SQLite file: awaiting the result connects."""
    return lambda: InlineSqlite(database)
