"""Sending the outbox at Telegram's flood limits.

Limits kept: about 30 messages a second overall, one a second per chat, 20 a minute per
group. Each chat's room and pauses are the process's one ChatBudget (bot/budget.py), which
interactive replies use too, so a post and a check-in rush in one group share its minute.
A 429 pauses only that chat (its row goes back to the queue for `retry_after`), unless
several chats are refused within a second: that is a global flood, and everything waits.

Each row is marked `sending` in a committed transaction just before its request goes out,
together with the outcome of the worker's previous row, so a message costs one commit and
a crash leaves at most one row per worker whose fate is unknown (reported, never resent).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import os
import socket
import uuid
from collections.abc import Callable

from telegram import Bot, InputFile, Message
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError, TimedOut

from bot.budget import (
    GROUP_WINDOW,
    ChatBudget,
    never_sent,
    paced_by_caller,
    retry_seconds,
)
from bot.clock import SYSTEM, Clock
from bot.logs import log_failure
from bot.metrics import Metrics
from campaigns.content import NAME_TAG, PostContent, addressed
from campaigns.ports import UnitOfWork
from campaigns.ports.outbox import Delivery
from campaigns.services.calendar import MEDIA_PREFIX, media_of, remember_media
from campaigns.services.outbox import (
    Outcome,
    Result,
    claim,
    display_name,
    recover,
    release,
    settle,
)
from handlers.posting import send_content

log = logging.getLogger(__name__)
LATE = 0.005  # a send this far past its slot restarts the schedule from now
COMMIT_LEAD = 0.04  # seconds before its send slot that a row's `sending` mark is committed
MAX_CHATS = 10_000  # per-chat spacings remembered before the ones already passed are dropped


def worker_id() -> str:
    return f"{socket.gethostname()[:30]}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class FloodControl:
    """Pacing per chat and overall, and the pauses Telegram asks for."""

    def __init__(
        self,
        rate: float,
        private_gap: float = 1.0,
        group_gap: float | None = None,
        *,
        clock: Clock = SYSTEM,
        budget: ChatBudget | None = None,
    ) -> None:
        # Overall, requests are spaced evenly on an absolute schedule: a bucket allowing a
        # burst of 30 then 30/s would put up to 60 in one second, which Telegram refuses; and
        # a limiter at capacity 1 wakes each waiter after the interval, so its wake-up
        # latency adds up (28.1/s measured for 29/s).
        self.clock = clock
        self.interval = 1 / rate
        self.next_slot = 0.0
        self.last_gate = 0.0
        self._gate = asyncio.Lock()
        self.chats: dict[int, float] = {}  # chat -> the earliest time its next send may start
        # What every sender in the process shares: each chat's recent sends and 429 pauses.
        self.budget = budget or ChatBudget(overall=rate, clock=clock)
        # A group's sends spread evenly over its minute, by the budget's own limit (Telegram's
        # 20, so 3 s apart): the demo's budget, with no limits, does not wait either.
        if group_gap is None:
            group_gap = GROUP_WINDOW / self.budget.group_limit
        self.private_gap, self.group_gap = private_gap, group_gap

    def chat_wait(self, chat_id: int) -> float:
        """Seconds this chat (or everything) must still wait after a 429."""
        return self.budget.chat_wait(chat_id)

    async def pace_chat(self, chat_id: int) -> None:
        """One send per gap in a chat: each caller books the chat's next free time, in turn,
        and not before the chat has room for what others (replies) sent there."""
        now = self.clock.monotonic()
        if len(self.chats) > MAX_CHATS:
            self.chats = {c: at for c, at in self.chats.items() if at > now}
        gap = self.group_gap if chat_id < 0 else self.private_gap
        start = max(now, self.chats.get(chat_id, now), self.budget.room_at(chat_id))
        self.chats[chat_id] = start + gap
        await self.until(start)

    def reserve(self) -> float:
        """The next free send time (monotonic clock), after any global flood wait."""
        slot = max(self.clock.monotonic(), self.next_slot, self.budget.global_until)
        self.next_slot = slot + self.interval
        return slot

    async def gate(self) -> None:
        """Right before a request: never closer than the interval to the previous one.

        One waiter at a time, so a stalled event loop does not release several pre-assigned
        slots at once (a burst Telegram would refuse). On time, the schedule stays absolute
        (no drift); late, it restarts from the actual time.
        """
        async with self._gate:
            target = self.last_gate + self.interval
            await self.until(target)
            now = self.clock.monotonic()
            self.last_gate = target if now - target < LATE else now

    async def until(self, slot: float) -> None:
        wait = slot - self.clock.monotonic()
        if wait > 0:
            await self.clock.sleep(wait)

    def refused(self, chat_id: int, seconds: float) -> None:
        """A 429: the chat waits, for every sender in the process."""
        self.budget.refused(chat_id, seconds)


class OutboxSender:
    """Claims due rows and sends them with a few concurrent workers."""

    def __init__(
        self,
        bot: Bot,
        uow: Callable[[], UnitOfWork],
        *,
        rate: float = 29.0,
        workers: int = 4,
        batch: int = 100,
        clock: Clock = SYSTEM,
        metrics: Metrics | None = None,
        budget: ChatBudget | None = None,
    ) -> None:
        self.bot, self.uow, self.clock = bot, uow, clock
        self.metrics = metrics or Metrics()  # the application's, so /metrics shows the sends
        self.worker = worker_id()
        self.flood = FloodControl(rate, clock=clock, budget=budget)
        self.workers, self.batch = workers, batch
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self.autostart = True  # tests turn this off and call drain() themselves
        # Only the jobs leader sends (bot/leader.py): the 30/s budget is one process's to pace.
        self.may_send: Callable[[], bool] = lambda: True
        self.file_ids: dict[str, str] = {}  # uploaded photos: reference -> Telegram file id

    @property
    def busy(self) -> bool:
        return self._task is not None and not self._task.done()

    def kick(self) -> None:
        """Start draining unless already draining (called by the scheduler's tick)."""
        if self.autostart and not self.busy and not self._stopping and self.may_send():
            self._task = asyncio.get_running_loop().create_task(self.drain(), name="outbox")

    def gone(self, worker: str) -> bool:
        """A worker of this machine whose process no longer runs (its rows can be recovered
        at once, without waiting for the lease).

        A process runs one sender, so another id with this process's pid belongs to a sender
        that ran before this one (or to an earlier process that had the same pid).
        """
        host, _, rest = worker.partition(":")
        pid = rest.partition(":")[0]
        if host != socket.gethostname()[:30] or not pid.isdigit():
            return False
        if int(pid) == os.getpid():
            return worker != self.worker
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            return True
        except PermissionError:
            return False
        return False

    async def recover(self) -> tuple[int, int]:
        requeued, uncertain = await recover(self.uow, now=self.clock.now(), dead=self.gone)
        if requeued or uncertain:
            log.warning(
                "outbox after a restart: %d unsent rows requeued, %d in flight when the bot "
                "stopped marked uncertain (not resent)",
                requeued,
                uncertain,
            )
        return requeued, uncertain

    async def stop(self) -> None:
        """Let the in-flight sends finish and record them; unsent claims go back."""
        self._stopping = True
        if self._task is not None:
            await self._task
        await release(self.uow(), worker=self.worker)

    async def drain(self, now: dt.datetime | None = None) -> None:
        """Send everything due (by `now`, normally the clock) until nothing is left."""
        queue: asyncio.Queue[Delivery | None] = asyncio.Queue()
        workers = [asyncio.create_task(self._work(queue)) for _ in range(self.workers)]
        try:
            while not self._stopping and self.may_send():
                rows = await claim(
                    self.uow(),
                    worker=self.worker,
                    now=now or self.clock.now(),
                    limit=self.batch,
                )
                if not rows:
                    break
                for row in rows:
                    await queue.put(row)
                await queue.join()
        except Exception as error:
            self.metrics.errors.labels("outbox").inc()
            log_failure(log, error, "outbox drain failed; the next tick retries")
        finally:
            for _ in workers:
                await queue.put(None)
            await asyncio.gather(*workers, return_exceptions=True)
            with contextlib.suppress(Exception):
                await release(self.uow(), worker=self.worker)

    async def _work(self, queue: asyncio.Queue[Delivery | None]) -> None:
        done: list[Result] = []
        while True:
            d = await queue.get()
            if d is None:
                if done:
                    await self._settle(done, [])
                queue.task_done()
                return
            try:
                if self._stopping or not self.may_send():
                    continue  # released back to the queue by stop() or by the drain's end
                wait = self.flood.chat_wait(d.target_chat)
                if wait > 0:  # this chat is in a flood wait: back to the queue, no attempt
                    at = self.clock.now()
                    done.append(Result(d, Outcome.RETRY, at, retry_at=at + _delta(wait)))
                    continue
                await self.flood.pace_chat(d.target_chat)
                slot = self.flood.reserve()
                # Marked `sending` only just before its slot: after a kill, few rows are
                # uncertain that never went out.
                await self.flood.until(slot - COMMIT_LEAD)
                going = await self._settle(done, [d])
                done = []
                if not going:
                    continue
                await self.flood.gate()
                result = await self._send(d)
                self.metrics.outbox_messages.labels(result.outcome.value).inc()
                done.append(result)
            except Exception:
                self.metrics.errors.labels("outbox").inc()
                log.exception("outbox row %s: unexpected error", d.id)
            finally:
                queue.task_done()

    async def _settle(self, results: list[Result], start: list[Delivery]) -> list[Delivery]:
        return await settle(
            self.uow(), results=results, start=start, worker=self.worker, now=self.clock.now()
        )

    async def _photo(self, ref: str | None) -> str | InputFile | None:
        """A photo stored from a file: its Telegram file id once known, else the upload."""
        if ref is None or not ref.startswith(MEDIA_PREFIX):
            return None
        if ref in self.file_ids:
            return self.file_ids[ref]
        media = await media_of(self.uow(), ref=ref)
        if media is None:
            return None
        name, data, file_id = media
        if file_id:
            self.file_ids[ref] = file_id
            return file_id
        return InputFile(data, filename=name)

    async def _personal(self, d: Delivery) -> PostContent:
        """`{name}` becomes the member's name (a mention when posted in the group)."""
        member = d.member_id if d.member_id is not None else d.target_chat
        if NAME_TAG not in d.content.text or member < 0:
            return d.content
        name = await display_name(self.uow(), user_id=member) or ""
        return addressed(d.content, name, mention=member if d.target_chat < 0 else None)

    async def _send(self, d: Delivery) -> Result:
        try:
            photo = await self._photo(d.content.photo)
            content = await self._personal(d)
            with paced_by_caller():  # a 429 comes back here: the row is retried later
                message = await send_content(
                    self.bot, d.target_chat, content, photo, survey=d.survey
                )
            if isinstance(photo, InputFile) and message.photo and d.content.photo:
                self.file_ids[d.content.photo] = message.photo[-1].file_id
                await remember_media(
                    self.uow(), ref=d.content.photo, file_id=message.photo[-1].file_id
                )
        except RetryAfter as error:
            self.metrics.retry_after.labels("outbox").inc()
            seconds = retry_seconds(error)
            self.flood.refused(d.target_chat, seconds)
            at = self.clock.now()
            return Result(d, Outcome.RETRY, at, error="429", retry_at=at + _delta(seconds))
        except Forbidden as error:
            return Result(d, Outcome.BLOCKED, self.clock.now(), error=f"403 {error.message}")
        except BadRequest as error:
            return Result(d, Outcome.FAILED, self.clock.now(), error=f"400 {error.message}")
        except TimedOut as error:
            if never_sent(error):  # no connection, or none free: nothing reached Telegram
                return Result(d, Outcome.RETRY, self.clock.now(), error=str(error)[:200])
            return Result(
                d, Outcome.UNCERTAIN, self.clock.now(), error="timed out; may have been sent"
            )
        except (NetworkError, TelegramError) as error:
            return Result(d, Outcome.RETRY, self.clock.now(), error=str(error)[:200])
        await self._after(d, message)
        return Result(d, Outcome.SENT, self.clock.now(), message_id=message.message_id)

    async def _after(self, d: Delivery, message: Message) -> None:
        """Pin, and delete the previous run's message: best effort, never a resend."""
        chat = d.target_chat
        if d.content.pin and chat < 0:
            try:
                await self.bot.pin_chat_message(
                    chat, message.message_id, disable_notification=d.content.silent
                )
            except TelegramError as error:
                log.warning("post %s sent but not pinned in %s: %s", d.post_id, chat, error)
        if d.replace_message is not None:
            try:
                await self.bot.delete_message(chat, d.replace_message)
            except TelegramError as error:
                log.info("previous message of post %s not deleted: %s", d.post_id, error)


def _delta(seconds: float) -> dt.timedelta:
    return dt.timedelta(seconds=seconds)
