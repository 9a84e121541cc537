"""Deal posts kept current without flooding the group: one edit per interval per deal."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Awaitable, Callable

from bot.budget import ChatBudget
from bot.clock import SYSTEM, Clock

Edit = Callable[[int, dt.datetime | None], Awaitable[None]]


class DealPostEdits:
    """Edits a deal post when its counts change, at most once per `interval`.

    Joins can come in bursts, and Telegram allows a group about 20 edits a minute: a change
    right after an edit waits for one later edit that shows everything up to then. When the
    group is known (`chat_id`), the edit also waits for room in the group's budget, leaving
    `keep` of its minute for other replies, so a tap's handler never waits on the limiter.
    """

    def __init__(
        self,
        edit: Edit,
        *,
        interval: float = 5.0,
        clock: Clock = SYSTEM,
        budget: ChatBudget | None = None,
        keep: int = 5,
    ) -> None:
        self.edit = edit  # renders and sends the edit (handlers.groupbuys.edit_deal_post)
        self.interval = interval
        self.clock = clock
        self.budget, self.keep = budget, keep
        self.edited: dict[int, float] = {}  # deal -> when its post was last edited
        self.pending: dict[int, asyncio.Task[None]] = {}  # deal -> its coalesced later edit
        self.chats: dict[int, int] = {}  # deal -> its group, once a caller said

    def _wait(self, deal_id: int) -> float:
        at = self.edited.get(deal_id, -1e9) + self.interval
        chat = self.chats.get(deal_id)
        if self.budget is not None and chat is not None:
            at = max(at, self.budget.room_at(chat, keep=self.keep))
        return at - self.clock.monotonic()

    async def refresh(
        self, deal_id: int, now: dt.datetime | None = None, *, chat_id: int | None = None
    ) -> None:
        """Edit now, or once the interval since the last edit has passed (and the group has
        room)."""
        if chat_id is not None:
            self.chats[deal_id] = chat_id
        if deal_id in self.pending:
            return
        if self._wait(deal_id) <= 0:
            await self._edit(deal_id, now)
        else:
            self.pending[deal_id] = asyncio.get_running_loop().create_task(
                self._later(deal_id), name=f"deal-post-{deal_id}"
            )

    async def _later(self, deal_id: int) -> None:
        try:
            while (wait := self._wait(deal_id)) > 0:
                await self.clock.sleep(wait)
            await self._edit(deal_id, None)
        finally:
            self.pending.pop(deal_id, None)

    async def _edit(self, deal_id: int, now: dt.datetime | None) -> None:
        self.edited[deal_id] = self.clock.monotonic()
        await self.edit(deal_id, now)

    def stop(self) -> None:
        """Drop the edits still waiting: the next start refreshes every live post anyway."""
        for task in list(self.pending.values()):
            task.cancel()
