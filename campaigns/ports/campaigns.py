"""Campaigns and what their 复盘 reads (campaigns/campaign.py says what each figure means;
storage pre-filters rows to the campaign's objects and days, and counts a few per object)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from campaigns.campaign import (
    AttachKind,
    Campaign,
    CampaignStatus,
    CouponFact,
    OrderFact,
    Reach,
    Response,
)
from campaigns.stats import Kpi


@dataclass(frozen=True)
class CampaignRecord:
    id: int
    chat_pk: int
    chat_id: int  # Telegram's
    campaign: Campaign
    status: CampaignStatus
    ended_at: dt.datetime | None = None
    created_at: dt.datetime | None = None


@dataclass(frozen=True)
class Attached:
    kind: AttachKind
    ref: str  # an id, or a journey's name (a channel's link id; its name once shown)


class Campaigns(Protocol):
    async def add(
        self, chat_pk: int, campaign: Campaign, *, by: int | None, at: dt.datetime
    ) -> int | None:
        """The new campaign's id; None when the group has one of that name already."""

    async def get(self, campaign_id: int) -> CampaignRecord | None: ...

    async def by_name(self, chat_pk: int, name: str) -> CampaignRecord | None: ...

    async def of_group(self, chat_pk: int) -> list[CampaignRecord]:
        """The group's campaigns, the latest start first."""

    async def set_targets(self, campaign_id: int, targets: Mapping[Kpi, float]) -> None: ...

    async def attach(self, campaign_id: int, kind: AttachKind, ref: str, at: dt.datetime) -> bool:
        """False when it was attached already (nothing changes)."""

    async def attached(self, campaign_id: int) -> list[Attached]: ...

    async def holding(self, kind: AttachKind, ref: str) -> int | None:
        """The campaign an object is attached to (the first, for kinds that may have
        several; a channel has one at most)."""

    async def owner(self, kind: AttachKind, object_id: int) -> int | None:
        """The pk of the group an offer, deal, post, broadcast or survey belongs to (None:
        none)."""

    async def ending_before(self, day: dt.date) -> list[CampaignRecord]:
        """Active campaigns whose last day is before `day` (a pre-filter: the caller checks
        the end in each group's timezone)."""
        ...

    async def running_around(self, day: dt.date) -> list[CampaignRecord]:
        """Active campaigns whose days include `day` or a day either side (a pre-filter: the
        caller checks the stage in each group's timezone)."""

    async def finish(self, campaign_id: int, at: dt.datetime) -> bool:
        """active -> finished, once: False when another process finished it first."""

    # --- the 复盘's facts ---

    async def coupons(self, offer_ids: Sequence[int], deal_ids: Sequence[int]) -> list[CouponFact]:
        """Every coupon of these offers and of these deals' offers."""

    async def orders(self, chat_pk: int, since: dt.datetime, until: dt.datetime) -> list[OrderFact]:
        """The group's orders placed in [since, until)."""

    async def reaches(
        self,
        chat_pk: int,
        broadcast_ids: Sequence[int],
        journeys: Sequence[str],
        since: dt.datetime,
        until: dt.datetime,
    ) -> list[Reach]:
        """Private messages sent of these broadcasts (any time) and of these journeys (in
        [since, until)), one per recipient and message."""

    async def referral_points(self, chat_pk: int, since: dt.datetime, until: dt.datetime) -> int:
        """Points the referral rewards granted in [since, until), less their clawbacks."""

    async def confirmed_invites(
        self, chat_pk: int, since: dt.datetime, until: dt.datetime
    ) -> list[tuple[int, str]]:
        """(inviter, name) per invite confirmed in [since, until)."""

    async def responses(
        self,
        chat_pk: int,
        broadcast_ids: Sequence[int],
        post_ids: Sequence[int],
        since: dt.datetime,
        until: dt.datetime,
        as_of: dt.datetime,
    ) -> list[Response]:
        """Each broadcast's recipients and those active within 3 days (up to `as_of`);
        each post's runs sent and the claims in [since, until) of the offers its buttons
        name (campaigns/campaign.py: `responded`)."""
