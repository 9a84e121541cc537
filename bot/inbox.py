"""Webhook mode: Telegram's updates are stored in the inbox before they are acknowledged,
and workers drain it through the same Application (process_update) as polling.

Receiving (`telegram_route`, `InboxWriter`): the secret token is checked before the body is
read; the body is capped, must be UTF-8 JSON with an update id and one update naming its chat
or sender, and is stored under its update id (a redelivery is stored once). Telegram gets its
200 only after that commit, so a process killed at any moment loses nothing: an update is
either stored or delivered again by Telegram. A wrong or missing token is a 401 and stores
nothing; junk is a 4xx, never a 500; a database failure is a 503, which Telegram retries.

Working (`InboxWorker`): updates are leased chat by chat (see SqlInbox.claim): one worker
holds a chat at a time, so each chat's updates run in order on any number of processes, and
chats run side by side. An update counts as done only after its effects are committed,
including member messages waiting in the activity buffer, which is flushed first. A worker
that dies leaves its chats leased; another takes them over when the lease expires (at once
if it died on this host) and runs the unfinished updates again: update ids make the stored
effects of a second run harmless (DuplicateUpdate), so nothing is counted twice. A reply the
dead worker had not yet sent for an update whose effect it had committed is not sent again.

Why leases on the inbox's rows and not a per-chat advisory lock or hash partitioning: a lease
needs no connection held open per chat and survives a worker cut off from the database (its
chats come back after a known time); partitioning would tie each chat to one live worker and
need rebalancing whenever one joins or dies, and a hot chat could not move to an idle one.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import hmac
import json
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import asyncpg
from sqlalchemy.engine import make_url
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from bot.clock import SYSTEM, Clock
from bot.logs import log_failure
from bot.webhooks import Refused, read_body
from storage.engine import CONNECT_TIMEOUT
from storage.repositories.chats import SETTINGS_CHANNEL
from storage.repositories.inbox import CHANNEL, InboxItem
from storage.uow import SqlUnitOfWork

log = logging.getLogger(__name__)
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
# Telegram's updates are a few kilobytes; a generous cap, since refusing a real one would
# make Telegram retry it forever and hold up its chat.
MAX_UPDATE = 1024 * 1024
MAX_UPDATE_ID = 2**63 - 1
# Seconds the webhook waits for its update to be stored before answering 503 (Telegram
# retries later): a database that hangs must not hold Telegram's connections for minutes.
STORE_TIMEOUT = 10.0

Store = Callable[[int, int, str], Awaitable[bool]]


def chat_key(payload: dict[str, Any]) -> int | None:
    """The chat whose updates must run in order, as PTB's effective_chat would say: the
    update's chat (a tap's: its message's), else its sender; None: neither is there."""
    for holder in (payload, payload.get("message")):
        chat = holder.get("chat") if isinstance(holder, dict) else None
        if isinstance(chat, dict) and _is_id(chat.get("id")):
            return int(chat["id"])
    sender = payload.get("from") or payload.get("user")
    if isinstance(sender, dict) and _is_id(sender.get("id")):
        return int(sender["id"])
    return None


def _is_id(value: object) -> bool:
    return type(value) is int and -MAX_UPDATE_ID <= value <= MAX_UPDATE_ID


def parse_update(text: str) -> tuple[int, int] | None:
    """(update_id, chat key) of a body Telegram could have sent, else None: an object with
    an update id and exactly one update, which names its chat or sender (a poll has none).

    Only what storing needs is checked here: this runs for every update, and the worker
    reads the rest with PTB (an update it cannot read is logged and dropped).
    """
    try:
        data: Any = json.loads(text)
    except (ValueError, RecursionError):
        return None
    if not isinstance(data, dict) or len(data) != 2:
        return None
    update_id = data.get("update_id")
    if type(update_id) is not int or not 0 <= update_id <= MAX_UPDATE_ID:
        return None
    [(kind, payload)] = [(k, v) for k, v in data.items() if k != "update_id"]
    if not isinstance(payload, dict):
        return None
    chat = chat_key(payload)
    if chat is None and kind != "poll":
        return None
    return update_id, chat or 0


