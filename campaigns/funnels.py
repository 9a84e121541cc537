"""Funnels: of those who took a first step in a period, how many went on to the next ones.

Every funnel counts one kind of thing (members, coupons, teams, messages) through steps
where each step keeps only those that also took every step before it, so no step ever counts
more than the one before (a `Funnel` refuses counts that would). The first step happens in
the period [since, until); the later steps may happen any time after it, up to `until`.

- referral (members who invite): shared a link (owned an invite link alive in the period; a
  channel's link, made by an admin and credited to nobody, is no one's share) →
  a friend joined through them in the period (an attributed join: pending, confirmed or left,
  never a rejected one) → such a friend is confirmed → such a confirmed friend ordered
  (an order after joining).
- coupons, per offer (coupons): claimed in the period → redeemed.
- group-buy teams (teams): started in the period → completed.
- group-buy members (members): joined a team started in the period → their team completed →
  ordered after it completed.
- broadcast and journey (messages sent privately): sent in the period → the member was
  active in the group (a message or a check-in) within 3 days → and ordered within 7 days.
- new members (members): first joined in the period → sent a message → checked in → ordered,
  each after joining.
- new members by channel (渠道): the same steps for the members whose first join in the
  group came through a channel's link, one funnel per channel that brought someone in the
  period, then one for those who came another way. (The referral funnel is not split: a
  channel's joins are credited to nobody, so none of them is in it.)

Durations ("within 3 days") are measured in whole seconds (each time floored to its second,
as the database compares them), so the rule and its SQL agree to the second.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from campaigns.channels import CHANNEL
from campaigns.errors import DomainError
from campaigns.stats import BadPeriod, parse_asked

ACTIVE_WITHIN = dt.timedelta(days=3)
ORDER_WITHIN = dt.timedelta(days=7)
BOUGHT_WITHIN = dt.timedelta(days=14)  # the journey and coupon-offer reports' orders and GMV
DEFAULT_DAYS = 7  # a funnel's default period: the last week


class FunnelKind(StrEnum):
    REFERRAL = "referral"
    COUPON = "coupon"
    TEAMS = "teams"
    TEAM_MEMBERS = "team_members"
    BROADCAST = "broadcast"
    JOURNEY = "journey"
    NEW_MEMBER = "new_member"
    CHANNEL = "channel"  # the new-member funnel of one channel (or of no channel)


class StepKey(StrEnum):
    SHARED = "shared"
    FRIEND_JOINED = "friend_joined"
    FRIEND_CONFIRMED = "friend_confirmed"
    FRIEND_ORDERED = "friend_ordered"
    CLAIMED = "claimed"
    REDEEMED = "redeemed"
    STARTED = "started"
    COMPLETED = "completed"
    JOINED_TEAM = "joined_team"
    TEAM_COMPLETED = "team_completed"
    ORDERED = "ordered"
    SENT = "sent"
    ACTIVE_3D = "active_3d"
    ORDER_7D = "order_7d"
    JOINED = "joined"
    FIRST_MESSAGE = "first_message"
    FIRST_CHECKIN = "first_checkin"
    FIRST_ORDER = "first_order"


STEPS: dict[FunnelKind, tuple[StepKey, ...]] = {
    FunnelKind.REFERRAL: (
        StepKey.SHARED, StepKey.FRIEND_JOINED, StepKey.FRIEND_CONFIRMED, StepKey.FRIEND_ORDERED
    ),
    FunnelKind.COUPON: (StepKey.CLAIMED, StepKey.REDEEMED),
    FunnelKind.TEAMS: (StepKey.STARTED, StepKey.COMPLETED),
    FunnelKind.TEAM_MEMBERS: (StepKey.JOINED_TEAM, StepKey.TEAM_COMPLETED, StepKey.ORDERED),
    FunnelKind.BROADCAST: (StepKey.SENT, StepKey.ACTIVE_3D, StepKey.ORDER_7D),
    FunnelKind.JOURNEY: (StepKey.SENT, StepKey.ACTIVE_3D, StepKey.ORDER_7D),
    FunnelKind.NEW_MEMBER: (
        StepKey.JOINED, StepKey.FIRST_MESSAGE, StepKey.FIRST_CHECKIN, StepKey.FIRST_ORDER
    ),
    FunnelKind.CHANNEL: (
        StepKey.JOINED, StepKey.FIRST_MESSAGE, StepKey.FIRST_CHECKIN, StepKey.FIRST_ORDER
    ),
}  # fmt: skip


@dataclass(frozen=True)
class Step:
    key: StepKey
    count: int


@dataclass(frozen=True)
class Funnel:
    """Named steps with counts, each no more than the one before (ValueError otherwise)."""

    kind: FunnelKind
    steps: tuple[Step, ...]
    title: str | None = None  # a coupon funnel's offer name, a channel funnel's channel
    offer_id: int | None = None
    channel_id: int | None = None  # a channel funnel's link id (None: joined another way)

    def __post_init__(self) -> None:
        counts = [s.count for s in self.steps]
        if not counts or counts[0] < 0:
            raise ValueError(f"{self.kind}: no steps, or a negative count")
        if any(b > a or b < 0 for a, b in itertools.pairwise(counts)):
            raise ValueError(f"{self.kind}: a step counts more than the one before: {counts}")

    @classmethod
    def of(
        cls, kind: FunnelKind, counts: Sequence[int], *, title: str | None = None,
        offer_id: int | None = None, channel_id: int | None = None,
    ) -> Funnel:  # fmt: skip
        """The kind's steps with these counts, in order."""
        keys = STEPS[kind]
        if len(counts) != len(keys):
            raise ValueError(f"{kind}: {len(keys)} steps, {len(counts)} counts")
        steps = tuple(Step(k, n) for k, n in zip(keys, counts, strict=True))
        return cls(kind, steps, title, offer_id, channel_id)

    @property
    def counts(self) -> tuple[int, ...]:
        return tuple(s.count for s in self.steps)

    def from_previous(self, i: int) -> float | None:
        """Step i's count as a share of step i-1's (None for the first step or after 0)."""
        if i == 0 or self.steps[i - 1].count == 0:
            return None
        return self.steps[i].count / self.steps[i - 1].count

    def from_first(self, i: int) -> float | None:
        """Step i's count as a share of the first step's (None when nobody started)."""
        first = self.steps[0].count
        return self.steps[i].count / first if first else None


