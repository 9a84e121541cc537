"""In-memory fakes of the ports, for the use-case tests (cosmicpython's FakeUnitOfWork).

One FakeDatabase holds the rows; each FakeUnitOfWork is a transaction over it that is rolled
back unless committed, as SqlUnitOfWork is. Each fake repository keeps the contract of its
storage/ twin: a unique constraint the database enforces returns the same False or None, a
conditional UPDATE changes nothing when its condition fails, a join that finds no row finds
nothing (tests/storage/test_fake_contracts.py runs the same calls on both). Only what the
rule-heavy use cases call is faked; anything else is an AttributeError, not a silent stub.
"""

from __future__ import annotations

import copy
import datetime as dt
import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Self

from campaigns.access import ButtonKind
from campaigns.content import PostContent
from campaigns.coupon_variants import AUDIENCE_SOURCE, HeldOut, Issue
from campaigns.coupons import CouponState, OfferPurpose, Template
from campaigns.groupbuys import Deal, TeamStatus
from campaigns.members import ChatInfo, EventKind, Membership, MemberStats, MemberStatus, Person
from campaigns.outbox import DeliveryStatus
from campaigns.ports.calendar import PostRecord
from campaigns.ports.captcha import CaptchaRecord, RaidRecord
from campaigns.ports.chats import ChatRecord
from campaigns.ports.coupons import CouponRecord, TemplateRecord
from campaigns.ports.groupbuys import DealRecord, TeamRecord
from campaigns.ports.members import Contact
from campaigns.ports.outbox import Delivery
from campaigns.ports.referral import Candidate, Claim, InviteRecord, LinkRecord
from campaigns.ports.segments import ActiveDay
from campaigns.ports.tags import TagRecord
from campaigns.ports.tiers import TierState
from campaigns.referral import ATTRIBUTED, InviteStatus, RejectReason, Source
from campaigns.schedule import PostStatus, When
from campaigns.segments import StageThresholds
from campaigns.settings import ChatSettings
from campaigns.tags import TagSource
from campaigns.tiers import Standing

# -- rows -------------------------------------------------------------------------------------


@dataclass
class UserRow:
    person: Person
    reachable: bool | None = None  # unknown until they open a private chat (or block the bot)


@dataclass
class MemberRow:
    status: str
    present: bool
    joined_at: dt.datetime | None
    left_at: dt.datetime | None
    present_since: dt.datetime | None
    last_active_at: dt.datetime | None = None
    messages: int = 0
    points: int = 0
    title: str | None = None
    points_earned: int = 0
    orders: int = 0
    spend: int = 0
    tier: int = 0
    tier_since: dt.datetime | None = None
    tier_below_since: dt.datetime | None = None


@dataclass
class InviteRow:
    record: InviteRecord
    link_id: int | None


@dataclass
class CouponRow:
    record: CouponRecord  # its `offer` is the offer at issue; reads join the current one
    slot: int
    source: str
    redeemed_by: int | None = None
    order_amount: int | None = None


@dataclass
class TeamMemberRow:
    id: int
    team_id: int
    deal_id: int
    user_id: int
    joined_at: dt.datetime
    open: bool = True


@dataclass
class PostRow:
    id: int
    chat_pk: int
    content: PostContent
    when: When
    status: PostStatus
    next_run_at: dt.datetime | None
    created_by: int | None
    campaign: str | None
    phase: str | None
    last_message_id: int | None = None


@dataclass
class DeliveryRow:
    id: int
    kind: str
    post_id: int
    target_chat: int
    due_at: dt.datetime
    status: DeliveryStatus
    error: str | None
    attempts: int = 0
    worker: str | None = None
    claimed_at: dt.datetime | None = None
    sent_at: dt.datetime | None = None
    message_id: int | None = None


@dataclass
class Tables:
    """Every table the fakes keep; copied whole at the start of a transaction."""

    updates: set[tuple[int, int, str]] = field(default_factory=set)
    chats: dict[int, ChatRecord] = field(default_factory=dict)  # by pk
    users: dict[int, UserRow] = field(default_factory=dict)
    members: dict[tuple[int, int], MemberRow] = field(default_factory=dict)
    events: list[tuple[int, int, EventKind, dt.datetime, int | None, Any]] = field(
        default_factory=list
    )
    ledger: dict[str, tuple[int, int, int, str, dt.datetime]] = field(default_factory=dict)
    links: dict[int, tuple[LinkRecord, dt.datetime | None]] = field(default_factory=dict)
    invites: dict[int, InviteRow] = field(default_factory=dict)
    claims: dict[tuple[int, int], Claim] = field(default_factory=dict)
    rewards: dict[tuple[int, int, int], dt.datetime | None] = field(default_factory=dict)
    offers: dict[int, TemplateRecord] = field(default_factory=dict)
    coupons: dict[int, CouponRow] = field(default_factory=dict)
    holdouts: dict[tuple[int, int], dt.datetime] = field(default_factory=dict)  # offer, member
    orders: dict[tuple[int, str], tuple[int, int]] = field(default_factory=dict)
    deals: dict[int, DealRecord] = field(default_factory=dict)
    teams: dict[int, TeamRecord] = field(default_factory=dict)
    team_members: dict[int, TeamMemberRow] = field(default_factory=dict)
    posts: dict[int, PostRow] = field(default_factory=dict)
    deliveries: dict[int, DeliveryRow] = field(default_factory=dict)
    buttons: set[tuple[ButtonKind, int, int, int]] = field(default_factory=set)
    days: set[tuple[int, int, dt.date]] = field(default_factory=set)  # members' active days
    last_orders: dict[tuple[int, int], dt.datetime] = field(default_factory=dict)
    thresholds: dict[int, StageThresholds] = field(default_factory=dict)
    tags: dict[tuple[int, int, str], str] = field(default_factory=dict)  # -> source
    # (chat, member, month) -> counter -> value: active_days, orders, spend, points_earned
    months: dict[tuple[int, int, dt.date], dict[str, int]] = field(default_factory=dict)
    tier_rewards: dict[tuple[int, int, int], dt.datetime] = field(default_factory=dict)


