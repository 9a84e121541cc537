"""The points shop (积分兑换): what an item is, the admins' `/shop` words, why a redemption is
refused, the make-up check-in card (补签卡) and points expiry (oldest points first).

Prices are in points. A redemption spends them through the ledger (one entry, never a
negative balance) and hands the reward over in the same transaction; stock and the balance
are held by conditional writes in storage, so these rules only decide what is asked for.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from zoneinfo import ZoneInfo

from campaigns.access import parse_id
from campaigns.checkin import PreviousCheckin
from campaigns.errors import DomainError
from campaigns.numbers import read_int

MAX_PRICE = 10_000_000
MAX_STOCK = 1_000_000
DEFAULT_MAKEUP_DAYS = 30  # a make-up card at most once in this many days per member
MAX_NAME = 64
DOUBLE_TAP = dt.timedelta(seconds=10)  # a second tap on the same item this soon is a repeat
STATEMENT_LINES = 20
REMIND_DAYS = 7  # members hear of expiring points this many days before


class ShopItemKind(StrEnum):
    COUPON = "coupon"  # a coupon of one of the group's offers
    ITEM = "item"  # a custom item the operator hands over (stock optional)
    MAKEUP = "makeup"  # 补签卡: restores yesterday's missed check-in


class ShopItemStatus(StrEnum):
    ACTIVE = "active"
    ENDED = "ended"


@dataclass(frozen=True)
class ShopItem:
    """One thing the group's shop sells for points."""

    id: int
    chat_pk: int
    kind: ShopItemKind
    name: str
    price: int
    offer_id: int | None  # COUPON: the coupon offer
    stock: int | None  # None: unlimited
    sold: int
    status: ShopItemStatus
    makeup_every_days: int | None  # MAKEUP: at most once in this many days per member
    created_at: dt.datetime

    @property
    def left(self) -> int | None:
        """How many are left (None: unlimited)."""
        return None if self.stock is None else max(self.stock - self.sold, 0)


# -- the admins' words ---------------------------------------------------------------------------


class ShopVerb(StrEnum):
    LIST = "list"
    ADD = "add"
    END = "end"
    ORDERS = "orders"


@dataclass(frozen=True)
class NewItem:
    """What `/shop add …` asks for."""

    kind: ShopItemKind
    price: int
    name: str = ""  # ITEM only; a coupon is named after its offer
    offer_id: int | None = None
    stock: int | None = None
    makeup_every_days: int | None = None


class ShopProblem(StrEnum):
    USAGE = "usage"  # not a /shop command: the texts show every form
    BAD_PRICE = "bad_price"  # `value`: the word
    BAD_STOCK = "bad_stock"
    BAD_DAYS = "bad_days"
    BAD_ID = "bad_id"
    NO_NAME = "no_name"
    BAD_OFFER = "bad_offer"  # `value`: the offer id, not one of this group's live offers
    UNKNOWN_ITEM = "unknown_item"  # `value`: the item id, not one of this group's active items


@dataclass
class ShopUsage(DomainError):
    """A /shop command that could not be read; nothing was changed."""

    problem: ShopProblem
    value: str = ""

    def __str__(self) -> str:
        return str(self.problem)


def _number(word: str, low: int, high: int, problem: ShopProblem) -> int:
    try:
        value = read_int(word)
    except ValueError:
        raise ShopUsage(problem, word) from None
    if not low <= value <= high:
        raise ShopUsage(problem, word)
    return value


def _id(word: str) -> int:
    found = parse_id(word)
    if found is None:
        raise ShopUsage(ShopProblem.BAD_ID, word)
    return found


def parse_shop_command(words: Sequence[str]) -> tuple[ShopVerb, NewItem | int | None]:
    """`/shop` (list), `/shop orders`, `/shop end <id>`, `/shop add coupon <offer> <price>`,
    `/shop add item <name> <price> [stock]`, `/shop add makeup <price> [days]`."""
    if not words:
        return ShopVerb.LIST, None
    verb, rest = words[0].casefold(), list(words[1:])
    if verb == "orders" and not rest:
        return ShopVerb.ORDERS, None
    if verb == "end" and len(rest) == 1:
        return ShopVerb.END, _id(rest[0])
    if verb != "add" or not rest:
        raise ShopUsage(ShopProblem.USAGE)
    kind, args = rest[0].casefold(), rest[1:]
    if kind == ShopItemKind.COUPON and len(args) == 2:
        price = _number(args[1], 1, MAX_PRICE, ShopProblem.BAD_PRICE)
        return ShopVerb.ADD, NewItem(ShopItemKind.COUPON, price, offer_id=_id(args[0]))
    if kind == ShopItemKind.MAKEUP and len(args) in (1, 2):
        price = _number(args[0], 1, MAX_PRICE, ShopProblem.BAD_PRICE)
        days = _number(args[1], 1, 366, ShopProblem.BAD_DAYS) if len(args) == 2 else None
        return ShopVerb.ADD, NewItem(
            ShopItemKind.MAKEUP, price, makeup_every_days=days or DEFAULT_MAKEUP_DAYS
        )
    if kind == ShopItemKind.ITEM and len(args) >= 2:
        return ShopVerb.ADD, _custom_item(args)
    raise ShopUsage(ShopProblem.USAGE)


