"""What the use cases need from storage. storage/ implements these; tests may fake them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, Self

from campaigns.access import ButtonKind
from campaigns.audience import Audience
from campaigns.checkin import CheckinAward, PreviousCheckin
from campaigns.content import PostContent
from campaigns.coupons import CouponState, OfferPurpose, Template
from campaigns.groupbuy import Deal, TeamStatus
from campaigns.members import ChatInfo, EventKind, Membership, MemberStats, Person, Ranked
from campaigns.outbox import BroadcastStatus, DeliveryStatus
from campaigns.referral import InviteStatus, RejectReason, Source
from campaigns.schedule import PostStatus, StepStatus, When
from campaigns.settings import ChatSettings


@dataclass(frozen=True)
class ChatRecord:
    """A registered group: its internal key survives a supergroup migration."""

    pk: int
    chat_id: int
    title: str | None
    active: bool
    settings: ChatSettings


@dataclass(frozen=True)
class MessageSeen:
    """One member message, buffered for a batched write."""

    update_id: int
    chat: ChatInfo
    person: Person
    at: dt.datetime
    kind: str


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


@dataclass(frozen=True)
class Contact:
    """Whom a private notice goes to, and in which language."""

    user_id: int
    display_name: str
    language_code: str | None
    reachable: bool


@dataclass(frozen=True)
class TemplateRecord:
    """A stored coupon offer."""

    id: int
    chat_pk: int
    name: str
    template: Template
    stock: int | None
    issued: int
    per_member: int
    active: bool
    audience_joined_days: int | None = None
    purpose: OfferPurpose = OfferPurpose.OFFER


@dataclass(frozen=True)
class CouponRecord:
    """An issued coupon with its offer."""

    id: int
    code: str
    user_id: int
    chat_pk: int
    status: CouponState
    issued_at: dt.datetime
    expires_at: dt.datetime | None
    redeemed_at: dt.datetime | None
    discount: int | None
    offer: TemplateRecord


class UpdateLog(Protocol):
    async def claim(
        self, bot_id: int, update_id: int, at: dt.datetime, scope: str = "handler"
    ) -> bool:
        """Record the update as processed in `scope`; False if it already was."""

    async def claim_many(
        self, bot_id: int, update_ids: Sequence[int], at: dt.datetime, scope: str = "handler"
    ) -> set[int]:
        """Record many; returns the ids that were new."""

    async def prune(self, before: dt.datetime) -> int:
        """Forget records older than `before` (Telegram keeps updates for 24 hours)."""


class Chats(Protocol):
    async def get(self, chat_id: int) -> ChatRecord | None: ...

    async def by_pk(self, pk: int) -> ChatRecord | None: ...

    async def of_member(self, user_id: int) -> list[ChatRecord]:
        """Active groups where the user is present."""

    async def active(self) -> list[ChatRecord]:
        """Every group the bot is in now."""

    async def register(
        self, chat: ChatInfo, *, active: bool, bot_status: str | None, defaults: ChatSettings
    ) -> ChatRecord:
        """Create the group or refresh its title and activity."""

    async def save_settings(self, pk: int, settings: ChatSettings) -> None: ...

    async def migrate(self, old_chat_id: int, new_chat_id: int) -> bool:
        """Move a group to its new supergroup id, keeping its data."""

    async def focus_of(self, user_id: int) -> ChatRecord | None:
        """The group an admin last picked to manage from a private chat."""

    async def set_focus(self, user_id: int, chat_pk: int, at: dt.datetime) -> None: ...


class Users(Protocol):
    async def upsert(self, people: Sequence[Person]) -> None: ...

    async def set_reachable(self, user_id: int, reachable: bool) -> None:
        """Record whether the bot may message the user privately."""

    async def contacts(self, user_ids: Sequence[int]) -> dict[int, Contact]: ...


class Members(Protocol):
    async def get(self, chat_pk: int, user_id: int) -> Membership | None:
        """The stored state, locked for this transaction."""

    async def lock(self, chat_pk: int, user_ids: Sequence[int]) -> set[int]:
        """Lock these members' rows in id order; returns the ids that exist."""

    async def create(
        self,
        chat_pk: int,
        user_id: int,
        *,
        status: str,
        present: bool,
        at: dt.datetime,
        joined: bool = True,
    ) -> bool:
        """Insert the membership; False if a concurrent writer created it first.

        `joined` is False for someone first seen already in the group (they were there before
        the bot, or their join was missed): their join date is unknown, never "now".
        """

    async def update_presence(
        self, chat_pk: int, user_id: int, *, status: str, present: bool | None, at: dt.datetime
    ) -> None:
        """Store the status; with `present` given, also the join or leave time."""

    async def count_messages(
        self, chat_pk: int, counts: dict[int, tuple[int, dt.datetime, dt.datetime]]
    ) -> None:
        """Add message counts per user: (count, first_at, last_at); registers unknown members."""

    async def record_checkin(self, chat_pk: int, user_id: int, award: CheckinAward) -> None: ...

    async def add_points(self, chat_pk: int, user_id: int, delta: int) -> int:
        """Adjust the cached balance; returns the new balance."""

    async def stats(self, chat_pk: int, user_id: int) -> MemberStats | None: ...

    async def ref_code(self, chat_pk: int, user_id: int) -> str | None: ...

    async def is_present(self, chat_pk: int, user_id: int) -> bool | None:
        """Stored presence without locking: None when the member was never seen."""

    async def assign_ref_code(self, chat_pk: int, user_id: int, code: str) -> bool:
        """Give the member a referral code unless they have one; False on a taken code."""

    async def by_ref_code(self, code: str) -> tuple[int, int] | None:
        """(chat_pk, user_id) of the member whose code this is."""

    async def set_title(self, chat_pk: int, user_id: int, title: str) -> None: ...

    async def present_at(self, chat_pk: int, at: dt.datetime) -> int:
        """How many members were in the group at `at` (as far as the bot saw)."""

    async def all_stats(self, chat_pk: int) -> list[MemberStats]: ...

    async def top(self, chat_pk: int, by: str, limit: int, alive_since: dt.date) -> list[Ranked]:
        """Top lines; streaks count only if the last check-in is on or after `alive_since`."""

    async def rank_of(
        self, chat_pk: int, user_id: int, by: str, alive_since: dt.date
    ) -> Ranked | None: ...


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
        inviter_id: int,
        link_id: int | None,
        source: Source,
        status: InviteStatus,
        reason: RejectReason | None,
    ) -> bool:
        """Credit an organic join after all (its link arrived late); False if it was not organic."""

    async def move(
        self,
        invite_ids: Sequence[int],
        *,
        from_status: InviteStatus,
        to_status: InviteStatus,
        at: dt.datetime,
    ) -> set[int]:
        """Conditional status change; returns the ids this writer moved (racing writers split)."""

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


