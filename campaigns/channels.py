"""Channels (渠道): named invite links an admin makes for a group, one per place the link is
posted, and what each brought so far.

A channel link is an invite link the bot creates and stores like a member's (kind
`channel`); a join through it is credited to nobody (no referral reward) and remembers the
link. For each channel, counted over its joiners (each member once, their first join):

- **joins**: members who joined through it;
- **confirmed**: those the referral rule would confirm now (campaigns/referral.py
  `confirmable`: the group's hold passed, still in the group, and active since joining when
  the group asks for activity);
- **first orders**: those whose first order in the group came after they joined.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from campaigns.errors import DomainError
from campaigns.referral import ReferralProgram, confirmable, owner_from_name

CHANNEL = "channel"  # invite_links.kind of a channel's link
NAME_MAX = 32  # Telegram's limit on an invite link's name


class ChannelVerb(StrEnum):
    NEW = "new"
    LIST = "list"


class ChannelProblem(StrEnum):
    USAGE = "usage"  # not `new <name>` or `list`
    NAME = "name"  # empty, over 32 characters, control characters, or like a member's link


@dataclass
class ChannelInputError(DomainError):
    problem: ChannelProblem
    value: str = ""


class ChannelRefusal(StrEnum):
    TAKEN = "taken"  # the group has a channel of that name
    NO_LINK = "no_link"  # Telegram made no link (the bot may not invite users)


@dataclass
class ChannelRefused(DomainError):
    reason: ChannelRefusal
    value: str = ""


def parse_link_command(words: Sequence[str]) -> tuple[ChannelVerb, str | None]:
    """`/link new <name>` (the rest of the line, 1-32 characters) or `/link list`;
    ChannelInputError for anything else, nothing else is raised."""
    verb = words[0].strip().lower() if words else ""
    if verb == ChannelVerb.LIST and len(words) == 1:
        return ChannelVerb.LIST, None
    if verb != ChannelVerb.NEW:
        raise ChannelInputError(ChannelProblem.USAGE, verb[:32])
    return ChannelVerb.NEW, channel_name(" ".join(words[1:]))


def channel_name(raw: str) -> str:
    """The name as stored and given to Telegram: NFKC, spaces collapsed, 1-32 characters,
    no control or format characters, and not shaped like a member's link (`r<id> …`)."""
    name = " ".join(unicodedata.normalize("NFKC", raw).split())
    if (
        not 1 <= len(name) <= NAME_MAX
        or any(unicodedata.category(ch).startswith("C") for ch in name)
        or owner_from_name(name) is not None
    ):
        raise ChannelInputError(ChannelProblem.NAME, raw[:40])
    return name


@dataclass(frozen=True)
class Joiner:
    """A member who joined through a channel's link, and what they did since."""

    user_id: int
    joined_at: dt.datetime
    present: bool
    last_active_at: dt.datetime | None
    first_order_at: dt.datetime | None  # their first order in the group, ever


@dataclass(frozen=True)
class ChannelStats:
    link_id: int
    name: str
    url: str
    joins: int
    confirmed: int
    first_orders: int


def channel_stats(
    link_id: int,
    name: str,
    url: str,
    joiners: Iterable[Joiner],
    program: ReferralProgram,
    now: dt.datetime,
) -> ChannelStats:
    """A channel's joins, confirmed and first orders as of `now` (each member once, by their
    first join through it)."""
    first: dict[int, Joiner] = {}
    for j in sorted(joiners, key=lambda j: j.joined_at):
        first.setdefault(j.user_id, j)
    confirmed = sum(
        confirmable(
            joined_at=j.joined_at, present=j.present, last_active_at=j.last_active_at,
            now=now, program=program,
        )
        for j in first.values()
    )  # fmt: skip
    orders = sum(
        j.first_order_at is not None and j.joined_at <= j.first_order_at <= now
        for j in first.values()
    )
    return ChannelStats(link_id, name, url, len(first), confirmed, orders)