def _custom_item(args: list[str]) -> NewItem:
    """`<name…> <price> [stock]`: a name of several words; two numbers at the end are the
    price and the stock."""
    stock = None
    if len(args) >= 3 and _is_number(args[-1]) and _is_number(args[-2]):
        stock = _number(args[-1], 1, MAX_STOCK, ShopProblem.BAD_STOCK)
        args = args[:-1]
    price = _number(args[-1], 1, MAX_PRICE, ShopProblem.BAD_PRICE)
    name = " ".join(args[:-1]).strip()
    if not name or len(name) > MAX_NAME:
        raise ShopUsage(ShopProblem.NO_NAME, name)
    return NewItem(ShopItemKind.ITEM, price, name=name, stock=stock)


def _is_number(word: str) -> bool:
    try:
        read_int(word)
    except ValueError:
        return False
    return True


# -- redeeming -------------------------------------------------------------------------------------


class RedeemProblem(StrEnum):
    UNKNOWN = "unknown"  # no such item (or not sold any more by its group)
    ENDED = "ended"
    SOLD_OUT = "sold_out"
    NOT_ENOUGH = "not_enough"  # `balance`, and the item's price
    JUST_REDEEMED = "just_redeemed"  # a double tap: the first one is the redemption
    COUPON_LIMIT = "coupon_limit"  # the member holds as many of the offer's coupons as allowed
    MAKEUP_NOT_NEEDED = "makeup_not_needed"  # yesterday is not a lone missed day
    MAKEUP_TOO_SOON = "makeup_too_soon"  # `until`: the first day another card works


@dataclass
class RedeemRefused(DomainError):
    """A redemption that did not happen: nothing was spent."""

    problem: RedeemProblem
    item: ShopItem | None = None
    balance: int = 0
    until: dt.date | None = None

    def __str__(self) -> str:
        return str(self.problem)


@dataclass(frozen=True)
class Makeup:
    """What a make-up card writes: yesterday's check-in with its streak, and today's streak
    when today is already checked in (None: not yet)."""

    day: dt.date
    streak: int
    today_streak: int | None


def plan_makeup(
    today: dt.date,
    before_today: PreviousCheckin | None,
    *,
    checked_today: bool,
    last_makeup: dt.date | None,
    every_days: int,
    item: ShopItem | None = None,
) -> Makeup:
    """A card restores yesterday only when it is the one day missed after a streak (the
    latest check-in before today is the day before yesterday), and at most once in
    `every_days` days (counted from the local day of the last card)."""
    yesterday = today - dt.timedelta(days=1)
    if before_today is None or before_today.day != yesterday - dt.timedelta(days=1):
        raise RedeemRefused(RedeemProblem.MAKEUP_NOT_NEEDED, item)
    if last_makeup is not None and today < last_makeup + dt.timedelta(days=every_days):
        until = last_makeup + dt.timedelta(days=every_days)
        raise RedeemRefused(RedeemProblem.MAKEUP_TOO_SOON, item, until=until)
    streak = before_today.streak + 1
    return Makeup(yesterday, streak, streak + 1 if checked_today else None)


# -- points expiry ---------------------------------------------------------------------------------


def months_before(day: dt.date, months: int) -> dt.date:
    """The same day `months` earlier (the month's last day when it is shorter: 31 March
    less one month is 28 or 29 February)."""
    index = day.year * 12 + day.month - 1 - months
    year, month = divmod(index, 12)
    month += 1
    last = (dt.date(year + month // 12, month % 12 + 1, 1) - dt.timedelta(days=1)).day
    return dt.date(year, month, min(day.day, last))


def expiry_cutoff(day: dt.date, months: int, timezone: str) -> dt.datetime:
    """On `day` (the group's calendar), points earned before this instant have expired:
    points earned on 30 Nov 2025 with 12 months are usable through 30 Nov 2026."""
    start = months_before(day, months)
    return dt.datetime.combine(start, dt.time(0), tzinfo=ZoneInfo(timezone))


def expiring(*, earned_before: int, debits: int, balance: int) -> int:
    """Points that expire at a cutoff, oldest first: what was earned in entries before it,
    less everything ever taken out (spent, clawed back, expired earlier) — debits use the
    oldest points first — never more than the balance, never negative."""
    return max(0, min(earned_before - debits, balance))