class FakeDatabase:
    """The rows all units of work share; ids come from a sequence, never reused."""

    def __init__(self) -> None:
        self.t = Tables()
        self._ids = itertools.count(1)
        self.open = 0

    def new_id(self) -> int:
        return next(self._ids)

    def uow(self) -> FakeUnitOfWork:
        return FakeUnitOfWork(self)


class Repo:
    def __init__(self, db: FakeDatabase) -> None:
        self.db = db

    @property
    def t(self) -> Tables:
        return self.db.t


# -- one repository per port ------------------------------------------------------------------


class FakeUpdateLog(Repo):
    async def claim(
        self, bot_id: int, update_id: int, at: dt.datetime, scope: str = "handler"
    ) -> bool:
        return bool(await self.claim_many(bot_id, [update_id], at, scope))

    async def claim_many(
        self, bot_id: int, update_ids: Sequence[int], at: dt.datetime, scope: str = "handler"
    ) -> set[int]:
        new = {u for u in update_ids if (bot_id, u, scope) not in self.t.updates}
        self.t.updates |= {(bot_id, u, scope) for u in new}
        return new


class FakeChats(Repo):
    async def get(self, chat_id: int) -> ChatRecord | None:
        return next((c for c in self.t.chats.values() if c.chat_id == chat_id), None)

    async def by_pk(self, pk: int) -> ChatRecord | None:
        return self.t.chats.get(pk)

    async def locked(self, pk: int) -> ChatRecord:
        return self.t.chats[pk]  # one transaction at a time: nothing to queue behind

    async def register(
        self, chat: ChatInfo, *, active: bool, bot_status: str | None, defaults: ChatSettings
    ) -> ChatRecord:
        old = await self.get(chat.chat_id)
        if old is None:
            old = ChatRecord(self.db.new_id(), chat.chat_id, None, active, defaults)
        record = replace(old, title=chat.title or old.title, active=active)
        self.t.chats[record.pk] = record
        return record


class FakeUsers(Repo):
    async def upsert(self, people: Sequence[Person]) -> None:
        for p in people:
            old = self.t.users.get(p.user_id)
            if old is None:
                self.t.users[p.user_id] = UserRow(p)
            else:
                language = p.language_code or old.person.language_code
                old.person = replace(p, language_code=language)

    async def contacts(self, user_ids: Sequence[int]) -> dict[int, Contact]:
        return {
            uid: Contact(uid, u.person.display_name, u.person.language_code, bool(u.reachable))
            for uid in user_ids
            if (u := self.t.users.get(uid)) is not None
        }