class Events(Protocol):
    async def add(
        self,
        rows: Sequence[tuple[int, int, EventKind, dt.datetime, int | None, dict[str, str] | None]],
    ) -> None:
        """Append (chat_pk, user_id, kind, at, value, meta) rows."""


class Checkins(Protocol):
    async def previous(
        self, chat_pk: int, user_id: int, day: dt.date
    ) -> PreviousCheckin | None: ...

    async def add(self, chat_pk: int, user_id: int, award: CheckinAward, at: dt.datetime) -> bool:
        """Insert the check-in; False if this member already checked in that day."""

    async def rank_on(self, chat_pk: int, user_id: int, day: dt.date) -> int: ...


class Ledger(Protocol):
    async def add(
        self,
        chat_pk: int,
        user_id: int,
        *,
        delta: int,
        reason: str,
        key: str,
        at: dt.datetime,
    ) -> bool:
        """Append an entry once per idempotency key; False if the key exists."""


class Coupons(Protocol):
    async def add_template(
        self,
        chat_pk: int,
        *,
        name: str,
        template: Template,
        stock: int | None,
        per_member: int,
        at: dt.datetime,
        audience_joined_days: int | None = None,
        purpose: OfferPurpose = OfferPurpose.OFFER,
    ) -> int: ...

    async def template(self, template_id: int) -> TemplateRecord | None: ...

    async def end(self, template_id: int) -> bool:
        """No more coupons of this offer (claims, grants, rewards); False if already ended."""

    async def offers_of(self, chat_pk: int) -> list[tuple[TemplateRecord, int]]:
        """The group's own offers (not group-buy payouts), newest first, each with how many
        of its coupons were redeemed."""

    async def held(self, template_id: int, user_id: int) -> int:
        """How many of this offer the member has been issued."""

    async def issue(
        self,
        offer: TemplateRecord,
        user_id: int,
        *,
        code: str,
        slot: int,
        source: str,
        at: dt.datetime,
        expires_at: dt.datetime | None,
    ) -> bool:
        """Insert the coupon; False if that slot (or, rarely, that code) is taken."""

    async def take_stock(self, template_id: int) -> bool:
        """Count one more issued, unless the stock is gone (a conditional UPDATE)."""

    async def release_stock(self, template_id: int) -> None:
        """Give back one taken by a claim that then failed."""

    async def by_code(self, code: str) -> CouponRecord | None: ...

    async def redeem(
        self, coupon_id: int, *, by: int, order_amount: int, discount: int, at: dt.datetime
    ) -> bool:
        """Mark used if still active; of racing redemptions exactly one gets True."""

    async def of_member(self, user_id: int) -> list[CouponRecord]: ...

    async def of_chat(self, chat_pk: int) -> list[CouponRecord]: ...

    async def counts(self, chat_pk: int) -> dict[int, tuple[int, int]]:
        """Per member: (coupons claimed, coupons redeemed)."""

    async def claim_reminders(
        self, now: dt.datetime, until: dt.datetime, limit: int
    ) -> list[tuple[CouponRecord, Contact, str | None, str]]:
        """Coupons `reminder_due` between `now` and `until` whose owner can be messaged, marked
        reminded.

        Returns (coupon, owner, group title, group timezone); marking first means a crash
        never repeats one.
        """


