"""Write-behind buffer for member messages: chatter is batched, never lost on a clean stop."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from collections.abc import AsyncIterator, Awaitable, Callable

from bot.clock import SYSTEM, Clock
from bot.logs import log_failure
from campaigns.ports import UnitOfWork
from campaigns.ports.members import MessageSeen
from campaigns.services.members import Written, record_messages
from campaigns.services.referral import Notice
from campaigns.settings import ChatSettings
from storage.engine import is_transient

log = logging.getLogger(__name__)


BACKLOG = 20  # batches waiting before a member message waits for a write itself


class ActivityBuffer:
    """Collects MessageSeen and writes them in one transaction per batch of `max_size`.

    Batches are written by the flushing task: on every `interval` tick (all that waits), as
    soon as a batch is full (whole batches only), and on stop. A handler only appends, so
    chatter never waits for a write; only if writes fall BACKLOG batches behind does an `add`
    write one itself (back-pressure).
    A batch is a handful of statements whatever its size (rows travel as one parameter), and
    the loop runs other work between them.
    A failed or cancelled write keeps the batch for the next try; update ids make the retry
    harmless. Stopping waits for a write under way instead of cutting it off.
    """

    def __init__(
        self,
        uow: Callable[[], UnitOfWork],
        *,
        bot_id: int,
        defaults: ChatSettings,
        max_size: int = 250,
        interval: float = 0.2,
        clock: Clock = SYSTEM,
    ) -> None:
        self._uow = uow
        self.clock = clock
        self.bot_id = bot_id
        self.defaults = defaults
        self.max_size = max_size
        self.interval = interval
        self._pending: list[MessageSeen] = []
        self._lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()
        self._full = asyncio.Event()
        self._added = 0  # messages ever added, and ever taken into a batch: flush() writes
        self._taken = 0  # what was added before it was called, even while more arrive
        # Invites confirmed by this chatter are announced by whoever the app plugs in here.
        self.on_notices: Callable[[list[Notice]], Awaitable[None]] | None = None
        self.written = 0
        self.dropped = 0  # messages the database refused on their own (logged, counted)
        self.on_error: Callable[[], None] | None = None  # counts a failure in the metrics
        self.written_already = Written()  # member days and names stored: not written again

    def __len__(self) -> int:
        return len(self._pending)

    async def add(self, message: MessageSeen) -> None:
        """Queue one message; a full batch wakes the flushing task (or, with none running or
        far behind, is written here)."""
        self._pending.append(message)
        self._added += 1
        if len(self._pending) < self.max_size:
            return
        if self._task is not None and len(self._pending) < self.max_size * BACKLOG:
            self._full.set()
        else:
            await self._write_batch()

    async def flush(self) -> int:
        """Write everything added until now, a batch at a time (after a write under way
        ends); returns how many new messages were stored. Later messages wait their turn."""
        until, stored = self._added, 0
        while True:
            written = await self._write_batch(until)
            if written is None:
                return stored
            stored += written

    async def _write_full(self) -> None:
        """Write whole batches only (a full one woke the flushing task). The few messages
        that came in while they were written wait for the tick and go with the chatter after
        them: written at once they made a transaction of their own, a dozen messages paying
        a batch's fixed cost, after every full batch of a busy group."""
        while len(self._pending) >= self.max_size:
            if await self._write_batch() is None:
                return

    async def _write_batch(self, until: int | None = None) -> int | None:
        """Write the oldest `max_size` waiting messages in one transaction; None if there was
        nothing (added before `until`) left to write."""
        async with self._lock:
            if not self._pending or (until is not None and self._taken >= until):
                return None
            batch = self._pending[: self.max_size]
            del self._pending[: self.max_size]
            self._taken += len(batch)
            try:
                try:
                    stored, notices = await self._record(batch)
                except Exception as error:
                    # What the writer remembers storing may be what the database lost (a
                    # failover, a crash that took the last non-durable commits): written again.
                    self.written_already.forget()
                    if is_transient(error):
                        raise
                    # Something in the batch is refused (a value the database cannot hold):
                    # kept, it would fail every retry and hold up every later message.
                    stored, notices = await self._record_each(batch, error)
            except BaseException:
                # Cancellation is no Exception, yet it loses the batch just the same.
                self._pending[:0] = batch
                self._taken -= len(batch)
                raise
            self.written += stored
        if notices and self.on_notices is not None:
            await self.on_notices(notices)
        return stored

    async def _record(self, batch: list[MessageSeen]) -> tuple[int, list[Notice]]:
        result = await record_messages(
            self._uow(),
            bot_id=self.bot_id,
            messages=batch,
            at=self.clock.now(),
            defaults=self.defaults,
            written=self.written_already,
        )
        return result.stored, list(result.notices)

    async def _record_each(
        self, batch: list[MessageSeen], error: Exception
    ) -> tuple[int, list[Notice]]:
        """Write a refused batch one message at a time and drop only the messages refused
        on their own; a transient failure meanwhile keeps the whole batch for a retry (what
        was written is not written twice: update ids)."""
        log.warning("activity batch refused (%s): writing its messages one by one", error)
        stored, notices = 0, []
        for message in batch:
            try:
                one, told = await self._record([message])
            except Exception as alone:
                if is_transient(alone):
                    raise
                self.dropped += 1
                if self.on_error is not None:
                    self.on_error()
                log.error(
                    "activity of user %s in chat %s (update %s) refused by the database and "
                    "dropped: %s",
                    message.person.user_id,
                    message.chat.chat_id,
                    message.update_id,
                    alone,
                )
                continue
            stored += one
            notices += told
        return stored, notices

    @contextlib.asynccontextmanager
    async def moving(self, old_chat_id: int, new_chat_id: int) -> AsyncIterator[None]:
        """Hold writes while a group moves to its supergroup id; its waiting messages follow it.

        Written afterwards under the old id, they would register the old id again as a group
        of its own and never count in the supergroup. A write under way finishes first (its
        rows follow the group's row), and whatever is still waiting, including a batch kept
        from a failed write, is re-addressed to the new id before the next write.
        """
        async with self._lock:
            try:
                yield
            finally:
                self._pending = [
                    dataclasses.replace(
                        m, chat=dataclasses.replace(m.chat, chat_id=new_chat_id, type="supergroup")
                    )
                    if m.chat.chat_id == old_chat_id
                    else m
                    for m in self._pending
                ]

    async def _tick(self) -> None:
        """Flush every interval, or when a batch is full, until stop() asks; a flush is never
        interrupted by stopping."""
        stopping = asyncio.ensure_future(self._stopping.wait())
        try:
            while True:
                nap = asyncio.ensure_future(self.clock.sleep(self.interval))
                full = asyncio.ensure_future(self._full.wait())
                try:
                    woke, _ = await asyncio.wait(
                        {nap, full, stopping}, return_when=asyncio.FIRST_COMPLETED
                    )
                finally:
                    nap.cancel()
                    full.cancel()
                if stopping.done():
                    return
                self._full.clear()
                try:
                    if nap in woke:
                        await self.flush()
                    else:
                        await self._write_full()
                except Exception as error:
                    log_failure(
                        log, error, "activity flush failed; %d messages kept for retry", len(self)
                    )
                    if self.on_error is not None:
                        self.on_error()
        finally:
            stopping.cancel()

    def start(self) -> None:
        """Begin periodic flushing on the running loop."""
        if self._task is None:
            self._stopping = asyncio.Event()
            self._full = asyncio.Event()
            self._task = asyncio.get_running_loop().create_task(self._tick(), name="activity-flush")

    async def stop(self) -> None:
        """Stop ticking and write what is left.

        The tick is asked to end, not cancelled: a cancel landing inside a write would cut it
        off mid-transaction. Shielded, so even a cancelled stop lets that write finish.
        """
        if self._task is not None:
            task, self._task = self._task, None
            self._stopping.set()
            try:
                await asyncio.shield(task)
            except asyncio.CancelledError:
                if not task.cancelled():
                    raise  # stop itself was cancelled; the tick still finishes its write
        await self.flush()
