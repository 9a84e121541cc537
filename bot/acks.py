"""Acknowledgements coalesced within each group's share of Telegram's limits.

A morning check-in rush is hundreds of 签到 a minute in one group, and Telegram accepts about
20 messages (edits included) a minute there: one reply per member would be refused with 429
for almost everyone, and those members would never be answered. So the answers many members
trigger at once go through this worker:

- In a quiet group (fewer than `quiet` sends and edits in its last minute, 8 of Telegram's
  20) an answer goes at once, alone, quoting the member's message: nothing changes for a
  small community.
- Otherwise answers wait, in order, and go together: one group message every `interval`
  seconds at most, listing each member on a line. While that message is fresh (sent less than
  `fresh` seconds ago and with fewer than `per_message` lines) the next batch is an edit of
  it, which keeps the chat readable; else a new message starts. A message or edit goes only
  when the group's budget (bot/budget.py) has room while leaving `keep` of its minute for
  other replies, so none is ever refused; answers that wait meanwhile join the next one.
- A member acknowledged only by a line gets the full detail privately if they have started
  the bot, one message each, within the overall limit (the rate limiter paces them).
- A 429 despite all this (another process shared the group) puts the batch back at the front;
  a clean stop sends whatever is still waiting.

The timing lives here; what to say is the handlers' (`Ack`, built from *_texts).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field

from telegram import Bot, Message, ReplyParameters
from telegram.error import BadRequest, Forbidden, RetryAfter, TelegramError, TimedOut

from bot.budget import ChatBudget, never_sent
from bot.clock import SYSTEM, Clock
from campaigns.content import visible_length
from handlers.deps import Ack

log = logging.getLogger(__name__)

MESSAGE_LIMIT = 4096  # characters Telegram takes in one message (UTF-16 units, after the HTML)
Reachable = Callable[[Sequence[int]], Awaitable[set[int]]]  # who of these started the bot


def _length(line: str) -> int:
    """A line's length in a message as Telegram limits it (the lines are HTML)."""
    return visible_length(line, "HTML")


@dataclass
class _Open:
    """The group's newest list of acknowledgements, edited while it is fresh."""

    message_id: int
    lines: list[str]
    sent: float  # monotonic


@dataclass
class _Group:
    pending: list[Ack] = field(default_factory=list)
    task: asyncio.Task[None] | None = None
    last: float = -1e9  # monotonic time of the last message or edit sent from here
    open: _Open | None = None
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    sleeping: bool = False  # its task waits on the clock (a stop may cancel it)
    at_most: int | None = None  # lines in the next new list, after Telegram said too long