# -- the facts the rules read (one group's raw rows) ------------------------------------------


@dataclass(frozen=True)
class LinkFact:
    owner_id: int
    created_at: dt.datetime
    revoked_at: dt.datetime | None = None
    kind: str = "member"  # invite_links.kind: "member", "deeplink" or "channel"


@dataclass(frozen=True)
class InviteFact:
    invitee_id: int
    inviter_id: int | None
    status: str  # campaigns.referral.InviteStatus
    joined_at: dt.datetime
    confirmed_at: dt.datetime | None = None


@dataclass(frozen=True)
class CouponFact:
    offer_id: int
    offer_name: str
    issued_at: dt.datetime
    redeemed_at: dt.datetime | None = None
    purpose: str = "offer"  # an operator's offer; "groupbuy": a team's coupon, not counted


@dataclass(frozen=True)
class TeamFact:
    team_id: int
    status: str  # campaigns.groupbuys.TeamStatus
    created_at: dt.datetime
    closed_at: dt.datetime | None
    members: tuple[int, ...]


@dataclass(frozen=True)
class SendFact:
    """A private message sent to a member: a broadcast's or a journey step's."""

    kind: FunnelKind  # BROADCAST or JOURNEY
    user_id: int
    sent_at: dt.datetime


@dataclass(frozen=True)
class FunnelFacts:
    """One group's rows the funnels are computed from; times of `messages`, `checkins` and
    `orders` are per member."""

    joins: dict[int, dt.datetime] = field(default_factory=dict)  # first join per member
    messages: dict[int, list[dt.datetime]] = field(default_factory=dict)  # message events
    checkins: dict[int, list[dt.datetime]] = field(default_factory=dict)  # check-in events
    orders: dict[int, list[dt.datetime]] = field(default_factory=dict)
    links: list[LinkFact] = field(default_factory=list)
    invites: list[InviteFact] = field(default_factory=list)
    coupons: list[CouponFact] = field(default_factory=list)
    teams: list[TeamFact] = field(default_factory=list)
    sends: list[SendFact] = field(default_factory=list)
    # member -> the channel link their first join (the one in `joins`) came through
    join_channels: dict[int, int] = field(default_factory=dict)