class FakeMembers(Repo):
    async def get(self, chat_pk: int, user_id: int) -> Membership | None:
        m = self.t.members.get((chat_pk, user_id))
        if m is None:
            return None
        return Membership(m.status, m.present, m.joined_at, m.left_at, m.present_since)

    async def lock(self, chat_pk: int, user_ids: Sequence[int]) -> set[int]:
        return {uid for uid in user_ids if (chat_pk, uid) in self.t.members}

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
        if (chat_pk, user_id) in self.t.members:
            return False
        self.t.members[chat_pk, user_id] = MemberRow(
            status=status,
            present=present,
            joined_at=at if present and joined else None,
            left_at=None if present else at,
            present_since=at if present else None,
        )
        return True

    async def update_presence(
        self, chat_pk: int, user_id: int, *, status: str, present: bool | None, at: dt.datetime
    ) -> None:
        m = self.t.members.get((chat_pk, user_id))
        if m is None:
            return
        m.status = status
        if present is True:
            m.present, m.present_since, m.left_at = True, at, None
        elif present is False:
            m.present, m.left_at = False, at

    async def count_messages(
        self, chat_pk: int, counts: dict[int, tuple[int, dt.datetime, dt.datetime]]
    ) -> None:
        for uid, (n, _first, last) in counts.items():
            m = self.t.members.setdefault(
                (chat_pk, uid),
                MemberRow(MemberStatus.MEMBER, True, None, None, None, last_active_at=last),
            )
            m.messages += n
            if m.last_active_at is None or m.last_active_at < last:
                m.last_active_at = last
            if not m.present and m.left_at is not None and m.left_at < last:
                m.present, m.status = True, MemberStatus.MEMBER  # spoke after leaving: back

    async def add_points(self, chat_pk: int, user_id: int, delta: int) -> int:
        m = self.t.members[chat_pk, user_id]  # the SQL's scalar_one() fails the same way
        m.points += delta
        return m.points

    def _month(self, chat_pk: int, user_id: int, month: dt.date, **add: int) -> None:
        bucket = self.t.months.setdefault((chat_pk, user_id, month), {})
        for key, value in add.items():
            bucket[key] = bucket.get(key, 0) + value

    async def add_earned(self, chat_pk: int, user_id: int, points: int, month: dt.date) -> None:
        if points <= 0:
            return
        if (chat_pk, user_id) in self.t.members:
            self.t.members[chat_pk, user_id].points_earned += points
        self._month(chat_pk, user_id, month, points_earned=points)

    async def stats(self, chat_pk: int, user_id: int) -> MemberStats | None:
        m = self.t.members.get((chat_pk, user_id))
        user = self.t.users.get(user_id)
        if m is None or user is None:  # an inner join with the user's row
            return None
        p = user.person
        return MemberStats(
            user_id=user_id,
            username=p.username,
            display_name=p.display_name,
            status=m.status,
            joined_at=m.joined_at,
            left_at=m.left_at,
            last_active_at=m.last_active_at,
            messages=m.messages,
            checkins=0,  # check-ins are not faked (no rule-heavy use case here needs them)
            streak=0,
            best_streak=0,
            points=m.points,
            title=m.title,
            tier=m.tier,
        )

    async def is_present(self, chat_pk: int, user_id: int) -> bool | None:
        m = self.t.members.get((chat_pk, user_id))
        return None if m is None else m.present

    async def set_title(self, chat_pk: int, user_id: int, title: str) -> None:
        if (chat_pk, user_id) in self.t.members:
            self.t.members[chat_pk, user_id].title = title


class FakeEvents(Repo):
    async def add(
        self,
        rows: Sequence[tuple[int, int, EventKind, dt.datetime, int | None, dict[str, str] | None]],
        *,
        roll_up: bool = True,
    ) -> None:
        self.t.events.extend(rows)

    async def roll_up(
        self,
        rows: Sequence[tuple[int, int, EventKind, dt.datetime, int | None, dict[str, str] | None]],
    ) -> None:
        """The fakes keep no rollup."""


class FakeLedger(Repo):
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
        if key in self.t.ledger:
            return False
        self.t.ledger[key] = (chat_pk, user_id, delta, reason, at)
        return True


class FakeInviteLinks(Repo):
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
        for link, revoked in self.t.links.values():
            if link.url == url:
                return None
            live_personal = link.kind == "member" and revoked is None
            if (
                kind == "member"
                and live_personal
                and (link.chat_pk, link.owner_id)
                == (
                    chat_pk,
                    owner_id,
                )
            ):
                return None
        record = LinkRecord(self.db.new_id(), chat_pk, owner_id, url, name, kind, expires_at)
        self.t.links[record.id] = (record, None)
        return record

    async def by_url(self, url: str) -> LinkRecord | None:
        return next((link for link, _ in self.t.links.values() if link.url == url), None)


class FakeClaims(Repo):
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
        if (chat_pk, visitor_id) in self.t.claims:
            return False
        self.t.claims[chat_pk, visitor_id] = Claim(inviter_id, link_id, source, at)
        return True

    async def get(self, chat_pk: int, visitor_id: int) -> Claim | None:
        return self.t.claims.get((chat_pk, visitor_id))


