"""An aiosqlite connection whose statements run on the event loop's own thread.

aiosqlite hands every call to a thread of its own and back: a statement is three or four
such hops (cursor, execute, fetch, close), each a queue put, a thread wake-up and a wake of
the loop. On a busy machine a hop costs far more than the statement (a check-in's dozen
statements take well under a millisecond; their hops took ten).

Inline is safe only where SQLite cannot make the caller wait, so:

- `BEGIN IMMEDIATE` is tried inline without a busy timeout. If another connection holds
  the write lock (another process, or another engine of this one, whose transaction may be
  waiting on this very loop), it is retried on the thread, which waits up to WAIT_MS.
- Inside a transaction that holds the write lock, under WAL, statements need no other lock
  and touch pages in memory: they run inline.
- The write-ahead log is checkpointed on a second connection on the thread (PASSIVE: it
  never blocks the writer), at most once per CHECKPOINT_EVERY seconds; this connection
  never checkpoints itself (wal_autocheckpoint=0), since a checkpoint syncs the disk.
- With synchronous=NORMAL a commit writes to the WAL without syncing, except the first
  commit after a complete checkpoint, which syncs the restarted log's header: the first
  commit after each checkpoint goes through the thread, queued behind the checkpoint.
- PRAGMAs, and opening and closing, go through the thread.

Inline work still holds the loop, so the connection yields to it (one `sleep(0)`, the
transaction and its lock kept) whenever SLICE has passed since it last did: a big batch or a
long transaction never holds the loop much longer than that.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import time
from collections.abc import Callable
from typing import Any

import aiosqlite

log = logging.getLogger(__name__)

WAIT_MS = 10_000  # how long a BEGIN waits for another connection's write lock
CHECKPOINT_EVERY = 1.0  # seconds
SLICE = 0.002  # seconds of inline work between two yields to the loop


def _busy(error: sqlite3.OperationalError) -> bool:
    return "locked" in str(error) or "busy" in str(error)


class InlineSqlite(aiosqlite.Connection):
    """See the module docstring; made by `connector(path)` for SQLAlchemy's async_creator."""

    def __init__(self, database: str) -> None:
        super().__init__(
            lambda: sqlite3.connect(database, check_same_thread=False), iter_chunk_size=64
        )
        self._thread.daemon = True
        self._database = database
        self._checkpointer: sqlite3.Connection | None = None  # used on the thread only
        self._last_checkpoint = time.monotonic()
        # A checkpoint was queued since the last threaded commit (or none was: the first
        # commit may create the log file, and syncs it and its directory).
        self._checkpointed = True
        self._resumed = 0.0  # when this connection last came back from the loop

    async def _execute(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        if not self._running or not self._connection:
            raise ValueError("Connection closed")
        sql = args[0].lstrip()[:16].upper() if args and isinstance(args[0], str) else ""
        own = getattr(fn, "__self__", None) is self._connection
        name = getattr(fn, "__name__", "")
        if sql.startswith("PRAGMA") or (own and name == "close"):
            return await self._threaded(fn, *args, **kwargs)
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
        if own and name == "commit":
            return await self._commit(fn)
        return fn(*args, **kwargs)

    async def _threaded(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        try:
            return await super()._execute(fn, *args, **kwargs)  # type: ignore[no-untyped-call]
        finally:
            self._resumed = time.perf_counter()

    def _waiting(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """On the thread: wait for the write lock as a plain connection would."""
        self._conn.execute(f"PRAGMA busy_timeout={WAIT_MS}")
        try:
            return fn(*args, **kwargs)
        finally:
            self._conn.execute("PRAGMA busy_timeout=0")

    async def _commit(self, commit: Callable[[], None]) -> None:
        if self._checkpointed:
            self._checkpointed = False
            await self._threaded(commit)  # may restart the log, and sync its header
        else:
            commit()
        now = time.monotonic()
        if now - self._last_checkpoint >= CHECKPOINT_EVERY:
            self._last_checkpoint = now
            self._checkpointed = True
            self._tx.put_nowait((None, self._checkpoint))  # no one waits for it

    def _checkpoint(self) -> None:
        """On the thread: copy the log into the database without blocking anyone."""
        try:
            if self._checkpointer is None:
                self._checkpointer = sqlite3.connect(self._database, check_same_thread=False)
            self._checkpointer.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        except sqlite3.Error:
            log.warning("WAL checkpoint failed; the next one retries", exc_info=True)

    def _close_checkpointer(self) -> None:
        if self._checkpointer is not None:
            self._checkpointer.close()
            self._checkpointer = None

    async def close(self) -> None:
        """Close the checkpoint connection too (on the thread, where it lives)."""
        if self._connection is not None:
            await self._threaded(self._close_checkpointer)
        await super().close()


def connector(database: str) -> Callable[[], InlineSqlite]:
    """SQLAlchemy's async_creator for an SQLite file: awaiting the result connects."""
    return lambda: InlineSqlite(database)
