"""Storage of the analyses: the aggregates behind the funnels and the retention cohorts
(campaigns/funnels.py and campaigns/cohorts.py hold the rules; tests hold the SQL to them)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Protocol

from campaigns.broadcast_variants import ArmCounts
from campaigns.funnels import FunnelKind


@dataclass(frozen=True)
class OfferCounts:
    """One offer's coupons claimed in a period, and how many of those were redeemed."""

    offer_id: int
    name: str
    claimed: int
    redeemed: int


class Analytics(Protocol):
    async def joins(self, chat_pk: int, since: dt.datetime) -> dict[int, dt.datetime]:
        """Each member's first join the bot saw, from `since` (a day early is fine: the rule
        decides the week)."""

    async def active_weeks(self, chat_pk: int, from_day: dt.date) -> set[tuple[int, dt.date]]:
        """(member, Monday) of every week from `from_day` in which the member has a
        member_days row."""

    async def referral(self, chat_pk: int, since: dt.datetime, until: dt.datetime) -> list[int]:
        """The referral funnel's counts (campaigns.funnels.referral_funnel)."""

    async def coupons(
        self, chat_pk: int, since: dt.datetime, until: dt.datetime
    ) -> list[OfferCounts]:
        """Per offer with a claim in the period, by offer id (coupon_funnels)."""

    async def teams(self, chat_pk: int, since: dt.datetime, until: dt.datetime) -> list[int]:
        """Teams started in the period, and of them completed (team_funnels)."""

    async def team_members(self, chat_pk: int, since: dt.datetime, until: dt.datetime) -> list[int]:
        """Members of those teams → of completed ones → who ordered after (team_funnels)."""

    async def messages(
        self, chat_pk: int, kind: FunnelKind, since: dt.datetime, until: dt.datetime
    ) -> list[int]:
        """Broadcast or journey messages sent → active in 3 days → order in 7 (message_funnel)."""

    async def new_members(self, chat_pk: int, since: dt.datetime, until: dt.datetime) -> list[int]:
        """Joined → spoke → checked in → ordered (new_member_funnel)."""

    async def new_members_by_channel(
        self, chat_pk: int, since: dt.datetime, until: dt.datetime
    ) -> dict[int | None, list[int]]:
        """The same counts per channel link of the members' first join (None: no channel's
        link) (channel_funnels)."""

    async def broadcast_arms(self, broadcast_id: int, now: dt.datetime) -> dict[str, ArmCounts]:
        """A broadcast test's arms: members, active in 3 days, ordered in 7
        (campaigns.broadcast_variants.counts_of)."""
