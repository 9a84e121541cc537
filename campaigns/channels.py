"""Channels (渠道): named invite links an admin makes for a group, one per place the link is
posted (a 小红书 note, a 抖音 video, a poster), what each placement cost, and what it
brought. The one home of the channel figures; storage only gathers the rows they read.

A channel link is an invite link the bot creates and stores like a member's (kind
`channel`); a join through it is credited to nobody (no referral reward) and remembers the
link. Revoking a channel retires its Telegram link; its joins still count.

**Credit (first touch).** A member is credited to the channel of their first join through
any channel link of the group, at that join. A later join through another channel (or the
same one) does not move them, so the channels' figures add up without counting anyone
twice. Members who never joined through a channel belong to no channel.

For each channel, over the members credited to it whose credited join is in a window of
joins (all of them for `/link list`; the period's for `/stats`; the campaign's days for
the 复盘), as of `now`:

- **joins**: those members;
- **confirmed**: those the referral rule would confirm now (campaigns/referral.py
  `confirmable`: the group's hold passed, still in the group, and active since joining when
  the group asks for activity);
- **first orders**: those whose first order in the group came at or after their join;
- **orders** and **GMV**: their orders placed from their join on (the amounts summed, in
  minor units); the 复盘 stops counting at its attribution window's end;
- **cost**: what the admins recorded for the placement (minor units; none until recorded);
- **ROI** = (GMV − cost) / cost; none without a cost (shown "–").

The cost is one figure for the channel's whole life, so ROI is read against the GMV its
members brought to date: a period's view (/stats) shows the period's joins and GMV beside
the channel's ROI to date, never the whole cost against one week's GMV.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from campaigns.content import visible_length
from campaigns.coupons import AmountError, parse_amount
from campaigns.errors import DomainError
from campaigns.referral import ReferralProgram, confirmable, owner_from_name

CHANNEL = "channel"  # invite_links.kind of a channel's link
NAME_MAX = 32  # Telegram's limit on an invite link's name
COST_WORDS = ("cost=", "成本=", "费用=")  # `/link new <name> cost=500`
OFF = frozenset({"off", "none", "-", "清除"})  # `/link cost <name> off` forgets the cost
RENAME_TO = frozenset({"->", "→", "=>", "to", "改为"})  # `/link rename <old> -> <new>`


class ChannelVerb(StrEnum):
    NEW = "new"
    LIST = "list"
    COST = "cost"
    REVOKE = "revoke"
    RENAME = "rename"


class ChannelProblem(StrEnum):
    USAGE = "usage"  # not one of the verbs with its words
    NAME = "name"  # empty, over 32 characters, control characters, or like a member's link
    COST = "cost"  # not an amount in ¥ (or `off`)


@dataclass
class ChannelInputError(DomainError):
    problem: ChannelProblem
    value: str = ""


class ChannelRefusal(StrEnum):
    TAKEN = "taken"  # the group has a channel of that name
    NO_LINK = "no_link"  # Telegram made no link (the bot may not invite users)
    UNKNOWN = "unknown"  # the group has no channel of that name (another group's is none)
    REVOKED = "revoked"  # revoked already
    NO_RIGHTS = "no_rights"  # Telegram would not revoke or rename the link


@dataclass
class ChannelRefused(DomainError):
    reason: ChannelRefusal
    value: str = ""


@dataclass(frozen=True)
class LinkCommand:
    """A /link command as typed: the verb, the channel's name, a new name, a cost (minor
    units; None with `off`, or not given)."""

    verb: ChannelVerb
    name: str | None = None
    new_name: str | None = None
    cost: int | None = None


def parse_link_command(words: Sequence[str]) -> LinkCommand:
    """`/link new <name> [cost=<¥>]`, `/link list`, `/link cost <name> <¥|off>`,
    `/link revoke <name>`, `/link rename <old> -> <new>` (or two one-word names). A name is
    the rest of the line, so it may hold spaces. ChannelInputError for anything else;
    nothing else is raised."""
    verb = words[0].strip().lower() if words else ""
    rest = list(words[1:])
    if verb == ChannelVerb.LIST and not rest:
        return LinkCommand(ChannelVerb.LIST)
    if verb == ChannelVerb.NEW:
        cost = None
        if rest and rest[-1].strip().lower().startswith(COST_WORDS):
            cost = parse_cost(rest.pop().split("=", 1)[1])
        return LinkCommand(ChannelVerb.NEW, channel_name(" ".join(rest)), cost=cost)
    if verb == ChannelVerb.REVOKE:
        return LinkCommand(ChannelVerb.REVOKE, channel_name(" ".join(rest)))
    if verb == ChannelVerb.COST and len(rest) >= 2:
        raw = rest.pop()
        cost = None if raw.strip().lower() in OFF else parse_cost(raw)
        return LinkCommand(ChannelVerb.COST, channel_name(" ".join(rest)), cost=cost)
    if verb == ChannelVerb.RENAME:
        old, new = _rename_words(rest)
        return LinkCommand(ChannelVerb.RENAME, channel_name(old), channel_name(new))
    raise ChannelInputError(ChannelProblem.USAGE, verb[:32])


def _rename_words(rest: list[str]) -> tuple[str, str]:
    """`<old…> -> <new…>`, or exactly two words."""
    marks = [i for i, w in enumerate(rest) if w.strip().lower() in RENAME_TO]
    if marks:
        i = marks[0]
        return " ".join(rest[:i]), " ".join(rest[i + 1 :])
    if len(rest) == 2:
        return rest[0], rest[1]
    raise ChannelInputError(ChannelProblem.USAGE, ChannelVerb.RENAME)


def parse_cost(raw: str) -> int:
    """A placement's cost as typed in ¥ (`500`, `¥1,299.50`) -> minor units."""
    try:
        return parse_amount(unicodedata.normalize("NFKC", raw).strip())
    except AmountError:
        raise ChannelInputError(ChannelProblem.COST, raw[:32]) from None


