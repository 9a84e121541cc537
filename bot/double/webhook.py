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

import heapq
import threading
import time
from collections import deque
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx

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
    """One update answered with a 2xx: when it was handed to Telegram, when the bot acked it."""

    update_id: int
    chat_id: int
    queued_at: float
    acked_at: float
    attempts: int


class WebhookDelivery:
    """Delivery threads for one webhook; `stop()` ends them and returns what is undelivered."""

    def __init__(
        self,
        url: str,
        *,
        secret: str | None,
        max_connections: int,
        reverse_proxy: str | None,
        retry_first: float = 0.05,
        retry_max: float = 2.0,
        timeout: float = 30.0,
    ) -> None:
        self.url, self.secret, self.max_connections = url, secret, max_connections
        self.reverse_proxy = reverse_proxy
        self.retry_first, self.retry_max, self.timeout = retry_first, retry_max, timeout
        self.delivered: list[Delivered] = []
        self.answers: dict[int, int] = {}  # HTTP status (0: no answer) -> how many
        self.last_error: tuple[int, str] | None = None
        self._chats: dict[int, deque[tuple[JSON, float]]] = {}  # chat -> its queue, in order
        self._ready: deque[int] = deque()  # chats whose head may be sent now
        self._waiting: list[tuple[float, int]] = []  # (retry at, chat) after a failure
        self._failures: dict[int, int] = {}  # chat -> failed attempts of its head
        self._busy: set[int] = set()
        self._cond = threading.Condition()
        self._stopping = False
        self._threads = [
            threading.Thread(target=self._deliver, name=f"webhook-{i}", daemon=True)
            for i in range(max_connections)
        ]
        for thread in self._threads:
            thread.start()

    @property
    def pending(self) -> int:
        """Updates not yet acknowledged (getWebhookInfo's pending_update_count)."""
        with self._cond:
            return sum(len(q) for q in self._chats.values())

    def add(self, update: JSON) -> None:
        with self._cond:
            chat = update_chat(update)
            queue = self._chats.setdefault(chat, deque())
            queue.append((update, time.monotonic()))
            if len(queue) == 1 and chat not in self._busy:
                self._ready.append(chat)
            self._cond.notify()

    def stop(self) -> list[JSON]:
        """Stop delivering (in-flight requests finish); the undelivered updates, in order."""
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        for thread in self._threads:
            thread.join(self.timeout + 1)
        with self._cond:
            rest = [u for q in self._chats.values() for u, _ in q]
            self._chats.clear()
        return sorted(rest, key=lambda u: int(u["update_id"]))

    def _target(self) -> str | None:
        if self.reverse_proxy is None:
            return None
        parts = urlsplit(self.url)
        return (
            self.reverse_proxy.rstrip("/")
            + (parts.path or "/")
            + (f"?{parts.query}" if parts.query else "")
        )

    def _next(self) -> tuple[int, JSON] | None:
        """Wait for a chat whose head may go now; None once stopping."""
        with self._cond:
            while not self._stopping:
                now = time.monotonic()
                while self._waiting and self._waiting[0][0] <= now:
                    self._ready.append(heapq.heappop(self._waiting)[1])
                if self._ready:
                    chat = self._ready.popleft()
                    self._busy.add(chat)
                    return chat, self._chats[chat][0][0]
                wait = self._waiting[0][0] - now if self._waiting else None
                self._cond.wait(wait)
        return None

    def _deliver(self) -> None:
        headers = {"Content-Type": "application/json"}
        if self.secret is not None:
            headers[SECRET_HEADER] = self.secret
        with httpx.Client(timeout=self.timeout) as client:
            while (picked := self._next()) is not None:
                chat, update = picked
                status, error = 0, ""
                target = self._target()
                if target is None:
                    error = "double: no reverse_proxy to reach the webhook through"
                else:
                    try:
                        response = client.post(target, json=update, headers=headers)
                        status = response.status_code
                        if not 200 <= status < 300:
                            error = f"Wrong response from the webhook: {status}"
                    except httpx.HTTPError as exc:
                        error = f"Connection failed: {type(exc).__name__}"
                self._answered(chat, status, error)

    def _answered(self, chat: int, status: int, error: str) -> None:
        with self._cond:
            self._busy.discard(chat)
            self.answers[status] = self.answers.get(status, 0) + 1
            queue = self._chats[chat]
            if not error:
                update, queued_at = queue.popleft()
                attempts = self._failures.pop(chat, 0) + 1
                self.delivered.append(
                    Delivered(int(update["update_id"]), chat, queued_at, time.monotonic(), attempts)
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
            self._cond.notify_all()