class FakeInvites(Repo):
    def _of(self, chat_pk: int) -> list[InviteRecord]:
        return [
            r.record for _id, r in sorted(self.t.invites.items()) if r.record.chat_pk == chat_pk
        ]

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
        if any(i.invitee_id == invitee_id and i.joined_at == at for i in self._of(chat_pk)):
            return None
        new = InviteRecord(
            self.db.new_id(), chat_pk, invitee_id, inviter_id, source, status, reason,
            was_member, at, None,
        )  # fmt: skip
        self.t.invites[new.id] = InviteRow(new, link_id)
        return new.id

    async def latest(self, chat_pk: int, invitee_id: int) -> InviteRecord | None:
        mine = [i for i in self._of(chat_pk) if i.invitee_id == invitee_id]
        return max(mine, key=lambda i: (i.joined_at, i.id), default=None)

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
        row = self.t.invites.get(invite_id)
        if row is None or row.record.status is not InviteStatus.ORGANIC:
            return False
        row.record = replace(
            row.record, inviter_id=inviter_id, source=source, status=status, reason=reason
        )
        row.link_id = link_id
        return True

    async def move(
        self,
        invite_ids: Sequence[int],
        *,
        from_status: InviteStatus,
        to_status: InviteStatus,
        at: dt.datetime,
        reason: RejectReason | None = None,
    ) -> set[int]:
        moved = set()
        for i in set(invite_ids):
            row = self.t.invites.get(i)
            if row is None or row.record.status is not from_status:
                continue
            confirmed = at if to_status is InviteStatus.CONFIRMED else row.record.confirmed_at
            why = reason if reason is not None else row.record.reason
            row.record = replace(row.record, status=to_status, confirmed_at=confirmed, reason=why)
            moved.add(i)
        return moved

    async def recent_credited(self, chat_pk: int, inviter_id: int, since: dt.datetime) -> int:
        return sum(
            1
            for i in self._of(chat_pk)
            if i.inviter_id == inviter_id and i.joined_at >= since and i.source in ATTRIBUTED
        )

    def _candidates(self, chat_pk: int) -> list[tuple[InviteRecord, MemberRow]]:
        """Pending invites joined with the invitee's membership (an inner join)."""
        return [
            (i, m)
            for i in self._of(chat_pk)
            if i.status is InviteStatus.PENDING
            and (m := self.t.members.get((chat_pk, i.invitee_id))) is not None
        ]

    @staticmethod
    def _candidate(i: InviteRecord, m: MemberRow) -> Candidate:
        assert i.inviter_id is not None
        return Candidate(i.id, i.inviter_id, i.invitee_id, i.joined_at, m.present, m.last_active_at)

    async def pending_of(self, chat_pk: int, invitee_ids: Sequence[int]) -> list[Candidate]:
        wanted = set(invitee_ids)
        return [
            self._candidate(i, m) for i, m in self._candidates(chat_pk) if i.invitee_id in wanted
        ]

    async def due(
        self,
        chat_pk: int,
        *,
        cutoff: dt.datetime,
        require_activity: bool,
        after_id: int,
        limit: int,
    ) -> list[Candidate]:
        # The same pre-filter as storage.repositories.referral.confirmable_prefilter.
        found = [
            self._candidate(i, m)
            for i, m in self._candidates(chat_pk)
            if i.id > after_id
            and i.joined_at <= cutoff
            and m.present
            and (
                not require_activity
                or (m.last_active_at is not None and m.last_active_at >= i.joined_at)
            )
        ]
        return found[:limit]

    async def chats_with_pending(self, cutoff: dt.datetime) -> list[int]:
        return sorted(
            {
                r.record.chat_pk
                for r in self.t.invites.values()
                if r.record.status is InviteStatus.PENDING and r.record.joined_at <= cutoff
            }
        )

    async def counts(self, chat_pk: int, inviter_id: int) -> dict[str, int]:
        return (await self.counts_of(chat_pk, [inviter_id])).get(inviter_id, {})

    async def counts_of(
        self, chat_pk: int, inviter_ids: Sequence[int]
    ) -> dict[int, dict[str, int]]:
        out: dict[int, dict[str, int]] = {}
        for i in self._of(chat_pk):
            if i.inviter_id in inviter_ids:
                by = out.setdefault(i.inviter_id, {})
                by[str(i.status)] = by.get(str(i.status), 0) + 1
        return out


class FakeRewards(Repo):
    async def granted(self, chat_pk: int, user_id: int) -> set[int]:
        return (await self.granted_to(chat_pk, [user_id])).get(user_id, set())

    async def granted_to(self, chat_pk: int, user_ids: Sequence[int]) -> dict[int, set[int]]:
        out: dict[int, set[int]] = {}
        for (chat, uid, tier), revoked in self.t.rewards.items():
            if chat == chat_pk and uid in user_ids and revoked is None:
                out.setdefault(uid, set()).add(tier)
        return out

    async def grant(self, chat_pk: int, user_id: int, tier: int, at: dt.datetime) -> bool:
        if (chat_pk, user_id, tier) in self.t.rewards:  # even if revoked since
            return False
        self.t.rewards[chat_pk, user_id, tier] = None
        return True

    async def revoke(self, chat_pk: int, user_id: int, tier: int, at: dt.datetime) -> bool:
        key = (chat_pk, user_id, tier)
        if key not in self.t.rewards or self.t.rewards[key] is not None:
            return False
        self.t.rewards[chat_pk, user_id, tier] = at
        return True


