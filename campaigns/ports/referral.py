"""Referral: invite links, invites and their credit, pending claims, granted tiers."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from campaigns.members import Ranked
from campaigns.referral import InviteStatus, RejectReason, Source


@dataclass(frozen=True)
class LinkRecord:
    """An invite link the bot created for a member (or for one deep-link visitor)."""

    id: int
    chat_pk: int
    owner_id: int
    url: str
    name: str
    kind: str  # "member" or "deeplink"
    expires_at: dt.datetime | None = None


@dataclass(frozen=True)
class InviteRecord:
    """One join and its credit."""

    id: int
    chat_pk: int
    invitee_id: int
    inviter_id: int | None
    source: Source
    status: InviteStatus
    reason: RejectReason | None
    was_member: bool
    joined_at: dt.datetime
    confirmed_at: dt.datetime | None


@dataclass(frozen=True)
class Candidate:
    """A pending invite with the invitee's presence and activity, for confirmation."""

    invite_id: int
    inviter_id: int
    invitee_id: int
    joined_at: dt.datetime
    present: bool
    last_active_at: dt.datetime | None


@dataclass(frozen=True)
class Claim:
    """A deep-link visit or join request waiting for the visitor's join."""

    inviter_id: int
    link_id: int | None
    source: Source
    at: dt.datetime


class InviteLinks(Protocol):
    async def live(self, chat_pk: int, owner_id: int) -> LinkRecord | None:
        """The member's current personal link."""

    async def add(
        self,
        chat_pk: int,
        owner_id: int,
        *,
        url: str,
        name: str,
        kind: str,
        at: dt.datetime,
        creates_join_request: bool = False,
        for_user_id: int | None = None,
        expires_at: dt.datetime | None = None,
    ) -> LinkRecord | None:
        """Store a link; None if the member already has a live personal link (a race lost)."""

    async def by_url(self, url: str) -> LinkRecord | None: ...

    async def for_visitor(
        self, chat_pk: int, owner_id: int, visitor_id: int, now: dt.datetime
    ) -> LinkRecord | None:
        """An unexpired one-use link made earlier for this deep-link visitor."""

    async def revoke(self, link_id: int, at: dt.datetime) -> None: ...


class Invites(Protocol):
    async def add(
        self,
        chat_pk: int,
        invitee_id: int,
        *,
        inviter_id: int | None,
        link_id: int | None,
        source: Source,
        status: InviteStatus,
        reason: RejectReason | None,
        was_member: bool,
        at: dt.datetime,
    ) -> int | None:
        """Record a join; None if this exact join is recorded already."""

    async def latest(self, chat_pk: int, invitee_id: int) -> InviteRecord | None: ...

    async def attribute(
        self,
        invite_id: int,
        *,
        inviter_id: int | None,
        link_id: int | None,
        source: Source,
        status: InviteStatus,
        reason: RejectReason | None,
    ) -> bool:
        """Credit an organic join after all (its link arrived late; a channel's credits nobody,
        `inviter_id` None); False if it was not organic."""

    async def move(
        self,
        invite_ids: Sequence[int],
        *,
        from_status: InviteStatus,
        to_status: InviteStatus,
        at: dt.datetime,
        reason: RejectReason | None = None,
    ) -> set[int]:
        """Conditional status change; returns the ids this writer moved (racing writers split).
        `reason` is recorded with a move to rejected."""

    async def recent_credited(self, chat_pk: int, inviter_id: int, since: dt.datetime) -> int:
        """Attributed joins credited to the inviter since `since` (for the burst check)."""

    async def pending_of(self, chat_pk: int, invitee_ids: Sequence[int]) -> list[Candidate]: ...

    async def due(
        self,
        chat_pk: int,
        *,
        cutoff: dt.datetime,
        require_activity: bool,
        after_id: int,
        limit: int,
    ) -> list[Candidate]:
        """Pending invites that `confirmable` accepts at `cutoff` + hold, by id (a pre-filter:
        the use case still asks `confirmable`)."""

    async def chats_with_pending(self, cutoff: dt.datetime) -> list[int]: ...

    async def counts(self, chat_pk: int, inviter_id: int) -> dict[str, int]: ...

    async def counts_of(
        self, chat_pk: int, inviter_ids: Sequence[int]
    ) -> dict[int, dict[str, int]]: ...

    async def rejected(
        self, chat_pk: int, inviter_id: int, limit: int
    ) -> list[tuple[str, RejectReason, dt.datetime]]:
        """(invitee name, reason, joined_at) of the inviter's latest rejected invites."""

    async def top(self, chat_pk: int, since: dt.datetime | None, limit: int) -> list[Ranked]: ...

    async def rank_of(
        self, chat_pk: int, user_id: int, since: dt.datetime | None
    ) -> Ranked | None: ...

    async def joins_by_source(
        self, chat_pk: int, since: dt.datetime, until: dt.datetime
    ) -> dict[str, int]: ...

    async def new_members(self, chat_pk: int, since: dt.datetime, until: dt.datetime) -> int:
        """People who joined in the period and had never been in the group before."""

    async def attributed_status(
        self, chat_pk: int, since: dt.datetime, until: dt.datetime
    ) -> dict[str, int]: ...

    async def summary(self, chat_pk: int) -> dict[int, tuple[int | None, dict[str, int]]]:
        """Per member: who invited them (last credited join) and their invites by status."""


class Claims(Protocol):
    async def add(
        self,
        chat_pk: int,
        visitor_id: int,
        *,
        inviter_id: int,
        link_id: int | None,
        source: Source,
        at: dt.datetime,
    ) -> bool:
        """First touch wins: False if the visitor was already claimed."""

    async def get(self, chat_pk: int, visitor_id: int) -> Claim | None: ...


class Rewards(Protocol):
    async def granted(self, chat_pk: int, user_id: int) -> set[int]:
        """Tiers granted and not revoked."""

    async def granted_to(self, chat_pk: int, user_ids: Sequence[int]) -> dict[int, set[int]]: ...

    async def grant(self, chat_pk: int, user_id: int, tier: int, at: dt.datetime) -> bool:
        """False if this tier was granted to the member before (even if later revoked)."""

    async def revoke(self, chat_pk: int, user_id: int, tier: int, at: dt.datetime) -> bool: ...
