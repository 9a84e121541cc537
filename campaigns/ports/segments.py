"""Storage of member summaries, stages, RFM scores and segment counts (campaigns/segments.py
holds the rules; the SQL that applies them to a whole group is held to them by tests)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from campaigns.segments import StageThresholds


@dataclass(frozen=True)
class ActiveDay:
    """A member active on a day of the group's calendar."""

    chat_pk: int
    user_id: int
    day: dt.date
    in_window: bool = True  # its month is in the group's RFM window (chats.rfm_from)


@dataclass(frozen=True)
class StageChange:
    user_id: int
    old: str
    new: str


@dataclass(frozen=True)
class SegmentCounts:
    """Members per key of one dimension (stage, rfm, tier), now and on an earlier day."""

    now: dict[str, int]
    before: dict[str, int] | None  # None: no count stored for that day


@dataclass(frozen=True)
class ListedMember:
    user_id: int
    name: str
    username: str | None
    stage: str | None
    segment: str | None
    points: int
    orders: int
    spend: int


@dataclass(frozen=True)
class MemberSegments:
    """Where one member stands, as `export members` writes it."""

    stage: str | None
    r: int | None
    f: int | None
    m: int | None
    segment: str | None
    tier: int
    tier_name: str = ""  # the group's name for it (the use case fills it in)


class Segments(Protocol):
    async def active_days(self, days: Sequence[ActiveDay]) -> int:
        """Record each member's active days once (in days, months and the member's
        summary); returns how many were new."""

    async def order_seen(
        self,
        chat_pk: int,
        user_id: int,
        amount: int,
        at: dt.datetime,
        month: dt.date,
        *,
        in_window: bool = True,
    ) -> None:
        """A stored order in the member's summary (its window counters too when its month is
        in the RFM window; the last activity moves up to it) and the month's bucket."""

    async def thresholds(self, chat_pk: int) -> StageThresholds: ...

    async def set_thresholds(self, chat_pk: int, thresholds: StageThresholds) -> None: ...

    async def keep_window(self, chat_pk: int, window_from: dt.date) -> bool:
        """Move the group's RFM window to start at `window_from`'s month: the months that left
        it are taken out of every member's window counters (or, the first time and when the
        window grew, the counters are summed afresh from the buckets). Once per move, whatever
        runs it at the same time; True if this call moved it."""

    async def rebuild(self, chat_pk: int, timezone: str, window_from: dt.date | None) -> int:
        """The member summaries, their window counters (from `window_from`'s month; None: all
        months) and the monthly buckets counted afresh from the log: member days from the
        messages (days missing from `member_days` are added), orders from the orders; the
        buckets' points are left as they are. Returns how many members' summaries changed."""

    async def refresh(
        self, chat_pk: int, now: dt.datetime, thresholds: StageThresholds
    ) -> list[StageChange]:
        """Store every member's stage at `now` (campaigns.segments.stage_of) and every present
        member's RFM scores and segment (score_group) from the window counters (keep_window
        first), in SQL; returns the stage changes of members who had a stage before, each
        also recorded as an event."""

    async def save_counts(self, chat_pk: int, day: dt.date) -> None:
        """Keep today's counts of every dimension (replacing today's earlier ones)."""

    async def counts_on(self, chat_pk: int, dimension: str, day: dt.date) -> dict[str, int] | None:
        """The counts kept for that day, None if none were."""

    async def members_in(
        self, chat_pk: int, dimension: str, key: str, *, offset: int, limit: int
    ) -> tuple[int, list[ListedMember]]:
        """(total, one page) of the present members with that stage / segment / tier."""

    async def of_members(self, chat_pk: int) -> dict[int, MemberSegments]:
        """Every member's stored stage, scores, segment and tier, by user id."""
