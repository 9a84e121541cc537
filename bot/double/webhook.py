"""Telegram's side of a webhook, for the double: updates are POSTed to the bot as Telegram
would, and retried the way Telegram retries them.

- Each update is a POST of its JSON, with `X-Telegram-Bot-Api-Secret-Token` when the bot set
  a secret token.
- One chat's updates go one at a time, in order: the next is sent only after the previous
  was answered with a 2xx. Different chats are delivered concurrently, up to the webhook's
  `max_connections`.
- Any other answer, or no answer, is an error (getWebhookInfo's last_error_*); the update is
  sent again after a backoff and its chat waits meanwhile. Nothing is dropped.
- Telegram can only reach public HTTPS URLs. The tests have no such thing, so
  `reverse_proxy` plays the bot's HTTPS proxy: `https://bot.example.com/tg` is delivered to
  `<reverse_proxy>/tg`. Without it every delivery fails: the double never touches the network.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import json
import threading
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

JSON = dict[str, Any]
SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


def update_chat(update: JSON) -> int:
    """The chat an update belongs to (the user's id for a tap without a message)."""
    for key, payload in update.items():
        if key == "update_id" or not isinstance(payload, dict):
            continue
        if isinstance(payload.get("chat"), dict):
            return int(payload["chat"]["id"])
        message = payload.get("message")
        if isinstance(message, dict) and isinstance(message.get("chat"), dict):
            return int(message["chat"]["id"])
        if isinstance(payload.get("from"), dict):
            return int(payload["from"]["id"])
    return 0


@dataclass
class Delivered:
    """One update answered with a 2xx: when it was handed to Telegram (monotonic and wall
    clock), when its last POST started and when the bot acknowledged it."""

    update_id: int
    chat_id: int
    queued_at: float
    queued_wall: float
    posted_at: float
    acked_at: float
    attempts: int


@dataclass
class DeliveryLog:
    """What every webhook the bot has set so far delivered (kept across setWebhook calls)."""

    delivered: list[Delivered] = field(default_factory=list)
    answers: Counter[int] = field(default_factory=Counter)  # HTTP status (0: none) -> count


class WebhookDelivery:
    """Delivery for one webhook: `max_connections` senders on one event loop in a thread of
    its own, each with a keep-alive connection (a lean client, so that a benchmark measures
    the bot rather than the double). `stop()` ends them and returns what is undelivered."""

    def __init__(
        self,
        url: str,
        *,
        secret: str | None,
        max_connections: int,
        reverse_proxy: str | None,
        log: DeliveryLog | None = None,
        retry_first: float = 0.05,
        retry_max: float = 2.0,
        timeout: float = 30.0,
    ) -> None:
        self.url, self.secret, self.max_connections = url, secret, max_connections
        self.reverse_proxy = reverse_proxy
        self.retry_first, self.retry_max, self.timeout = retry_first, retry_max, timeout
        self.log = log or DeliveryLog()
        self.last_error: tuple[int, str] | None = None
        # chat -> its queue, in order: (update, queued at, on the wall clock)
        self._chats: dict[int, deque[tuple[JSON, float, float]]] = {}
        self._ready: deque[int] = deque()  # chats whose head may be sent now
        self._waiting: list[tuple[float, int]] = []  # (retry at, chat) after a failure
        self._failures: dict[int, int] = {}  # chat -> failed attempts of its head
        self._busy: set[int] = set()
        self._lock = threading.Lock()
        self._stopping = False
        self._loop = asyncio.new_event_loop()
        self._work = asyncio.Event()
        self._thread = threading.Thread(target=self._run, name="webhook", daemon=True)
        self._thread.start()

    @property
    def pending(self) -> int:
        """Updates not yet acknowledged (getWebhookInfo's pending_update_count)."""
        with self._lock:
            return sum(len(q) for q in self._chats.values())

    def add(self, update: JSON) -> None:
        with self._lock:
            chat = update_chat(update)
            queue = self._chats.setdefault(chat, deque())
            queue.append((update, time.monotonic(), time.time()))
            if len(queue) == 1 and chat not in self._busy:
                self._ready.append(chat)
        self._loop.call_soon_threadsafe(self._work.set)

    def stop(self) -> list[JSON]:
        """Stop delivering (requests under way finish); the undelivered updates, in order."""
        with self._lock:
            self._stopping = True
        self._loop.call_soon_threadsafe(self._work.set)
        self._thread.join(self.timeout + 1)
        with self._lock:
            rest = [u for q in self._chats.values() for u, _, _ in q]
            self._chats.clear()
        return sorted(rest, key=lambda u: int(u["update_id"]))

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_until_complete(
                asyncio.gather(*(self._sender() for _ in range(self.max_connections)))
            )
        finally:
            self._loop.close()

    def _next(self) -> tuple[int, JSON] | float | None:
        """A chat whose head may go now; else seconds until a retry is due (inf: none);
        None once stopping."""
        with self._lock:
            if self._stopping:
                return None
            now = time.monotonic()
            while self._waiting and self._waiting[0][0] <= now:
                self._ready.append(heapq.heappop(self._waiting)[1])
            if self._ready:
                chat = self._ready.popleft()
                self._busy.add(chat)
                return chat, self._chats[chat][0][0]
            return self._waiting[0][0] - now if self._waiting else float("inf")

    async def _sender(self) -> None:
        connection = _Connection(self.timeout)
        headers = {"Content-Type": "application/json"}
        if self.secret is not None:
            headers[SECRET_HEADER] = self.secret
        try:
            while (picked := self._next()) is not None:
                if isinstance(picked, float):
                    self._work.clear()
                    with contextlib.suppress(TimeoutError):
                        wait = None if picked == float("inf") else picked
                        await asyncio.wait_for(self._work.wait(), wait)
                    self._work.set()  # the other senders look too
                    await asyncio.sleep(0)
                    self._work.clear()
                    continue
                chat, update = picked
                status, error, posted_at = 0, "", time.monotonic()
                target = self._target()
                if target is None:
                    error = "double: no reverse_proxy to reach the webhook through"
                else:
                    try:
                        body = json.dumps(update).encode()
                        status = await connection.post(target, body, headers)
                        if not 200 <= status < 300:
                            error = f"Wrong response from the webhook: {status}"
                    except (OSError, TimeoutError, ValueError, asyncio.IncompleteReadError) as exc:
                        connection.close()
                        error = f"Connection failed: {type(exc).__name__}"
                self._answered(chat, status, error, posted_at)
        finally:
            connection.close()

    def _target(self) -> str | None:
        if self.reverse_proxy is None:
            return None
        parts = urlsplit(self.url)
        return (
            self.reverse_proxy.rstrip("/")
            + (parts.path or "/")
            + (f"?{parts.query}" if parts.query else "")
        )

    def _answered(self, chat: int, status: int, error: str, posted_at: float) -> None:
        with self._lock:
            self._busy.discard(chat)
            self.log.answers[status] += 1
            queue = self._chats[chat]
            if not error:
                update, queued_at, queued_wall = queue.popleft()
                attempts = self._failures.pop(chat, 0) + 1
                acked = time.monotonic()
                self.log.delivered.append(
                    Delivered(
                        int(update["update_id"]),
                        chat,
                        queued_at,
                        queued_wall,
                        posted_at,
                        acked,
                        attempts,
                    )
                )
                if queue:
                    self._ready.append(chat)
                else:
                    del self._chats[chat]
            else:
                self.last_error = (int(time.time()), error)
                failures = self._failures[chat] = self._failures.get(chat, 0) + 1
                backoff = min(self.retry_first * 2 ** (failures - 1), self.retry_max)
                heapq.heappush(self._waiting, (time.monotonic() + backoff, chat))
        self._work.set()


class _Connection:
    """One keep-alive HTTP/1.1 connection to the bot (plain HTTP on loopback)."""

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self.where: tuple[str, int] | None = None
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None

    async def post(self, url: str, body: bytes, headers: dict[str, str]) -> int:
        """The status of one POST. A kept-alive connection the server has closed meanwhile
        (an idle timeout) is replaced and the request sent again, as any client does."""
        parts = urlsplit(url)
        where = (parts.hostname or "127.0.0.1", parts.port or 80)
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        head = [f"POST {path} HTTP/1.1", f"Host: {where[0]}:{where[1]}"]
        head += [f"{k}: {v}" for k, v in headers.items()]
        head.append(f"Content-Length: {len(body)}")
        request = "\r\n".join(head).encode("latin-1") + b"\r\n\r\n" + body
        reused = self.writer is not None and not self.writer.is_closing() and where == self.where
        try:
            return await self._send(where, request)
        except (OSError, asyncio.IncompleteReadError):
            if not reused:
                raise
            self.close()
            return await self._send(where, request)

    async def _send(self, where: tuple[str, int], request: bytes) -> int:
        if self.writer is None or self.writer.is_closing() or where != self.where:
            self.close()
            self.reader, self.writer = await asyncio.wait_for(
                asyncio.open_connection(*where), self.timeout
            )
            self.where = where
        assert self.reader is not None and self.writer is not None
        self.writer.write(request)
        return await asyncio.wait_for(self._response(self.reader), self.timeout)

    async def _response(self, reader: asyncio.StreamReader) -> int:
        status_line = await reader.readuntil(b"\r\n")
        version, status_text = status_line.split()[:2]
        status = int(status_text)
        length, chunked, close = 0, False, version == b"HTTP/1.0"
        while (line := await reader.readuntil(b"\r\n")) != b"\r\n":
            name, _, value = line.decode("latin-1").partition(":")
            name, value = name.strip().lower(), value.strip().lower()
            if name == "content-length":
                length = int(value)
            elif name == "transfer-encoding":
                chunked = "chunked" in value
            elif name == "connection":
                close = value != "keep-alive"
        if chunked:
            while size := int((await reader.readuntil(b"\r\n")).split(b";")[0], 16):
                await reader.readexactly(size + 2)
            await reader.readuntil(b"\r\n")
        elif length:
            await reader.readexactly(length)
        if close:
            self.close()
        return status