class GroupAcks:
    """Per group: answer at once when quiet, else coalesce into messages and edits."""

    def __init__(
        self,
        bot: Bot,
        budget: ChatBudget,
        *,
        reachable: Reachable | None = None,
        clock: Clock = SYSTEM,
        interval: float = 3.0,
        keep: int = 5,
        quiet: int | None = None,
        fresh: float = 30.0,
        per_message: int = 40,
    ) -> None:
        self.bot, self.budget, self.clock = bot, budget, clock
        self.reachable = reachable
        # Quiet: under 8 of a group's 20 a minute used (two fifths, whatever the limit).
        self.interval, self.keep = interval, keep
        self.quiet = quiet if quiet is not None else max(1, budget.group_limit * 2 // 5)
        self.fresh, self.per_message = fresh, per_message
        self.groups: dict[int, _Group] = {}
        self.private: asyncio.Queue[tuple[int, str]] = asyncio.Queue()
        self._private_task: asyncio.Task[None] | None = None
        self._private_sending = 0  # a private detail taken from the queue and not yet sent
        self._working = 0  # flushes and private sends under way (tests wait for them: settled)
        self._stopping = False
        # What was sent, for logs and tests: new group messages, group edits, private ones;
        # and the private details queued.
        self.messages = self.edits = self.privately = self.queued_privately = 0

    async def add(self, chat_id: int, ack: Ack) -> None:
        """Answer now if the group is quiet, else in its next message or edit."""
        g = self.groups.setdefault(chat_id, _Group())
        g.pending.append(ack)
        if self._stopping:  # e.g. the activity buffer's last flush announces a tier
            for _ in range(3 * len(g.pending) + 3):  # bounded: Telegram may keep refusing
                if not g.pending or g.lock.locked():
                    break
                await self._flush(chat_id, g)
            return
        if g.task is not None or g.lock.locked():
            return  # a flush is due or under way: it takes this one too
        if len(g.pending) == 1 and self._quiet(chat_id):
            await self._flush(chat_id, g)
        if g.pending and g.task is None:
            g.task = asyncio.get_running_loop().create_task(
                self._later(chat_id, g), name=f"acks-{chat_id}"
            )

    def _quiet(self, chat_id: int) -> bool:
        b = self.budget
        return b.used(chat_id) < self.quiet and b.room_at(chat_id, keep=self.keep) <= (
            self.clock.monotonic()
        )

    def _due(self, chat_id: int, g: _Group) -> float:
        """When the group's next message or edit may go (monotonic)."""
        return max(g.last + self.interval, self.budget.room_at(chat_id, keep=self.keep))

    async def _later(self, chat_id: int, g: _Group) -> None:
        try:
            while g.pending:
                wait = self._due(chat_id, g) - self.clock.monotonic()
                if wait > 0:
                    g.sleeping = True
                    try:
                        await self.clock.sleep(wait)
                    finally:
                        g.sleeping = False
                    continue
                await self._flush(chat_id, g)
        finally:
            g.task = None

    async def _flush(self, chat_id: int, g: _Group) -> None:
        """One request: the waiting answers alone, as an edit of the open list, or as a new
        list. What does not fit waits for the next."""
        async with g.lock:
            self._working += 1
            try:
                await self._send_one(chat_id, g)
            finally:
                self._working -= 1

    async def _send_one(self, chat_id: int, g: _Group) -> None:
        now = self.clock.monotonic()
        g.last = now
        o = g.open
        if o is not None and (
            now - o.sent > self.fresh
            or len(o.lines) >= self.per_message
            or (g.pending and not self._fit(o.lines, g.pending[:1], exact=True))  # size
        ):
            o = g.open = None
        if o is None and len(g.pending) == 1:
            ack = g.pending.pop(0)
            if await self._request(chat_id, g, [ack], self._send_alone(chat_id, ack)) is not None:
                self.messages += 1
            return
        room = self.per_message - (len(o.lines) if o else 0)
        if o is None and g.at_most is not None:
            room = min(room, g.at_most)
        batch = self._fit(o.lines if o else [], g.pending[:room])
        del g.pending[: len(batch)]
        lines = (o.lines if o else []) + [a.line for a in batch]
        text = "\n".join(lines)
        if o is not None:
            done = await self._request(
                chat_id,
                g,
                batch,
                self.bot.edit_message_text(text, chat_id, o.message_id),
                edit=True,
            )
            if done is None:
                return
            o.lines = lines
            self.edits += 1
        else:
            sent = await self._request(chat_id, g, batch, self.bot.send_message(chat_id, text))
            if not isinstance(sent, Message):
                return
            g.open = _Open(sent.message_id, lines, now)
            g.at_most = None
            self.messages += 1
        if batch and any(a.private for a in batch):
            await self._tell_privately(batch)

    def _fit(self, shown: list[str], batch: list[Ack], *, exact: bool = False) -> list[Ack]:
        """As many answers as fit in one message after `shown` (at least one unless
        `exact`: a new message takes one line whatever its length), measured as Telegram
        counts: an emoji or a 𝔸 in a member's name is two units, not one."""
        size = sum(_length(line) + 1 for line in shown)
        for i, ack in enumerate(batch):
            size += _length(ack.line) + 1
            if size > MESSAGE_LIMIT and (i > 0 or exact):
                return batch[:i]
        return batch

    async def _send_alone(self, chat_id: int, ack: Ack) -> object:
        reply = None
        if ack.reply_to is not None:
            reply = ReplyParameters(message_id=ack.reply_to, allow_sending_without_reply=True)
        return await self.bot.send_message(chat_id, ack.alone, reply_parameters=reply)

    async def _request(
        self,
        chat_id: int,
        g: _Group,
        batch: list[Ack],
        request: Awaitable[object],
        *,
        edit: bool = False,
    ) -> object | None:
        """Send; on a 429 (the rate limiter gave up) or a network failure the batch goes back
        to the front to be sent later; an edit that Telegram refuses starts a new message. A
        new message whose request timed out may have arrived: it is not sent again (a member
        answered twice is worse than a line that may be missing); an edit can be repeated, and
        so can a request that never reached Telegram (budget.never_sent)."""
        try:
            return await request
        except asyncio.CancelledError:
            # The stop's time limit, most likely while the batch waited for the group's
            # minute to have room: it is still unsent, and counted as such (waiting()).
            g.pending[:0] = batch
            raise
        except RetryAfter:
            g.pending[:0] = batch
        except TimedOut as error:
            if edit or never_sent(error):  # an edit may repeat, an unsent request must
                g.pending[:0] = batch
            else:
                log.warning(
                    "acknowledgements in %s may not have arrived (%s); not sent again",
                    chat_id,
                    error,
                )
        except BadRequest as error:
            if g.open is not None and "not modified" not in str(error):
                g.open = None  # the list was deleted, or is too old to edit: start anew
                g.pending[:0] = batch
            elif "too long" in str(error).lower() and len(batch) > 1:
                # Measured to fit, yet too long for Telegram: never lose the batch for
                # that; half as many lines in the next list, down to one.
                g.at_most = len(batch) // 2
                g.pending[:0] = batch
            else:
                log.warning("acknowledgements in %s refused: %s", chat_id, error)
        except Forbidden as error:
            log.info("acknowledgements in %s dropped: %s", chat_id, error)  # the bot is out
        except TelegramError as error:
            log.warning("acknowledgements in %s failed, sent later: %s", chat_id, error)
            g.pending[:0] = batch
        return None

    async def _tell_privately(self, batch: list[Ack]) -> None:
        """The full detail, privately, to members of the batch who started the bot."""
        wanted = [a for a in batch if a.private]
        if self.reachable is None or not wanted:
            return
        try:
            reachable = await self.reachable([a.user_id for a in wanted])

        except Exception:  # a database hiccup costs the private detail, not the group's lines
            log.exception("who started the bot could not be read")
            return
        for ack in wanted:
            if ack.user_id in reachable and ack.private:
                self.private.put_nowait((ack.user_id, ack.private))
                self.queued_privately += 1
        if not self.private.empty() and self._private_task is None:
            self._working += 1  # from now: the task counts as working until the queue is empty
            self._private_task = asyncio.get_running_loop().create_task(
                self._send_private(), name="acks-private"
            )

    async def _send_private(self) -> None:
        """One at a time: the rate limiter spaces them within the overall limit."""
        try:
            while not self.private.empty():
                user_id, text = self.private.get_nowait()
                self._private_sending = 1  # until sent or refused; a stop cut off leaves it
                await self.budget.until_room(user_id)  # one a second in a private chat
                try:
                    await self.bot.send_message(user_id, text)
                    self.privately += 1
                except TelegramError as error:  # blocked the bot, or gone: only a courtesy
                    log.info("private acknowledgement to %s not sent: %s", user_id, error)
                self._private_sending = 0
        finally:
            self._private_task = None
            self._working -= 1

    async def _drain(self, chat_id: int, g: _Group) -> None:
        """At a stop: one group's waiting answers, now, in order."""
        if g.task is not None:
            if g.sleeping:  # else it is sending: let that request finish
                g.task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await g.task
        tries = 0
        while g.pending and tries < 3 * len(g.pending) + 3:
            tries += 1
            await self._flush(chat_id, g)

    def waiting(self) -> int:
        """Answers not yet shown in their group."""
        return sum(len(g.pending) for g in self.groups.values())

    async def settled(self) -> None:
        """Return once nothing here can go on without time passing: every answer is out, or
        waits on the clock (for its turn, or asleep in the rate limiter after a 429). For
        tests, which move a fake clock and then let what it woke finish."""
        await asyncio.sleep(0)  # whoever the clock just woke starts first
        # Polled: the limiter's sleeps are counted in the budget, not signalled.
        while self._working > self.budget.waiting:  # noqa: ASYNC110
            await asyncio.sleep(0)  # a flush reads the database: let it run

    async def stop(self) -> None:
        """A clean stop: what waits is sent now, as fast as the groups' limits allow (the
        rate limiter waits for room), then the private details."""
        self._stopping = True
        owed = self.waiting()
        # As few messages as Telegram's size allows: the group's minute may be short of room,
        # and the stop has a time limit.
        self.per_message = 10**6
        # Groups side by side: the budget paces them all (30 a second overall), and one by one
        # a stop with hundreds of groups waiting ran out of its time limit.
        try:
            await asyncio.gather(
                *(self._drain(chat_id, g) for chat_id, g in list(self.groups.items()))
            )
            if self._private_task is not None:
                await self._private_task
        finally:
            # Also when the stop's time limit cuts this off (a rush bigger than the groups'
            # 20 messages a minute can carry in that time): the operator learns how many.
            if left := self.waiting():
                log.warning("%d acknowledgements could not be sent before the stop", left)
            if private := self.private.qsize() + self._private_sending:
                log.warning("%d private details could not be sent before the stop", private)
            if owed and not left and not private:  # the operator learns that too
                log.info("stopping: the %d acknowledgements still owed were sent", owed)