def channel_name(raw: str) -> str:
    """The name as stored and given to Telegram: NFKC, spaces collapsed, 1-32 characters as
    Telegram counts them (UTF-16 units: an emoji is two),
    no control or format characters, and not shaped like a member's link (`r<id> …`)."""
    name = " ".join(unicodedata.normalize("NFKC", raw).split())
    if (
        not 1 <= visible_length(name, None) <= NAME_MAX
        or any(unicodedata.category(ch).startswith("C") for ch in name)
        or owner_from_name(name) is not None
    ):
        raise ChannelInputError(ChannelProblem.NAME, raw[:40])
    return name


# -- what the figures read -------------------------------------------------------------------


@dataclass(frozen=True)
class Channel:
    """A channel of a group: its link, and the placement's cost (minor units) if recorded."""

    link_id: int
    name: str
    url: str
    cost: int | None = None
    revoked_at: dt.datetime | None = None

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None


@dataclass(frozen=True)
class ChannelJoin:
    """One join through one of the group's channel links."""

    link_id: int
    user_id: int
    joined_at: dt.datetime


@dataclass(frozen=True)
class MemberNow:
    """A joiner's membership as it stands: present, and their last activity."""

    present: bool
    last_active_at: dt.datetime | None = None


@dataclass(frozen=True)
class OrderAt:
    at: dt.datetime
    amount: int  # minor units


@dataclass(frozen=True)
class ChannelFacts:
    """One group's rows the channel figures are computed from: every join through any of
    its channel links, and the joiners' membership and every order of theirs in the group."""

    joins: Sequence[ChannelJoin] = ()
    members: Mapping[int, MemberNow] = field(default_factory=dict)
    orders: Mapping[int, Sequence[OrderAt]] = field(default_factory=dict)


def credited(joins: Iterable[ChannelJoin]) -> dict[int, ChannelJoin]:
    """Member -> the join they are credited by: their first through any channel of the
    group (first touch; a tie in time goes to the older channel)."""
    first: dict[int, ChannelJoin] = {}
    for j in sorted(joins, key=lambda j: (j.joined_at, j.link_id)):
        first.setdefault(j.user_id, j)
    return first


def roi(gmv: int, cost: int | None) -> float | None:
    """(GMV − cost) / cost; none when nothing was spent (or nothing recorded)."""
    return (gmv - cost) / cost if cost else None


@dataclass(frozen=True)
class ChannelStats:
    """A channel's figures over a window of joins (money in minor units)."""

    channel: Channel
    joins: int = 0
    confirmed: int = 0
    first_orders: int = 0
    orders: int = 0
    gmv: int = 0

    @property
    def link_id(self) -> int:
        return self.channel.link_id

    @property
    def name(self) -> str:
        return self.channel.name

    @property
    def cost(self) -> int | None:
        return self.channel.cost

    @property
    def roi(self) -> float | None:
        return roi(self.gmv, self.channel.cost)


def channel_figures(
    channels: Sequence[Channel],
    facts: ChannelFacts,
    program: ReferralProgram,
    *,
    now: dt.datetime,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    orders_until: dt.datetime | None = None,
) -> list[ChannelStats]:
    """Each channel's figures, in the order given, over the members credited to it whose
    credited join is in [since, until) (open ends: no bound) and not after `now`, as of
    `now`; orders count up to `now` and, with `orders_until`, before it."""
    wanted = {c.link_id for c in channels}
    members: dict[int, list[ChannelJoin]] = {}
    for join in credited(facts.joins).values():
        in_window = (
            (since is None or join.joined_at >= since)
            and (until is None or join.joined_at < until)
            and join.joined_at <= now
        )
        if join.link_id in wanted and in_window:
            members.setdefault(join.link_id, []).append(join)

    def counted(at: dt.datetime, joined_at: dt.datetime) -> bool:
        return joined_at <= at <= now and (orders_until is None or at < orders_until)

    out = []
    for channel in channels:
        joins = members.get(channel.link_id, [])
        confirmed = first_orders = orders = gmv = 0
        for j in joins:
            member = facts.members.get(j.user_id, MemberNow(present=False))
            confirmed += confirmable(
                joined_at=j.joined_at, present=member.present,
                last_active_at=member.last_active_at, now=now, program=program,
            )  # fmt: skip
            bought = facts.orders.get(j.user_id, ())
            if bought and counted(min(o.at for o in bought), j.joined_at):
                first_orders += 1
            mine = [o for o in bought if counted(o.at, j.joined_at)]
            orders += len(mine)
            gmv += sum(o.amount for o in mine)
        out.append(ChannelStats(channel, len(joins), confirmed, first_orders, orders, gmv))
    return out


@dataclass(frozen=True)
class ChannelPeriod:
    """A channel in a period's view: the members it brought in the period (and what they
    did since), beside its figures to date (against which its cost and ROI are read)."""

    period: ChannelStats
    to_date: ChannelStats


def period_view(
    channels: Sequence[Channel],
    facts: ChannelFacts,
    program: ReferralProgram,
    *,
    since: dt.datetime,
    until: dt.datetime,
    now: dt.datetime,
) -> list[ChannelPeriod]:
    """The channels a period's report shows: each live channel, and each revoked one that
    brought someone in the period."""
    period = channel_figures(channels, facts, program, now=now, since=since, until=until)
    to_date = channel_figures(channels, facts, program, now=now)
    return [
        ChannelPeriod(p, t)
        for p, t in zip(period, to_date, strict=True)
        if not p.channel.revoked or p.joins
    ]
