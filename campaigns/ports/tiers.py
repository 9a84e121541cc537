"""Membership tiers: a member's standing, their tier, and the entry rewards granted."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Protocol

from campaigns.tiers import Standing


@dataclass(frozen=True)
class TierState:
    """A member's tier as stored, with what counts towards it."""

    user_id: int
    level: int
    since: dt.datetime | None
    below_since: dt.datetime | None
    standing: Standing


class Tiers(Protocol):
    async def state(self, chat_pk: int, user_id: int, since: dt.date | None) -> TierState | None:
        """The member's tier and standing: spend and points earned in the month buckets from
        `since` on, or lifetime totals when None. None if the member was never seen."""

    async def holders(self, chat_pk: int, since: dt.date | None) -> list[TierState]:
        """Every member above the first tier, with their standing (the review reads these)."""

    async def move(
        self, chat_pk: int, user_id: int, *, level: int, at: dt.datetime, only_up: bool
    ) -> bool:
        """Set the tier (and its start, clearing any grace); with `only_up` only if that
        raises it, so of two racing promotions one moves the member. False: nothing moved."""

    async def set_below_since(
        self, chat_pk: int, user_id: int, below_since: dt.datetime | None
    ) -> None: ...

    async def cap(self, chat_pk: int, top: int) -> None:
        """Members stored above level `top` (the ladder was shortened) are put at `top`, the
        tier every reader already counted them in."""

    async def rewarded(self, chat_pk: int, user_id: int) -> set[int]:
        """Levels whose entry reward the member has had."""

    async def reward(self, chat_pk: int, user_id: int, level: int, at: dt.datetime) -> bool:
        """Record the level's reward as granted; False if it was already (a unique row)."""