class FakeCoupons(Repo):
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
        variants: Sequence[Template] = (),
        holdout: int = 0,
        planned: int | None = None,
    ) -> int:
        offer = TemplateRecord(
            self.db.new_id(), chat_pk, name, template, stock, 0, per_member, True,
            audience_joined_days, purpose, tuple(variants), holdout, planned,
        )  # fmt: skip
        self.t.offers[offer.id] = offer
        return offer.id

    async def template(self, template_id: int) -> TemplateRecord | None:
        return self.t.offers.get(template_id)

    async def end(self, template_id: int) -> bool:
        offer = self.t.offers.get(template_id)
        if offer is None or not offer.active:
            return False
        self.t.offers[template_id] = replace(offer, active=False)
        return True

    async def held(self, template_id: int, user_id: int) -> int:
        return sum(
            1
            for c in self.t.coupons.values()
            if c.record.offer.id == template_id and c.record.user_id == user_id
        )

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
        arm: str | None = None,
    ) -> bool:
        for c in self.t.coupons.values():
            same_slot = (c.record.offer.id, c.record.user_id, c.slot) == (offer.id, user_id, slot)
            if same_slot or c.record.code == code:
                return False
        record = CouponRecord(
            self.db.new_id(), code, user_id, offer.chat_pk, CouponState.ACTIVE, at, expires_at,
            None, None, offer.for_arm(arm),
        )  # fmt: skip
        self.t.coupons[record.id] = CouponRow(record, slot, source)
        return True

    async def hold_out(self, offer: TemplateRecord, user_id: int, at: dt.datetime) -> bool:
        if (offer.id, user_id) in self.t.holdouts:
            return False
        self.t.holdouts[offer.id, user_id] = at
        return True

    async def test_members(self, template_id: int) -> tuple[list[Issue], list[HeldOut]]:
        mine = [c for c in self.t.coupons.values() if c.record.offer.id == template_id]
        issues = [
            Issue(
                c.record.user_id,
                c.record.offer.arm,
                c.record.issued_at,
                c.source == AUDIENCE_SOURCE,
                c.record.status == CouponState.USED,
            )
            for c in mine
        ]
        held = [HeldOut(u, at) for (o, u), at in self.t.holdouts.items() if o == template_id]
        return issues, held

    async def take_stock(self, template_id: int) -> bool:
        offer = self.t.offers.get(template_id)
        if offer is None or not offer.active:  # ending an offer wins over a claim racing it
            return False
        if offer.stock is not None and offer.issued >= offer.stock:
            return False
        self.t.offers[template_id] = replace(offer, issued=offer.issued + 1)
        return True

    async def by_code(self, code: str) -> CouponRecord | None:
        row = next((c for c in self.t.coupons.values() if c.record.code == code), None)
        if row is None:
            return None
        offer = self.t.offers[row.record.offer.id].for_arm(row.record.offer.arm)
        return replace(row.record, offer=offer)

    async def redeem(
        self, coupon_id: int, *, by: int, order_amount: int, discount: int, at: dt.datetime
    ) -> bool:
        row = self.t.coupons.get(coupon_id)
        if row is None or row.record.status != CouponState.ACTIVE:
            return False
        row.record = replace(row.record, status=CouponState.USED, redeemed_at=at, discount=discount)
        row.redeemed_by, row.order_amount = by, order_amount
        return True


class FakeOrders(Repo):
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
        if (chat_pk, external_id) in self.t.orders:
            return None
        order_id = self.db.new_id()
        self.t.orders[chat_pk, external_id] = (order_id, user_id)
        return order_id

    async def count_of(self, chat_pk: int, user_id: int) -> int:
        return sum(
            1 for (chat, _), (_, uid) in self.t.orders.items() if (chat, uid) == (chat_pk, user_id)
        )

    async def any_in(self, chat_pk: int) -> bool:
        return any(chat == chat_pk for chat, _ in self.t.orders)


class FakeTags(Repo):
    async def add(
        self,
        chat_pk: int,
        user_id: int,
        tags: Sequence[str],
        *,
        source: TagSource,
        by: int | None,
        at: dt.datetime,
    ) -> int:
        new = [tag for tag in dict.fromkeys(tags) if (chat_pk, user_id, tag) not in self.t.tags]
        for tag in new:
            self.t.tags[chat_pk, user_id, tag] = source
        return len(new)

    async def remove(self, chat_pk: int, user_id: int, tag: str) -> bool:
        return self.t.tags.pop((chat_pk, user_id, tag), None) is not None

    async def of(self, chat_pk: int, user_id: int) -> list[TagRecord]:
        return sorted(
            (
                TagRecord(tag, TagSource(source))
                for (chat, uid, tag), source in self.t.tags.items()
                if (chat, uid) == (chat_pk, user_id)
            ),
            key=lambda record: record.tag,
        )

    async def of_group(self, chat_pk: int) -> dict[int, list[str]]:
        found: dict[int, list[str]] = {}
        for chat, uid, tag in sorted(self.t.tags):
            if chat == chat_pk:
                found.setdefault(uid, []).append(tag)
        return found


