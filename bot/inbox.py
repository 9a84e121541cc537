"""Webhook mode: Telegram's updates are stored in the inbox before they are acknowledged,
and workers drain it through the same Application (process_update) as polling.

Receiving (`telegram_route`): the secret token is checked before the body is read; the body
is capped, must be UTF-8 JSON that PTB reads as an Update, and is stored under its update id
(a redelivery is stored once). Telegram gets its 200 only after that commit, so a process
killed at any moment loses nothing: an update is either stored or redelivered by Telegram.
A wrong or missing token is a 401 and stores nothing; junk is a 4xx, never a 500; a database
failure is a 503, which Telegram retries.

Working (`InboxWorker`): updates are leased chat by chat (see SqlInbox.claim): one worker
holds a chat at a time, so each chat's updates run in order on any number of processes;
chats run concurrently. An update counts as done only after its effects are committed,
including member messages waiting in the activity buffer, which is flushed first. A worker
that dies leaves its chats leased; another takes them over when the lease expires, and
processes the unfinished updates again: update ids make the stored effects of a second run
harmless (DuplicateUpdate), so nothing is counted twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import functools
import hmac
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from telegram import Update

from bot.clock import SYSTEM, Clock
from bot.webhooks import Refused, read_body
from storage.repositories.inbox import InboxItem
from storage.uow import SqlUnitOfWork

log = logging.getLogger(__name__)
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
# Telegram's updates are a few kilobytes; a generous cap, since refusing a real one would
# make Telegram retry it forever and hold up its chat.
MAX_UPDATE = 1024 * 1024
MAX_UPDATE_ID = 2**63 - 1

Store = Callable[[int, int, str], Awaitable[bool]]


def chat_key(update: Update) -> int:
    """The chat whose updates must run in order: the chat, else the user (0: neither)."""
    if update.effective_chat is not None:
        return update.effective_chat.id
    if update.effective_user is not None:
        return update.effective_user.id
    return 0


def parse_update(text: str) -> tuple[int, int] | None:
    """(update_id, chat key) of a body Telegram could have sent, else None."""
    try:
        data: Any = json.loads(text)
    except (ValueError, RecursionError):
        return None
    if not isinstance(data, dict):
        return None
    update_id = data.get("update_id")
    if type(update_id) is not int or not 0 <= update_id <= MAX_UPDATE_ID:
        return None
    try:
        update = Update.de_json(data, None)
    except Exception:  # PTB's parsers raise all sorts on hostile shapes
        return None
    return update_id, chat_key(update)


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
            await store(*parsed, text)
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
    """Store one update in its own transaction; `stored` is told after a new one commits."""

    async def store(update_id: int, chat_id: int, body: str) -> bool:
        async with uow() as work:
            new = await work.inbox.store(bot_id, update_id, chat_id, body, clock.now())
            await work.commit()
        if new and stored is not None:
            stored()
        return new

    return store


async def inbox_depth(uow: Callable[[], SqlUnitOfWork], bot_id: int | None = None) -> int:
    """Updates received and not yet processed (for /metrics)."""
    async with uow() as work:
        return await work.inbox.depth(bot_id)


class InboxWorker:
    """Drains the inbox: up to `chats` chats at a time, each chat's updates in order."""

    def __init__(
        self,
        uow: Callable[[], SqlUnitOfWork],
        *,
        bot_id: int,
        holder: str,
        process: Callable[[str], Awaitable[None]],
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
        self._held: dict[int, int] = {}  # update id -> chat: leased, not yet done
        self._running: dict[int, asyncio.Task[None]] = {}  # chat -> its run
        self._nudge = asyncio.Event()
        self._stopping = False
        self._tasks: list[asyncio.Task[None]] = []

    def wake(self) -> None:
        """New updates were stored (by this process): claim now instead of at the next poll."""
        self._nudge.set()

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
        await asyncio.gather(*self._running.values(), return_exceptions=True)
        self._tasks = []

    async def drain(self) -> int:
        """Process everything claimable now, then return how many were done (tests, demo)."""
        before = self.processed
        while claimed := await self._claim(self.chats):
            await asyncio.gather(*(self._chat(items) for items in claimed.values()))
        return self.processed - before

    async def _loop(self) -> None:
        with contextlib.suppress(Exception):
            await self.recover()
        while not self._stopping:
            self._nudge.clear()
            free = self.chats - len(self._running)
            started = 0
            if free > 0:
                try:
                    claimed = await self._claim(free)
                except Exception:
                    log.exception("inbox claim failed; retrying")
                    claimed = {}
                for chat, items in claimed.items():
                    task = asyncio.get_running_loop().create_task(self._chat(items))
                    self._running[chat] = task
                    task.add_done_callback(functools.partial(self._ended, chat))
                started = len(claimed)
            if self._stopping or (free > 0 and started == free):
                continue  # every free slot filled: there may be more
            await self._wait(self.poll)

    def _ended(self, chat: int, _: object) -> None:
        self._running.pop(chat, None)
        self._nudge.set()

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

    async def _chat(self, items: list[InboxItem]) -> None:
        """One chat's leased updates, in order; done once their effects are committed."""
        done: list[int] = []
        try:
            for item in items:
                if self._stopping:
                    break
                try:
                    await self.process(item.body)
                except Exception:
                    log.exception("update %s could not be processed; dropped", item.update_id)
                done.append(item.update_id)
            await self.flush()  # member messages of these updates, before they count as done
            await self._done(done)
        except Exception:
            log.exception(
                "inbox: %d updates of chat %s processed but not recorded; they run again "
                "after their lease expires",
                len(done),
                items[0].chat_id,
            )
        finally:
            rest = [i.update_id for i in items if i.update_id not in set(done)]
            if rest:
                with contextlib.suppress(Exception):
                    await self._release(rest)
            for item in items:
                self._held.pop(item.update_id, None)

    async def _done(self, update_ids: list[int]) -> None:
        async with self.uow() as work:
            marked = await work.inbox.done(self.bot_id, self.holder, update_ids, self.clock.now())
            await work.commit()
        self.processed += marked
        if marked < len(update_ids):
            log.warning(
                "inbox: %d updates were taken over by another worker while this one ran them "
                "(lease %.0f s too short?)",
                len(update_ids) - marked,
                self.lease,
            )

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
                    kept = await work.inbox.renew(
                        self.bot_id, self.holder, held, now + dt.timedelta(seconds=self.lease)
                    )
                    await work.commit()
            except Exception:
                log.exception("inbox leases not renewed")
                continue
            if kept < len(held):
                log.debug("inbox: %d held updates finished meanwhile", len(held) - kept)
