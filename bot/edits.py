"""Cards kept current without flooding their group: the latest edit of each wins.

Every tap on a group-buy team changes its card, and Telegram counts each edit against the
group's 20 a minute. An edit here goes at once when the group has room while leaving `keep`
of its minute for other replies (and the card was not edited in the last `interval` seconds,
0 by default: a quiet group sees every change at once); otherwise only the newest edit for
that card is kept and sent when the group has room. So a rush of joins costs the group what
its budget allows, the handler never waits for it, and the card always ends up showing the
latest state.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Hashable

from telegram.error import TelegramError

from bot.budget import ChatBudget
from bot.clock import SYSTEM, Clock

log = logging.getLogger(__name__)

Edit = Callable[[], Awaitable[None]]


class LatestEdits:
    """Per card (any key): at most one edit per `interval`, within the group's budget."""

    def __init__(
        self, budget: ChatBudget, *, interval: float = 0.0, keep: int = 5, clock: Clock = SYSTEM
    ) -> None:
        self.budget, self.interval, self.keep, self.clock = budget, interval, keep, clock
        self.edited: dict[Hashable, float] = {}  # card -> when it was last edited (monotonic)
        self.latest: dict[Hashable, tuple[int, Edit]] = {}  # card -> its chat, newest edit
        self.pending: dict[Hashable, asyncio.Task[None]] = {}

    def _wait(self, chat_id: int, key: Hashable) -> float:
        at = max(
            self.edited.get(key, -1e9) + self.interval,
            self.budget.room_at(chat_id, keep=self.keep),
        )
        return at - self.clock.monotonic()

    async def put(self, chat_id: int, key: Hashable, edit: Edit) -> None:
        """Edit now, or keep this as the card's newest edit for later."""
        self.latest[key] = (chat_id, edit)
        if key in self.pending:
            return
        if self._wait(chat_id, key) <= 0:
            await self._run(key)
        else:
            self.pending[key] = asyncio.get_running_loop().create_task(
                self._later(key), name=f"edit-{key}"
            )

    async def _later(self, key: Hashable) -> None:
        try:
            while key in self.latest:
                wait = self._wait(self.latest[key][0], key)
                if wait > 0:
                    await self.clock.sleep(wait)
                    continue
                await self._run(key)
        finally:
            self.pending.pop(key, None)

    async def _run(self, key: Hashable) -> None:
        _, edit = self.latest.pop(key)
        self.edited[key] = self.clock.monotonic()
        try:
            await edit()
        except TelegramError as error:  # deleted, or not modified: the next change tries again
            log.warning("card %s not updated: %s", key, error)

    async def stop(self) -> None:
        """A clean stop: the newest edit of each waiting card is sent now (the rate limiter
        waits for the group's room)."""
        for task in list(self.pending.values()):
            task.cancel()
        for key in list(self.latest):
            await self._run(key)