class FakeGroupBuys(Repo):
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
        record = DealRecord(self.db.new_id(), chat_pk, deal, description, 0, offer_id)
        self.t.deals[record.id] = record
        return record.id

    async def deal(self, deal_id: int) -> DealRecord | None:
        return self.t.deals.get(deal_id)

    async def take_unit(self, deal_id: int) -> bool:
        d = self.t.deals.get(deal_id)
        if d is None or (d.deal.stock is not None and d.taken >= d.deal.stock):
            return False
        self.t.deals[deal_id] = replace(d, taken=d.taken + 1)
        return True

    async def release_units(self, deal_id: int, n: int) -> None:
        d = self.t.deals[deal_id]
        self.t.deals[deal_id] = replace(d, taken=d.taken - n)

    async def add_team(
        self,
        deal_id: int,
        leader_id: int,
        *,
        size: int,
        at: dt.datetime,
        expires_at: dt.datetime,
        share_token: str,
    ) -> int:
        team = TeamRecord(
            self.db.new_id(), deal_id, leader_id, TeamStatus.OPEN, 0, size, expires_at, None,
            share_token,
        )  # fmt: skip
        self.t.teams[team.id] = team
        return team.id

    async def team(self, team_id: int) -> TeamRecord | None:
        return self.t.teams.get(team_id)

    async def add_member(self, team_id: int, deal_id: int, user_id: int, at: dt.datetime) -> bool:
        for m in self.t.team_members.values():
            in_this_team = (m.team_id, m.user_id) == (team_id, user_id)
            in_an_open_team = m.open and (m.deal_id, m.user_id) == (deal_id, user_id)
            if in_this_team or in_an_open_team:  # the two unique indexes
                return False
        row = TeamMemberRow(self.db.new_id(), team_id, deal_id, user_id, at)
        self.t.team_members[row.id] = row
        return True

    async def grow(self, team_id: int, at: dt.datetime) -> int | None:
        t = self.t.teams.get(team_id)
        if t is None or t.status is not TeamStatus.OPEN or t.members >= t.size:
            return None
        if t.expires_at <= at:
            return None
        self.t.teams[team_id] = replace(t, members=t.members + 1)
        return t.members + 1

    async def shrink(self, team_id: int, user_id: int) -> int | None:
        mine = [
            m
            for m in self.t.team_members.values()
            if (m.team_id, m.user_id) == (team_id, user_id) and m.open
        ]
        if not mine:
            return None
        del self.t.team_members[mine[0].id]
        t = self.t.teams[team_id]
        if t.status is not TeamStatus.OPEN:
            return None
        self.t.teams[team_id] = replace(t, members=t.members - 1)
        return t.members - 1

    async def close(self, team_id: int, status: TeamStatus, at: dt.datetime) -> bool:
        t = self.t.teams.get(team_id)
        if t is None or t.status is not TeamStatus.OPEN:
            return False
        self.t.teams[team_id] = replace(t, status=status)
        for m in self.t.team_members.values():
            if m.team_id == team_id:
                m.open = False
        return True

    async def members_of(self, team_id: int) -> list[int]:
        mine = [m for m in self.t.team_members.values() if m.team_id == team_id]
        return [m.user_id for m in sorted(mine, key=lambda m: (m.joined_at, m.id))]

    async def due(self, now: dt.datetime, limit: int) -> list[TeamRecord]:
        due = [
            t for t in self.t.teams.values() if t.status is TeamStatus.OPEN and t.expires_at <= now
        ]
        return sorted(due, key=lambda t: (t.expires_at, t.id))[:limit]

    async def fullest_open_team(self, deal_id: int, now: dt.datetime) -> int | None:
        open_ = [
            t
            for t in self.t.teams.values()
            if t.deal_id == deal_id
            and t.status is TeamStatus.OPEN
            and t.members < t.size
            and t.expires_at > now
        ]
        return min(open_, key=lambda t: (-t.members, t.id)).id if open_ else None


class FakeCalendar(Repo):
    def _record(self, row: PostRow) -> PostRecord:
        runs = [d for d in self.t.deliveries.values() if d.post_id == row.id]
        last = max(runs, key=lambda d: d.due_at, default=None)
        return PostRecord(
            id=row.id,
            chat_pk=row.chat_pk,
            chat_id=self.t.chats[row.chat_pk].chat_id,
            content=row.content,
            when=row.when,
            status=row.status,
            next_run_at=row.next_run_at,
            last_message_id=row.last_message_id,
            campaign=row.campaign,
            phase=row.phase,
            last_outcome=(str(last.status), last.due_at) if last else None,
            created_by=row.created_by,
        )

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
    ) -> int:
        row = PostRow(
            self.db.new_id(), chat_pk, content, when, status, next_run_at, created_by,
            campaign, phase,
        )  # fmt: skip
        self.t.posts[row.id] = row
        return row.id

    async def post(self, post_id: int) -> PostRecord | None:
        row = self.t.posts.get(post_id)
        return self._record(row) if row else None

    async def due(self, now: dt.datetime, limit: int) -> list[PostRecord]:
        due = [
            p
            for p in self.t.posts.values()
            if p.status is PostStatus.ACTIVE and p.next_run_at is not None and p.next_run_at <= now
        ]
        due.sort(key=lambda p: (p.next_run_at, p.id))
        return [self._record(p) for p in due[:limit]]

    async def advance(self, post_id: int, *, old: dt.datetime, new: dt.datetime | None) -> bool:
        p = self.t.posts.get(post_id)
        if p is None or p.status is not PostStatus.ACTIVE or p.next_run_at != old:
            return False
        p.next_run_at = new
        if new is None:
            p.status = PostStatus.DONE
        return True

    async def set_last_message(self, post_id: int, message_id: int) -> None:
        if post_id in self.t.posts:
            self.t.posts[post_id].last_message_id = message_id


