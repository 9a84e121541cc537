"""Group-buy deals, teams and team members."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Protocol

from campaigns.groupbuys import Deal, TeamStatus


@dataclass(frozen=True)
class DealRecord:
    id: int
    chat_pk: int
    deal: Deal
    description: str | None
    taken: int
    offer_id: int
    message_id: int | None = None
    photo_name: str | None = None  # the deal has a photo (its post is a photo with a caption)
    photo_file_id: str | None = None  # Telegram's id for it, once uploaded


@dataclass(frozen=True)
class TeamRecord:
    id: int
    deal_id: int
    leader_id: int
    status: TeamStatus
    members: int
    size: int
    expires_at: dt.datetime
    message_id: int | None
    share_token: str | None = None


class GroupBuys(Protocol):
    async def add_deal(
        self,
        chat_pk: int,
        deal: Deal,
        *,
        description: str | None,
        offer_id: int,
        at: dt.datetime,
        photo: tuple[str, bytes] | None = None,
    ) -> int:
        """`photo` is (file name, bytes), uploaded when the deal is first posted."""

    async def deal(self, deal_id: int) -> DealRecord | None: ...

    async def take_unit(self, deal_id: int) -> bool:
        """Reserve one unit of stock, unless it is gone (a conditional UPDATE)."""

    async def release_units(self, deal_id: int, n: int) -> None: ...

    async def add_team(
        self,
        deal_id: int,
        leader_id: int,
        *,
        size: int,
        at: dt.datetime,
        expires_at: dt.datetime,
        share_token: str,
    ) -> int: ...

    async def team(self, team_id: int) -> TeamRecord | None: ...

    async def deals_of(self, chat_pk: int) -> list[DealRecord]:
        """The group's deals, newest first."""

    async def end_deal(self, deal_id: int, at: dt.datetime) -> bool:
        """Bring a deal's end forward to `at`; False if it had ended already."""

    async def end_payouts(self, now: dt.datetime) -> int:
        """End the payout offers of deals whose end has passed (posted or not)."""

    async def team_by_token(self, share_token: str) -> TeamRecord | None:
        """The team whose share link carries this token."""

    async def add_member(self, team_id: int, deal_id: int, user_id: int, at: dt.datetime) -> bool:
        """False if the member is in this team or in another open team of the deal."""

    async def grow(self, team_id: int, at: dt.datetime) -> int | None:
        """One more member if the team is open, unexpired and not full; the new count."""

    async def shrink(self, team_id: int, user_id: int) -> int | None:
        """Remove the member from the open team; the new count, None if they were not in it."""

    async def close(self, team_id: int, status: TeamStatus, at: dt.datetime) -> bool:
        """Open -> complete or expired, once; frees the members for other teams."""

    async def members_of(self, team_id: int) -> list[int]: ...

    async def due(self, now: dt.datetime, limit: int) -> list[TeamRecord]:
        """Open teams whose time is up."""

    async def set_message(self, team_id: int, message_id: int) -> None: ...

    async def set_deal_message(
        self, deal_id: int, message_id: int, photo_file_id: str | None = None
    ) -> None: ...

    async def deal_photo(self, deal_id: int) -> bytes | None: ...

    async def fullest_open_team(self, deal_id: int, now: dt.datetime) -> int | None:
        """The open, unexpired, not yet full team closest to completing (oldest on a tie)."""

    async def team_counts(self, deal_id: int) -> dict[TeamStatus, int]: ...

    async def live_posts(self, now: dt.datetime, limit: int) -> tuple[list[int], list[int]]:
        """Posted deals not yet over, and open unexpired teams with a card: their ids."""

    async def ended_deals(self, now: dt.datetime, limit: int) -> list[DealRecord]:
        """Posted deals whose end passed, each returned once (marked ended)."""