@dataclass(frozen=True)
class OrderTotals:
    """One member's orders in a group, for the export and segmentation."""

    orders: int
    spend: int
    last_order_at: dt.datetime | None


class Orders(Protocol):
    async def add(
        self,
        chat_pk: int,
        *,
        external_id: str,
        user_id: int,
        amount: int,
        currency: str,
        at: dt.datetime,
        coupon_codes: Sequence[str],
        items: Sequence[str],
        category: str | None = None,
        source: str,
    ) -> int | None:
        """Store the order; None if this external id is already stored (a replay)."""

    async def count_of(self, chat_pk: int, user_id: int) -> int: ...

    async def totals(self, chat_pk: int) -> dict[int, OrderTotals]: ...


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


@dataclass(frozen=True)
class PostRecord:
    """A scheduled post; `chat_id` is the group's Telegram id."""

    id: int
    chat_pk: int
    chat_id: int
    content: PostContent
    when: When
    status: PostStatus
    next_run_at: dt.datetime | None
    last_message_id: int | None
    campaign: str | None = None
    phase: str | None = None
    last_outcome: tuple[str, dt.datetime] | None = None  # status and due time of the last run
    created_by: int | None = None  # the admin who scheduled it (told when a run is skipped)


@dataclass(frozen=True)
class StepRecord:
    id: int
    chat_pk: int
    day: int
    content: PostContent
    private: bool
    status: StepStatus


@dataclass(frozen=True)
class BroadcastRecord:
    id: int
    chat_pk: int | None
    target: str  # members, groups
    content: PostContent
    audience: Audience
    status: BroadcastStatus
    total: int
    created_by: int | None
    progress: tuple[int, int] | None  # (chat id, message id) of the admin's progress message
    created_at: dt.datetime
    started_at: dt.datetime | None
    finished_at: dt.datetime | None


