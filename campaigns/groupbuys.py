"""Group-buy (拼团) rules: a deal, and teams that complete at N members or expire.

A team is open until it has `size` members (complete: everyone gets a coupon for the
group price), its time runs out (expired: nothing is owed) or its last member leaves
(disbanded). The limits that protect
money (the last slot, the stock, one open team per member and deal) are held by the
database; these rules say what the states mean.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

from campaigns.access import parse_id
from campaigns.errors import DomainError

MIN_SIZE, MAX_SIZE = 2, 50
MAX_TEAM_MINUTES = 7 * 24 * 60
MAX_DEAL_STOCK = 10**9  # what deals.stock holds, and far above any deal


class TeamStatus(StrEnum):
    OPEN = "open"
    COMPLETE = "complete"
    EXPIRED = "expired"
    DISBANDED = "emptied"  # everyone left before it filled (fits the 8-character column)


class Refusal(StrEnum):
    """Why a start or join is refused; handlers turn these into words."""

    ENDED = "ended"
    SOLD_OUT = "sold_out"
    FULL = "full"
    CLOSED = "closed"  # the team completed or expired
    IN_A_TEAM = "in_a_team"  # the member already is in an open team of this deal
    NOT_IN_TEAM = "not_in_team"
    NO_OPEN_TEAM = "no_open_team"
    UNKNOWN = "unknown"


@dataclass
class GroupBuyRefused(DomainError):
    reason: Refusal
    deal_id: int | None = None  # the id an admin's command named, when no such deal is theirs


@dataclass(frozen=True)
class Deal:
    """What is on offer: the price alone, the price in a full team, and the clock."""

    title: str
    price: int  # minor units
    group_price: int
    size: int
    team_minutes: int
    ends_at: dt.datetime
    stock: int | None = None
    currency: str = "CNY"

    def __post_init__(self) -> None:
        if not MIN_SIZE <= self.size <= MAX_SIZE:
            raise DealInputError(DealField.SIZE)
        if not 0 < self.group_price < self.price:
            raise DealInputError(DealField.GROUP_PRICE)
        if not 1 <= self.team_minutes <= MAX_TEAM_MINUTES:
            raise DealInputError(DealField.MINUTES)
        if self.stock is not None and not 1 <= self.stock <= MAX_DEAL_STOCK:
            raise DealInputError(DealField.STOCK)
        if self.ends_at.tzinfo is None:  # a caller's mistake, not the operator's
            raise ValueError("the end time needs a timezone")

    @property
    def saving(self) -> int:
        """What the completion coupon takes off the price."""
        return self.price - self.group_price

    def check_open(self, now: dt.datetime) -> None:
        if now >= self.ends_at:
            raise GroupBuyRefused(Refusal.ENDED)

    def team_ends_at(self, started: dt.datetime) -> dt.datetime:
        """A team has `team_minutes`, but never outlives the deal."""
        return min(started + dt.timedelta(minutes=self.team_minutes), self.ends_at)


def status_after_join(members: int, size: int) -> TeamStatus:
    return TeamStatus.COMPLETE if members >= size else TeamStatus.OPEN


class DealField(StrEnum):
    """Which argument of `/groupbuy new` is wrong; texts say the allowed form and an example."""

    ARGUMENTS = "arguments"  # fewer than six
    SIZE = "size"
    PRICE = "price"
    GROUP_PRICE = "group_price"  # not a price, or not below the price
    MINUTES = "minutes"
    HOURS = "hours"
    TITLE = "title"
    STOCK = "stock"  # below 1 (the command line's --stock; chat has no stock)


@dataclass
class DealInputError(DomainError, ValueError):
    """The first wrong part of a deal as typed (a ValueError: a Deal refuses with it too)."""

    field: DealField


MAX_DEAL_HOURS = 24 * 365
TITLE_LENGTH = 128


def parse_deal(args: list[str], now: dt.datetime, parse_price: Callable[[str], int]) -> Deal:
    """`<size> <price> <group price> <minutes per team> <hours> <title…>` as typed in chat;
    the first wrong field is named (prices go through the coupon engine's amount parser)."""
    if len(args) < 6:
        raise DealInputError(DealField.ARGUMENTS)
    size = _whole(args[0], MIN_SIZE, MAX_SIZE, DealField.SIZE)
    price = _price(args[1], parse_price, DealField.PRICE)
    group_price = _price(args[2], parse_price, DealField.GROUP_PRICE)
    if not 0 < group_price < price:
        raise DealInputError(DealField.GROUP_PRICE)
    minutes = _whole(args[3], 1, MAX_TEAM_MINUTES, DealField.MINUTES)
    try:
        hours = float(args[4]) if args[4].isascii() else float("nan")
    except ValueError:
        hours = float("nan")
    if not 0 < hours <= MAX_DEAL_HOURS:  # also refuses nan and inf
        raise DealInputError(DealField.HOURS)
    title = " ".join(args[5:]).strip()
    if not title or len(title) > TITLE_LENGTH:
        raise DealInputError(DealField.TITLE)
    return Deal(title, price, group_price, size, minutes, now + dt.timedelta(hours=hours))


def _whole(text: str, low: int, high: int, field: DealField) -> int:
    if not (text.isascii() and text.isdigit() and len(text) <= 6) or not low <= int(text) <= high:
        raise DealInputError(field)
    return int(text)


def _price(text: str, parse_price: Callable[[str], int], field: DealField) -> int:
    try:
        value = parse_price(text)
    except ValueError:
        raise DealInputError(field) from None
    if value <= 0:
        raise DealInputError(field)
    return value


class DealVerb(StrEnum):
    """What `/groupbuy` does."""

    NEW = "new"  # create a deal from the words after it, and post it
    POST = "post"  # post a deal of the group
    LIST = "list"  # every deal of the group
    END = "end"  # end a deal now


@dataclass
class GroupBuyUsage(DomainError):
    """`/groupbuy` typed in a way that means nothing: its usage is shown."""


def parse_groupbuy_command(args: list[str]) -> tuple[DealVerb, int | None]:
    """`/groupbuy new …`, `list`, `post <deal id>` or `end <deal id>` (the verb in any case)
    -> the verb, and the deal id when exactly one word follows it; GroupBuyUsage for
    anything else. The words after `new` are read by `parse_deal`."""
    verb = args[0].lower() if args else ""
    deal_id = parse_id(args[1]) if len(args) == 2 else None
    if verb in {DealVerb.NEW, DealVerb.LIST}:
        return DealVerb(verb), deal_id
    if verb in {DealVerb.POST, DealVerb.END} and deal_id is not None:
        return DealVerb(verb), deal_id
    raise GroupBuyUsage()