ATTRIBUTED_STATUSES = frozenset({"pending", "confirmed", "left"})
TEAM_COMPLETE = "complete"
OFFER = "offer"


def _second(at: dt.datetime) -> int:
    return math.floor(at.timestamp())


def _in(at: dt.datetime | None, since: dt.datetime, until: dt.datetime) -> bool:
    return at is not None and since <= at < until


def _any_between(
    times: Iterable[dt.datetime], start: dt.datetime, until: dt.datetime, within: dt.timedelta
) -> bool:
    """A time at or after `start` (to the second), before `until` and at most `within` later."""
    first, limit = _second(start), within.total_seconds()
    return any(0 <= _second(t) - first <= limit and t < until for t in times)


def converted_within(
    times: Iterable[dt.datetime], start: dt.datetime, until: dt.datetime, within: dt.timedelta
) -> bool:
    """The funnels' "within N days of `start`" (to the second, before `until`), for the other
    reports that measure the same steps (broadcast A/B tests)."""
    return _any_between(times, start, until, within)


def _after(times: Iterable[dt.datetime], start: dt.datetime, until: dt.datetime) -> bool:
    return any(start <= t < until for t in times)


def referral_funnel(f: FunnelFacts, since: dt.datetime, until: dt.datetime) -> Funnel:
    sharers = {
        link.owner_id
        for link in f.links
        if link.created_at < until
        and (link.revoked_at is None or link.revoked_at >= since)
        and link.kind != CHANNEL
    }
    friends = [
        i
        for i in f.invites
        if i.inviter_id in sharers
        and i.status in ATTRIBUTED_STATUSES
        and _in(i.joined_at, since, until)
    ]
    joined = {i.inviter_id for i in friends}
    confirmed_friends = [
        i for i in friends if i.status == "confirmed" and i.confirmed_at is not None
        and i.confirmed_at < until
    ]  # fmt: skip
    confirmed = {i.inviter_id for i in confirmed_friends}
    ordered = {
        i.inviter_id
        for i in confirmed_friends
        if _after(f.orders.get(i.invitee_id, ()), i.joined_at, until)
    }
    return Funnel.of(FunnelKind.REFERRAL, [len(sharers), len(joined), len(confirmed), len(ordered)])


def coupon_funnels(f: FunnelFacts, since: dt.datetime, until: dt.datetime) -> list[Funnel]:
    """One funnel per offer that had a coupon claimed in the period, by offer id (a
    group-buy's coupons are the group-buy funnel's)."""
    per_offer: dict[int, tuple[str, list[CouponFact]]] = {}
    for c in f.coupons:
        if c.purpose == OFFER and _in(c.issued_at, since, until):
            per_offer.setdefault(c.offer_id, (c.offer_name, []))[1].append(c)
    return [
        Funnel.of(
            FunnelKind.COUPON,
            [len(coupons), sum(_in(c.redeemed_at, c.issued_at, until) for c in coupons)],
            title=name,
            offer_id=offer_id,
        )
        for offer_id, (name, coupons) in sorted(per_offer.items())
    ]


def team_funnels(f: FunnelFacts, since: dt.datetime, until: dt.datetime) -> list[Funnel]:
    """Teams started → completed; and their members → completed team → ordered after."""
    started = [t for t in f.teams if _in(t.created_at, since, until)]
    completed = [
        t for t in started if t.status == TEAM_COMPLETE and t.closed_at is not None
        and t.closed_at < until
    ]  # fmt: skip
    joined = {m for t in started for m in t.members}
    done = {m for t in completed for m in t.members}
    ordered = {
        m
        for t in completed
        for m in t.members
        if t.closed_at is not None and _after(f.orders.get(m, ()), t.closed_at, until)
    }
    return [
        Funnel.of(FunnelKind.TEAMS, [len(started), len(completed)]),
        Funnel.of(FunnelKind.TEAM_MEMBERS, [len(joined), len(done), len(ordered)]),
    ]


def message_funnel(
    f: FunnelFacts, kind: FunnelKind, since: dt.datetime, until: dt.datetime
) -> Funnel:
    """Broadcast or journey messages sent in the period → active within 3 days → order
    within 7 days."""
    sent = [s for s in f.sends if s.kind == kind and _in(s.sent_at, since, until)]
    active = [
        s
        for s in sent
        if _any_between(
            [*f.messages.get(s.user_id, ()), *f.checkins.get(s.user_id, ())],
            s.sent_at, until, ACTIVE_WITHIN,
        )
    ]  # fmt: skip
    ordered = [
        s
        for s in active
        if _any_between(f.orders.get(s.user_id, ()), s.sent_at, until, ORDER_WITHIN)
    ]
    return Funnel.of(kind, [len(sent), len(active), len(ordered)])