@dataclass(frozen=True)
class Delivery:
    """One claimed outbox row with what it should send."""

    id: int
    kind: str  # post, broadcast, sequence
    target_chat: int
    content: PostContent
    attempts: int
    due_at: dt.datetime
    post_id: int | None = None
    broadcast_id: int | None = None
    member_id: int | None = None
    replace_message: int | None = None  # the previous run's message, to delete
    group_pk: int | None = None  # the group whose post, step or broadcast this is


class Calendar(Protocol):
    async def add_post(
        self,
        chat_pk: int,
        content: PostContent,
        when: When,
        *,
        status: PostStatus,
        next_run_at: dt.datetime | None,
        created_by: int | None,
        at: dt.datetime,
        campaign: str | None = None,
        phase: str | None = None,
    ) -> int: ...

    async def post(self, post_id: int) -> PostRecord | None: ...

    async def posts(self, chat_pk: int, statuses: Sequence[PostStatus]) -> list[PostRecord]:
        """The group's posts in these states, by next run."""

    async def recurring(self, statuses: Sequence[PostStatus]) -> list[PostRecord]:
        """Every group's recurring posts in these states."""

    async def set_status(
        self,
        post_id: int,
        *,
        old: Sequence[PostStatus],
        new: PostStatus,
        next_run_at: dt.datetime | None,
    ) -> bool:
        """Change the state only from one of `old` (a conditional UPDATE)."""

    async def due(self, now: dt.datetime, limit: int) -> list[PostRecord]:
        """Active posts whose next run is at or before `now`."""

    async def advance(self, post_id: int, *, old: dt.datetime, new: dt.datetime | None) -> bool:
        """Move the next run on, only if nobody else did (two processes race here)."""

    async def set_last_message(self, post_id: int, message_id: int) -> None: ...

    async def add_step(
        self, chat_pk: int, day: int, content: PostContent, *, private: bool, at: dt.datetime
    ) -> int: ...

    async def steps(self, chat_pk: int) -> list[StepRecord]: ...

    async def set_step_status(self, step_id: int, chat_pk: int, status: StepStatus) -> bool: ...

    async def due_enrolments(
        self, now: dt.datetime, limit: int
    ) -> list[tuple[StepRecord, int, int, dt.datetime]]:
        """(step, member, target chat, due time) for members whose day N has come and who
        joined after the step was made, without a delivery yet."""

    async def add_media(self, name: str, data: bytes, at: dt.datetime) -> int: ...

    async def media(self, media_id: int) -> tuple[str, bytes, str | None] | None:
        """(file name, bytes, Telegram's file id once uploaded)."""

    async def set_media_file(self, media_id: int, file_id: str) -> None: ...


class Broadcasts(Protocol):
    async def add(
        self,
        chat_pk: int | None,
        target: str,
        content: PostContent,
        audience: Audience,
        *,
        created_by: int | None,
        at: dt.datetime,
    ) -> int: ...

    async def get(self, broadcast_id: int) -> BroadcastRecord | None: ...

    async def recipients(self, chat_pk: int, audience: Audience, now: dt.datetime) -> list[int]:
        """Present members who can be messaged privately and match the audience."""

    async def set_status(
        self,
        broadcast_id: int,
        *,
        old: Sequence[BroadcastStatus],
        new: BroadcastStatus,
        at: dt.datetime,
    ) -> bool: ...

    async def set_total(self, broadcast_id: int, total: int) -> None: ...

    async def set_progress(self, broadcast_id: int, chat_id: int, message_id: int) -> None: ...

    async def finished(self, at: dt.datetime) -> list[int]:
        """Sending broadcasts with nothing left to send: marked done, each returned once."""

    async def active(self) -> list[int]:
        """Broadcasts sending or paused (their progress is shown)."""