def telegram_route(path: str, secret: str, store: Store) -> Route:
    """POST `path`: Telegram's webhook, acknowledged only once the update is stored."""
    expected = secret.encode()

    async def receive(request: Request) -> Response:
        given = request.headers.get(SECRET_HEADER, "").encode("latin-1")
        if not hmac.compare_digest(given, expected):
            return JSONResponse({"error": "bad secret token"}, status_code=401)
        try:
            body = await read_body(request, MAX_UPDATE)
        except Refused as refused:
            return refused.response
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            return JSONResponse({"error": "not UTF-8"}, status_code=400)
        parsed = parse_update(text)
        if parsed is None:
            return JSONResponse({"error": "not a Telegram update"}, status_code=400)
        try:
            async with asyncio.timeout(STORE_TIMEOUT):
                await store(*parsed, text)
        except TimeoutError:
            log.warning(
                "update %s not stored within %.0f s (is the database answering?); Telegram "
                "will deliver it again",
                parsed[0],
                STORE_TIMEOUT,
            )
            return JSONResponse({"error": "not stored in time, retry"}, status_code=503)
        except Exception:
            log.exception("update %s not stored; Telegram will deliver it again", parsed[0])
            return JSONResponse({"error": "not stored, retry"}, status_code=503)
        return Response(status_code=200)  # empty: a body would be read as a Bot API call

    return Route(path, receive, methods=["POST"])


def inbox_store(
    uow: Callable[[], SqlUnitOfWork],
    bot_id: int,
    *,
    clock: Clock = SYSTEM,
    stored: Callable[[], None] | None = None,
) -> Store:
    """How the webhook stores updates (see InboxWriter); `stored` is told after new ones
    commit."""
    return InboxWriter(uow, bot_id, clock=clock, stored=stored).store


class InboxWriter:
    """Group commit: updates that arrive while a transaction is under way go into the next
    one together. Each request still waits for the commit of its own update, so a 200 keeps
    meaning "stored"; under Telegram's concurrent deliveries this is one commit for many."""

    def __init__(
        self,
        uow: Callable[[], SqlUnitOfWork],
        bot_id: int,
        *,
        clock: Clock = SYSTEM,
        stored: Callable[[], None] | None = None,
        batch: int = 500,
    ) -> None:
        self.uow, self.bot_id, self.clock = uow, bot_id, clock
        self.stored, self.batch = stored, batch
        self._waiting: list[tuple[tuple[int, int, str], asyncio.Future[bool]]] = []
        self._task: asyncio.Task[None] | None = None

    async def store(self, update_id: int, chat_id: int, body: str) -> bool:
        """True once stored and committed, False if already there; raises if not stored."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[bool] = loop.create_future()
        self._waiting.append(((update_id, chat_id, body), future))
        if self._task is None or self._task.done():
            self._task = loop.create_task(self._write(), name="inbox-writer")
        return await future

    async def _write(self) -> None:
        while self._waiting:
            batch, self._waiting = self._waiting[: self.batch], self._waiting[self.batch :]
            try:
                async with self.uow() as work:
                    new = await work.inbox.store_many(
                        self.bot_id, [update for update, _ in batch], self.clock.now()
                    )
                    if new:
                        await work.inbox.announce()
                    await work.commit()
            except Exception as error:
                for _, future in batch:
                    if not future.done():
                        future.set_exception(error)
                        future.exception()  # retrieved here too: its request may be gone
                continue
            for update, future in batch:
                if not future.done():
                    future.set_result(update[0] in new)
                    new.discard(update[0])  # a second copy in one batch is not new
            if self.stored is not None:
                self.stored()


async def inbox_depth(uow: Callable[[], SqlUnitOfWork], bot_id: int | None = None) -> int:
    """Updates received and not yet processed (for /metrics)."""
    async with uow() as work:
        return await work.inbox.depth(bot_id)


RUNS = 4  # runs of an update whose handler fails before it is given up
RETRY_PAUSES = (2, 10, 60)  # seconds before the second, third and fourth run


@dataclass
class _Run:
    """What a chat's run did: updates done, and the one that failed (to run again later)."""

    done: list[int] = field(default_factory=list)
    failed: InboxItem | None = None


