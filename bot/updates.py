"""How polled updates are run: different chats side by side, each chat's in arrival order.

PTB runs polled updates one at a time by default. A reply that must wait for its group's
share of Telegram's limits (bot/budget.py) would then hold up every other chat until that
group has room again, up to a minute. The webhook's inbox workers already run chats side by
side, each in order (bot/inbox.py); this gives polling the same shape. Updates without a
chat or user (polls, for one) run at once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any

from telegram import Update
from telegram.ext import BaseUpdateProcessor

# PTB's semaphore is taken before a chat waits its turn: a generous bound, so a chat with a
# backlog cannot fill every place while other chats wait.
MAX_CONCURRENT = 4096


def order_key(update: object) -> int | None:
    """The chat whose updates must stay in order (its sender's id without a chat)."""
    if not isinstance(update, Update):
        return None
    if update.effective_chat is not None:
        return update.effective_chat.id
    return update.effective_user.id if update.effective_user is not None else None


class PerChatOrder(BaseUpdateProcessor):
    """Chats side by side, each chat's updates one at a time in the order they arrived
    (tasks start, and locks are granted, first come first served)."""

    def __init__(self, max_concurrent_updates: int = MAX_CONCURRENT) -> None:
        super().__init__(max_concurrent_updates)
        self._turns: dict[int, tuple[asyncio.Lock, int]] = {}  # chat -> its lock, waiters

    @property
    def chats(self) -> int:
        """Chats with an update running or waiting (tests, metrics)."""
        return len(self._turns)

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        key = order_key(update)
        if key is None:
            await coroutine
            return
        lock, waiting = self._turns.get(key, (asyncio.Lock(), 0))
        self._turns[key] = (lock, waiting + 1)
        try:
            async with lock:
                await coroutine
        finally:
            lock, waiting = self._turns[key]
            if waiting == 1:
                del self._turns[key]
            else:
                self._turns[key] = (lock, waiting - 1)

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to release: PTB waits for running updates itself."""