class Outbox(Protocol):
    async def add_run(
        self,
        post_id: int,
        target_chat: int,
        due_at: dt.datetime,
        *,
        status: DeliveryStatus,
        error: str | None,
    ) -> bool:
        """One run of a post; False if this run already exists."""

    async def add_recipients(
        self, broadcast_id: int, targets: Sequence[int], due_at: dt.datetime
    ) -> int: ...

    async def add_step_run(
        self,
        step_id: int,
        member_id: int,
        target_chat: int,
        due_at: dt.datetime,
        *,
        status: DeliveryStatus = DeliveryStatus.PENDING,
        error: str | None = None,
    ) -> bool: ...

    async def claim(self, worker: str, now: dt.datetime, limit: int) -> list[Delivery]:
        """Due pending rows, locked and marked claimed by `worker` (skipping rows another
        process holds), oldest first; paused or cancelled broadcasts are left alone."""

    async def start(self, delivery_id: int, worker: str, at: dt.datetime) -> bool:
        """claimed -> sending, just before the request goes out; False if another process
        took the row, or its broadcast was paused meanwhile (the row goes back to pending)."""

    async def record(
        self,
        delivery_id: int,
        status: DeliveryStatus,
        *,
        at: dt.datetime,
        message_id: int | None = None,
        error: str | None = None,
        retry_at: dt.datetime | None = None,
    ) -> None:
        """The outcome; with `retry_at` the row goes back to pending for then."""

    async def release(self, worker: str) -> int:
        """This worker's claimed rows back to pending (a clean shutdown)."""

    async def holders(self) -> list[str]:
        """Workers holding claimed or sending rows."""

    async def recover(
        self, now: dt.datetime, lease: dt.timedelta, *, worker: str | None = None
    ) -> tuple[int, int]:
        """After a crash: stale claimed rows (or all of `worker`'s) back to pending; such
        sending rows (the request may have gone out) marked uncertain, never resent."""

    async def counts(self, broadcast_id: int) -> dict[str, int]: ...

    async def cancel(self, broadcast_id: int, at: dt.datetime) -> int: ...

    async def rate(self, broadcast_id: int, since: dt.datetime) -> int:
        """Messages of the broadcast sent since `since` (for the ETA)."""


class Buttons(Protocol):
    """Messages the bot sent with buttons, and the object each was sent for."""

    async def remember(
        self, kind: ButtonKind, object_id: int, chat_id: int, message_id: int, at: dt.datetime
    ) -> None:
        """Record that this message carries buttons for the object (idempotent)."""

    async def sent_for(
        self, kind: ButtonKind, object_id: int, chat_id: int, message_id: int
    ) -> bool:
        """Whether the bot sent this message for this object."""


class UnitOfWork(Protocol):
    """One transaction: enter, use the repositories, commit once (or leave to roll back)."""

    @property
    def updates(self) -> UpdateLog: ...

    @property
    def chats(self) -> Chats: ...

    @property
    def users(self) -> Users: ...

    @property
    def members(self) -> Members: ...

    @property
    def events(self) -> Events: ...

    @property
    def checkins(self) -> Checkins: ...

    @property
    def ledger(self) -> Ledger: ...

    @property
    def links(self) -> InviteLinks: ...

    @property
    def invites(self) -> Invites: ...

    @property
    def claims(self) -> Claims: ...

    @property
    def rewards(self) -> Rewards: ...

    @property
    def coupons(self) -> Coupons: ...

    @property
    def buttons(self) -> Buttons: ...

    @property
    def orders(self) -> Orders: ...

    @property
    def groupbuys(self) -> GroupBuys: ...

    @property
    def calendar(self) -> Calendar: ...

    @property
    def broadcasts(self) -> Broadcasts: ...

    @property
    def outbox(self) -> Outbox: ...

    async def __aenter__(self) -> Self: ...

    async def __aexit__(self, *exc: object) -> None: ...

    async def commit(self) -> None: ...