class InboxWorker:
    """Drains the inbox: up to `chats` chats at a time, each chat's updates in order.

    Chats run side by side; whenever some have finished, one transaction records them all
    done (after one flush of the activity buffer), and the free places are filled with one
    claim. Under load a round covers many chats, so the bookkeeping costs three short
    transactions per round, not per update.
    """

    def __init__(
        self,
        uow: Callable[[], SqlUnitOfWork],
        *,
        bot_id: int,
        holder: str,
        process: Callable[[str], Awaitable[bool]],
        flush: Callable[[], Awaitable[object]],
        chats: int = 16,
        per_chat: int = 50,
        lease: float = 30.0,
        poll: float = 0.25,
        clock: Clock = SYSTEM,
        dead: Callable[[str], bool] = lambda _: False,
    ) -> None:
        self.uow, self.bot_id, self.holder = uow, bot_id, holder
        self.process, self.flush = process, flush
        self.chats, self.per_chat, self.lease, self.poll = chats, per_chat, lease, poll
        self.clock = clock
        self.dead = dead  # a holder known to be gone: its chats are freed without waiting
        self.processed = 0  # updates this worker marked done
        self.rounds = 0  # transactions that marked updates done
        self._held: dict[int, int] = {}  # update id -> chat: leased, not yet done
        self._running: dict[int, asyncio.Task[_Run]] = {}  # chat -> its run
        self._claimed: dict[int, list[InboxItem]] = {}  # chat -> what its run was given
        self._nudge = asyncio.Event()
        self._stopping = False
        self._tasks: list[asyncio.Task[None]] = []
        self._listener: asyncpg.Connection | None = None
        # Told the chat id when any process changes a group's settings (PostgreSQL only).
        self.on_settings: Callable[[int], None] | None = None

    def _settings_changed(self, _conn: object, _pid: int, _channel: str, payload: object) -> None:
        """Another process changed a group's settings: what this one cached is stale."""
        text = str(payload)
        if self.on_settings is not None and text.lstrip("-").isdigit():
            self.on_settings(int(text))

    def wake(self) -> None:
        """New updates were stored: claim now instead of at the next poll."""
        self._nudge.set()

    async def listen(self, database_url: str) -> None:
        """On PostgreSQL, wake on every commit of new updates by any process (LISTEN), so a
        worker beside the receiving one starts at once too; polling stays as the fallback."""
        if make_url(database_url).get_backend_name() != "postgresql":
            return
        dsn = make_url(database_url).set(drivername="postgresql")
        try:
            self._listener = await asyncpg.connect(
                dsn.render_as_string(hide_password=False), timeout=CONNECT_TIMEOUT
            )
            await self._listener.add_listener(CHANNEL, lambda *_: self.wake())
            await self._listener.add_listener(SETTINGS_CHANNEL, self._settings_changed)
        except (OSError, asyncpg.PostgresError) as error:
            log.warning("inbox: not listening for new updates (%s); polling instead", error)

    async def recover(self) -> int:
        """Free the chats of workers known to be gone (killed on this host): their updates
        run again now instead of when the lease expires."""
        freed = 0
        async with self.uow() as work:
            for holder in await work.inbox.holders(self.bot_id):
                if holder != self.holder and self.dead(holder):
                    freed += await work.inbox.release_all(self.bot_id, holder)
            await work.commit()
        if freed:
            log.warning("inbox: %d updates held by a worker that is gone, taken over", freed)
        return freed

    def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._tasks = [
            loop.create_task(self._loop(), name="inbox"),
            loop.create_task(self._heartbeat(), name="inbox-lease"),
        ]

    async def stop(self) -> None:
        """Finish the update each chat is on, record it, give the rest back at once."""
        self._stopping = True
        self._nudge.set()
        if self._tasks:
            loop, heartbeat = self._tasks
            await loop
            heartbeat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await heartbeat
        self._tasks = []
        log.info("inbox worker: %d updates done in %d rounds", self.processed, self.rounds)
        if self._listener is not None:
            with contextlib.suppress(Exception):
                await self._listener.close(timeout=5)
            self._listener = None

    async def drain(self) -> int:
        """Process everything claimable now, then return how many were done (tests, demo)."""
        before = self.processed
        while claimed := await self._claim(self.chats):
            self._start(claimed)
            await asyncio.gather(*self._running.values())
            await self._settle(list(self._running))
        return self.processed - before

    async def _loop(self) -> None:
        with contextlib.suppress(Exception):
            await self.recover()
        settling: asyncio.Task[None] | None = None
        while True:
            self._nudge.clear()
            if settling is None or settling.done():
                # One settlement at a time, beside the claims: it takes every chat that has
                # finished by now, so the slower it is the more it covers.
                finished = [chat for chat, run in self._running.items() if run.done()]
                settling = None
                if finished:
                    settling = asyncio.get_running_loop().create_task(self._settle(finished))
                    settling.add_done_callback(lambda _: self._nudge.set())
            if self._stopping:
                break
            free = self.chats - len(self._running)
            started = 0
            if free > 0:
                try:
                    claimed = await self._claim(free)
                except Exception as error:
                    log_failure(log, error, "inbox claim failed; retrying")
                    claimed = {}
                self._start(claimed)
                started = len(claimed)
            if free > 0 and started == free:
                continue  # every free place filled: there may be more
            await self._wait(self.poll)
        if settling is not None:
            await settling
        await asyncio.gather(*self._running.values(), return_exceptions=True)
        await self._settle(list(self._running))

    def _start(self, claimed: dict[int, list[InboxItem]]) -> None:
        for chat, items in claimed.items():
            task = asyncio.get_running_loop().create_task(self._chat(items))
            task.add_done_callback(lambda _: self._nudge.set())
            self._running[chat], self._claimed[chat] = task, items

    async def _wait(self, seconds: float) -> None:
        nudged = asyncio.ensure_future(self._nudge.wait())
        nap = asyncio.ensure_future(self.clock.sleep(seconds))
        try:
            await asyncio.wait({nudged, nap}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            nudged.cancel()
            nap.cancel()

    async def _claim(self, chats: int) -> dict[int, list[InboxItem]]:
        now = self.clock.now()
        async with self.uow() as work:
            items = await work.inbox.claim(
                self.bot_id,
                self.holder,
                now,
                now + dt.timedelta(seconds=self.lease),
                chats=chats,
                per_chat=self.per_chat,
            )
            await work.commit()
        by_chat: dict[int, list[InboxItem]] = {}
        for item in items:
            self._held[item.update_id] = item.chat_id
            by_chat.setdefault(item.chat_id, []).append(item)
        if items:
            log.debug("inbox: claimed %d updates of %d chats", len(items), len(by_chat))
        return by_chat

    async def _chat(self, items: list[InboxItem]) -> _Run:
        """One chat's leased updates, in order, until one whose handler failed: that one is
        tried again later (the chat's later updates wait for it), unless it has failed
        `RUNS` times already."""
        run = _Run()
        for item in items:
            if self._stopping:
                break
            try:
                handled = await self.process(item.body)
            except Exception:  # not even an Update: running it again cannot help
                log.exception("update %s could not be read; dropped", item.update_id)
                handled = True
            if not handled and item.attempts + 1 < RUNS:
                run.failed = item
                break
            if not handled:
                log.error(
                    "update %s failed %d times; given up (its chat goes on)", item.update_id, RUNS
                )
            run.done.append(item.update_id)
        return run

    async def _settle(self, chats: list[int]) -> None:
        """Record finished chats: their member messages written first, then all done in one
        transaction; what a stop left unprocessed is given back."""
        done: list[int] = []
        rest: list[int] = []
        failed: list[InboxItem] = []
        for chat in chats:
            task, items = self._running[chat], self._claimed[chat]
            run = task.result() if not task.cancelled() and not task.exception() else _Run()
            finished = set(run.done)
            if run.failed is not None:
                failed.append(run.failed)
            done += [i.update_id for i in items if i.update_id in finished]
            rest += [
                i.update_id for i in items if i.update_id not in finished and i is not run.failed
            ]
        try:
            await self.flush()  # before these updates count as done
            await self._done(done)
            await self._retry_later(failed)
        except Exception as error:
            log_failure(
                log,
                error,
                "inbox: %d updates processed but not recorded; they run again once their lease "
                "expires",
                len(done),
            )
        if rest:
            with contextlib.suppress(Exception):
                await self._release(rest)
        for update_id in done + rest:
            self._held.pop(update_id, None)
        for chat in chats:  # their places are free only now: a chat is settled once
            self._running.pop(chat, None)
            self._claimed.pop(chat, None)

    async def _done(self, update_ids: list[int]) -> None:
        if not update_ids:
            return
        async with self.uow() as work:
            marked = await work.inbox.done(self.bot_id, self.holder, update_ids, self.clock.now())
            await work.commit()
        self.processed += marked
        self.rounds += 1
        if marked < len(update_ids):
            log.warning(
                "inbox: %d updates were taken over by another worker while this one ran them "
                "(lease %.0f s too short?)",
                len(update_ids) - marked,
                self.lease,
            )

    async def _retry_later(self, failed: list[InboxItem]) -> None:
        if not failed:
            return
        now = self.clock.now()
        async with self.uow() as work:
            for item in failed:
                pause = RETRY_PAUSES[min(item.attempts, len(RETRY_PAUSES) - 1)]
                at = now + dt.timedelta(seconds=pause)
                await work.inbox.retry_later(self.bot_id, self.holder, item.update_id, at)
                log.warning(
                    "update %s: its handler failed (run %d of %d); tried again in %d s",
                    item.update_id,
                    item.attempts + 1,
                    RUNS,
                    pause,
                )
            await work.commit()

    async def _release(self, update_ids: list[int]) -> None:
        async with self.uow() as work:
            await work.inbox.release(self.bot_id, self.holder, update_ids)
            await work.commit()

    async def _heartbeat(self) -> None:
        """Renew the leases of held updates every third of the lease."""
        while True:
            await self.clock.sleep(self.lease / 3)
            with contextlib.suppress(Exception):
                await self.recover()
            held = list(self._held)
            if not held:
                continue
            now = self.clock.now()
            try:
                async with self.uow() as work:
                    await work.inbox.renew(
                        self.bot_id, self.holder, held, now + dt.timedelta(seconds=self.lease)
                    )
                    await work.commit()
            except Exception as error:
                log_failure(log, error, "inbox leases not renewed")