class FakeOutbox(Repo):
    """Scheduled posts' runs (the hand-over); broadcasts and day-N steps are not faked."""

    async def add_run(
        self,
        post_id: int,
        target_chat: int,
        due_at: dt.datetime,
        *,
        status: DeliveryStatus,
        error: str | None,
    ) -> bool:
        if any((d.post_id, d.due_at) == (post_id, due_at) for d in self.t.deliveries.values()):
            return False
        row = DeliveryRow(self.db.new_id(), "post", post_id, target_chat, due_at, status, error)
        self.t.deliveries[row.id] = row
        return True

    async def claim(self, worker: str, now: dt.datetime, limit: int) -> list[Delivery]:
        due = [
            d
            for d in self.t.deliveries.values()
            if d.status is DeliveryStatus.PENDING and d.due_at <= now
        ]
        out = []
        for d in sorted(due, key=lambda d: (d.due_at, d.id))[:limit]:
            d.status, d.worker, d.claimed_at = DeliveryStatus.CLAIMED, worker, now
            post = self.t.posts[d.post_id]
            out.append(
                Delivery(
                    id=d.id,
                    kind=d.kind,
                    target_chat=d.target_chat,
                    content=post.content,
                    attempts=d.attempts,
                    due_at=d.due_at,
                    post_id=d.post_id,
                    replace_message=post.last_message_id if post.content.replace_previous else None,
                    group_pk=post.chat_pk,
                )
            )
        return out

    async def start(self, delivery_id: int, worker: str, at: dt.datetime) -> bool:
        d = self.t.deliveries.get(delivery_id)
        if d is None or d.status is not DeliveryStatus.CLAIMED or d.worker != worker:
            return False
        d.status, d.attempts, d.claimed_at = DeliveryStatus.SENDING, d.attempts + 1, at
        return True

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
        d = self.t.deliveries[delivery_id]
        d.status, d.error = status, error
        if retry_at is not None:
            d.status, d.due_at, d.worker, d.claimed_at = (
                DeliveryStatus.PENDING,
                retry_at,
                None,
                None,
            )
        if status == DeliveryStatus.SENT:
            d.sent_at, d.message_id = at, message_id

    async def release(self, worker: str) -> int:
        mine = [
            d
            for d in self.t.deliveries.values()
            if d.status is DeliveryStatus.CLAIMED and d.worker == worker
        ]
        for d in mine:
            d.status, d.worker, d.claimed_at = DeliveryStatus.PENDING, None, None
        return len(mine)

    async def holders(self) -> list[str]:
        held = (DeliveryStatus.CLAIMED, DeliveryStatus.SENDING)
        return sorted(
            {d.worker for d in self.t.deliveries.values() if d.status in held and d.worker}
        )

    async def recover(
        self, now: dt.datetime, lease: dt.timedelta, *, worker: str | None = None
    ) -> tuple[int, int]:
        def held(d: DeliveryRow) -> bool:
            if worker is not None:
                return d.worker == worker
            return d.claimed_at is not None and d.claimed_at < now - lease

        requeued = uncertain = 0
        for d in self.t.deliveries.values():
            if d.status is DeliveryStatus.CLAIMED and held(d):
                d.status, d.worker, d.claimed_at = DeliveryStatus.PENDING, None, None
                requeued += 1
            elif d.status is DeliveryStatus.SENDING and held(d):
                d.status = DeliveryStatus.UNCERTAIN
                d.error = "in flight when the bot stopped; not resent"
                uncertain += 1
        return requeued, uncertain


class FakeButtons(Repo):
    async def remember(
        self, kind: ButtonKind, object_id: int, chat_id: int, message_id: int, at: dt.datetime
    ) -> None:
        self.t.buttons.add((kind, object_id, chat_id, message_id))

    async def sent_for(
        self, kind: ButtonKind, object_id: int, chat_id: int, message_id: int
    ) -> bool:
        return (kind, object_id, chat_id, message_id) in self.t.buttons


# -- the unit of work -------------------------------------------------------------------------


class FakeSegments(Repo):
    """The summaries the writes keep; stages and RFM are scored in SQL (tests/storage)."""

    def _month(self, chat_pk: int, user_id: int, month: dt.date, **add: int) -> None:
        bucket = self.t.months.setdefault((chat_pk, user_id, month), {})
        for key, value in add.items():
            bucket[key] = bucket.get(key, 0) + value

    async def active_days(self, days: Sequence[ActiveDay]) -> int:
        new = {(d.chat_pk, d.user_id, d.day) for d in days} - self.t.days
        self.t.days |= new
        for chat_pk, user_id, day in new:
            self._month(chat_pk, user_id, day.replace(day=1), active_days=1)
        return len(new)

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
        self._month(chat_pk, user_id, month, orders=1, spend=amount)
        m = self.t.members.get((chat_pk, user_id))
        if m is not None:
            m.orders, m.spend = m.orders + 1, m.spend + amount
            last = self.t.last_orders.get((chat_pk, user_id))
            self.t.last_orders[(chat_pk, user_id)] = at if last is None else max(last, at)

    async def thresholds(self, chat_pk: int) -> StageThresholds:
        return self.t.thresholds.get(chat_pk, StageThresholds())

    async def set_thresholds(self, chat_pk: int, thresholds: StageThresholds) -> None:
        self.t.thresholds[chat_pk] = thresholds

    def __getattr__(self, name: str) -> Any:
        raise NotImplementedError(f"segments.{name} is scored in SQL: see tests/storage")