def _new_member_counts(
    f: FunnelFacts, joined: dict[int, dt.datetime], until: dt.datetime
) -> list[int]:
    spoke = {u: at for u, at in joined.items() if _after(f.messages.get(u, ()), at, until)}
    checked = {u: at for u, at in spoke.items() if _after(f.checkins.get(u, ()), at, until)}
    ordered = [u for u, at in checked.items() if _after(f.orders.get(u, ()), at, until)]
    return [len(joined), len(spoke), len(checked), len(ordered)]


def new_member_funnel(f: FunnelFacts, since: dt.datetime, until: dt.datetime) -> Funnel:
    joined = {u: at for u, at in f.joins.items() if _in(at, since, until)}
    return Funnel.of(FunnelKind.NEW_MEMBER, _new_member_counts(f, joined, until))


def channel_funnels(
    f: FunnelFacts,
    channels: Sequence[tuple[int, str]],
    since: dt.datetime,
    until: dt.datetime,
) -> list[Funnel]:
    """The new-member funnel split by the channel of each member's first join: one funnel
    per channel of `channels` (link id, name; in that order) that brought someone in the
    period, then one (channel_id None) for the members who joined another way. Nothing for
    a group without channels. The funnels' first steps add up to the new-member funnel's."""
    if not channels:
        return []
    by_channel: dict[int | None, dict[int, dt.datetime]] = {}
    for user, at in f.joins.items():
        if _in(at, since, until):
            by_channel.setdefault(f.join_channels.get(user), {})[user] = at
    found = [
        Funnel.of(FunnelKind.CHANNEL, _new_member_counts(f, by_channel[link], until),
                  title=name, channel_id=link)
        for link, name in channels
        if link in by_channel
    ]  # fmt: skip
    known = {link for link, _name in channels}
    others = {u: at for link, m in by_channel.items() if link not in known for u, at in m.items()}
    if others:
        found.append(Funnel.of(FunnelKind.CHANNEL, _new_member_counts(f, others, until)))
    return found


def all_funnels(f: FunnelFacts, since: dt.datetime, until: dt.datetime) -> list[Funnel]:
    """Every funnel of the period, in the order reports show them."""
    return [
        referral_funnel(f, since, until),
        *coupon_funnels(f, since, until),
        *team_funnels(f, since, until),
        message_funnel(f, FunnelKind.BROADCAST, since, until),
        message_funnel(f, FunnelKind.JOURNEY, since, until),
        new_member_funnel(f, since, until),
    ]


class PeriodRefused(DomainError, ValueError):
    """Not one of the periods /funnels knows (7d, 30d, 90d)."""

    def __init__(self, value: str) -> None:
        super().__init__(value)
        self.value = value


MOST_OFFERS = 6  # coupon funnels shown by /funnels and its chart: the most claimed


def shown(funnels: Sequence[Funnel], most: int = MOST_OFFERS) -> tuple[list[Funnel], int]:
    """The funnels a report shows, in order, with at most `most` coupon funnels (the most
    claimed; ties by offer id), and how many coupon funnels were left out: a report of 40
    offers would not fit a Telegram message, nor a chart a phone can read."""
    coupons = [f for f in funnels if f.kind is FunnelKind.COUPON]
    kept = sorted(coupons, key=lambda f: (-f.steps[0].count, f.offer_id or 0))[:most]
    keep = {id(f) for f in kept}
    return [f for f in funnels if f.kind is not FunnelKind.COUPON or id(f) in keep], len(
        coupons
    ) - len(kept)


def parse_period(words: list[str]) -> int:
    """`/funnels [7d|30d|90d]`: the period's days (7 when not given); else PeriodRefused.
    The words are read as /stats reads them (campaigns/stats.py `parse_asked`, one home)."""
    if not words:
        return DEFAULT_DAYS
    try:
        return parse_asked(words).days
    except BadPeriod:
        raise PeriodRefused(" ".join(words)[:32]) from None