class FakeTiers(Repo):
    def _state(self, chat_pk: int, user_id: int, since: dt.date | None) -> TierState:
        m = self.t.members[chat_pk, user_id]
        if since is None:
            standing = Standing(m.spend, m.points_earned)
        else:
            buckets = [
                b
                for (c, u, month), b in self.t.months.items()
                if (c, u) == (chat_pk, user_id) and month >= since
            ]
            standing = Standing(
                sum(b.get("spend", 0) for b in buckets),
                sum(b.get("points_earned", 0) for b in buckets),
            )
        return TierState(user_id, m.tier, m.tier_since, m.tier_below_since, standing)

    async def state(self, chat_pk: int, user_id: int, since: dt.date | None) -> TierState | None:
        if (chat_pk, user_id) not in self.t.members:
            return None
        return self._state(chat_pk, user_id, since)

    async def holders(self, chat_pk: int, since: dt.date | None) -> list[TierState]:
        return [
            self._state(c, u, since)
            for (c, u), m in sorted(self.t.members.items())
            if c == chat_pk and m.tier > 0
        ]

    async def move(
        self, chat_pk: int, user_id: int, *, level: int, at: dt.datetime, only_up: bool
    ) -> bool:
        m = self.t.members.get((chat_pk, user_id))
        if m is None or m.tier == level or (only_up and m.tier > level):
            return False
        m.tier, m.tier_since, m.tier_below_since = level, at, None
        return True

    async def set_below_since(
        self, chat_pk: int, user_id: int, below_since: dt.datetime | None
    ) -> None:
        if (chat_pk, user_id) in self.t.members:
            self.t.members[chat_pk, user_id].tier_below_since = below_since

    async def cap(self, chat_pk: int, top: int) -> None:
        for (c, _), m in self.t.members.items():
            if c == chat_pk and m.tier > top:
                m.tier = top

    async def rewarded(self, chat_pk: int, user_id: int) -> set[int]:
        return {level for (c, u, level) in self.t.tier_rewards if (c, u) == (chat_pk, user_id)}

    async def reward(self, chat_pk: int, user_id: int, level: int, at: dt.datetime) -> bool:
        if (chat_pk, user_id, level) in self.t.tier_rewards:
            return False
        self.t.tier_rewards[chat_pk, user_id, level] = at
        return True


class FakeCaptchas(Repo):
    """No captchas in the fakes' world: every invite is free to be confirmed."""

    async def pending_among(self, chat_pk: int, user_ids: Sequence[int]) -> set[int]:
        return set()

    async def close_for(self, chat_pk: int, user_id: int, at: dt.datetime) -> list[CaptchaRecord]:
        return []

    async def request_let_in(
        self, chat_pk: int, user_id: int, since: dt.datetime, at: dt.datetime, *,
        settle_pending: bool,
    ) -> bool:  # fmt: skip
        return False


class FakeRaids(Repo):
    """No raids in the fakes' world: no join burst is ever counted, so referral rewards are
    never paused (raid mode is the storage tests' business, on both databases)."""

    async def get(self, chat_pk: int) -> RaidRecord | None:
        return None

    async def note_join(self, chat_pk: int, at: dt.datetime) -> None:
        return None

    async def joiners_between(self, chat_pk: int, after: dt.datetime, until: dt.datetime) -> int:
        return 0

    async def is_on(self, chat_pk: int) -> bool:
        return False


REPOSITORIES = {
    "segments": FakeSegments,
    "updates": FakeUpdateLog,
    "chats": FakeChats,
    "users": FakeUsers,
    "members": FakeMembers,
    "events": FakeEvents,
    "ledger": FakeLedger,
    "links": FakeInviteLinks,
    "invites": FakeInvites,
    "claims": FakeClaims,
    "rewards": FakeRewards,
    "coupons": FakeCoupons,
    "orders": FakeOrders,
    "groupbuys": FakeGroupBuys,
    "calendar": FakeCalendar,
    "outbox": FakeOutbox,
    "buttons": FakeButtons,
    "tags": FakeTags,
    "tiers": FakeTiers,
    "captchas": FakeCaptchas,
    "raids": FakeRaids,
}


class FakeUnitOfWork:
    """One transaction: leaving without commit() puts every table back as it was.

    One at a time: two open at once would undo each other's work, so that is refused (races
    are the storage tests' business, on PostgreSQL).
    """

    def __init__(self, db: FakeDatabase) -> None:
        self.db = db
        self.commits = 0
        self._saved: Tables | None = None
        for name, repo in REPOSITORIES.items():
            setattr(self, name, repo(db))

    def alone(self) -> Self:
        """The fakes' transactions are as cheap as their statements: the same one."""
        return self

    async def __aenter__(self) -> Self:
        if self.db.open:
            raise RuntimeError("the fakes hold one transaction at a time")
        self.db.open += 1
        self._saved = copy.deepcopy(self.db.t)
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._saved is not None
        self.db.t, self._saved = self._saved, None
        self.db.open -= 1

    async def commit(self, *, durable: bool = True) -> None:
        self._saved = copy.deepcopy(self.db.t)
        self.commits += 1

    @property
    def committed(self) -> bool:
        return self.commits > 0
