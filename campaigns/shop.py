"""The points shop (积分兑换): what an item is, the admins' `/shop` words, why a redemption is
refused, the make-up check-in card (补签卡) and points expiry (oldest points first).

Prices are in points. A redemption spends them through the ledger (one entry, never a
negative balance) and hands the reward over in the same transaction; stock and the balance
are held by conditional writes in storage, so these rules only decide what is asked for.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from zoneinfo import ZoneInfo

from campaigns.access import parse_id
from campaigns.checkin import PreviousCheckin
from campaigns.errors import DomainError
from campaigns.numbers import read_int
from campaigns.settings import ChatSettings

MAX_PRICE = 10_000_000
MAX_STOCK = 1_000_000
DEFAULT_MAKEUP_DAYS = 30  # a make-up card at most once in this many days per member
MAX_NAME = 64
DOUBLE_TAP = dt.timedelta(seconds=10)  # a second tap on the same item this soon is a repeat
STATEMENT_LINES = 20
REMIND_DAYS = 7  # members hear of expiring points this many days before (and once a week)
EXPIRY_GRACE_DAYS = 7  # expiry turned on or shortened: nothing expires sooner than this


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


MAX_ITEMS = 20  # items on sale at once: /shop lists them all in one message with a button each


class ShopProblem(StrEnum):
    USAGE = "usage"  # not a /shop command: the texts show every form
    BAD_PRICE = "bad_price"  # `value`: the word
    BAD_STOCK = "bad_stock"
    BAD_DAYS = "bad_days"
    BAD_ID = "bad_id"
    NO_NAME = "no_name"
    AMBIGUOUS = "ambiguous"  # `readings`: the `|` forms the words could mean
    BAD_OFFER = "bad_offer"  # `value`: the offer id, not one of this group's live offers
    UNKNOWN_ITEM = "unknown_item"  # `value`: the item id, not one of this group's active items
    FULL = "full"  # `value`: MAX_ITEMS; the shop holds that many items on sale already


@dataclass
class ShopUsage(DomainError):
    """A /shop command that could not be read; nothing was changed."""

    problem: ShopProblem
    value: str = ""
    readings: tuple[str, ...] = ()

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
    `/shop add item <name> | <price> [| <stock>]`, `/shop add makeup <price> [days]`."""
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
    if kind == ShopItemKind.ITEM and args:
        return ShopVerb.ADD, _custom_item(args)
    raise ShopUsage(ShopProblem.USAGE)


BARS = str.maketrans({"｜": "|"})  # the full-width bar a Chinese keyboard types


def _custom_item(args: list[str]) -> NewItem:
    """`<name> | <price> [| <stock>]`: the name may hold numbers (`iPhone 15 | 5000 | 3`).
    Without bars, `<name…> <price>` is read only when one number ends the words: in
    `iPhone 15 100` the price could be 15 or 100, so that is refused with both readings."""
    text = " ".join(args).translate(BARS)
    if "|" in text:
        parts = [part.strip() for part in text.split("|")]
        if len(parts) > 3:
            raise ShopUsage(ShopProblem.USAGE)
        price = _number(parts[1], 1, MAX_PRICE, ShopProblem.BAD_PRICE)
        stock = _number(parts[2], 1, MAX_STOCK, ShopProblem.BAD_STOCK) if parts[2:] else None
        return NewItem(ShopItemKind.ITEM, price, name=_name(parts[0]), stock=stock)
    if len(args) < 2:
        raise ShopUsage(ShopProblem.USAGE)
    if len(args) >= 3 and _is_number(args[-1]) and _is_number(args[-2]):
        name, before, last = " ".join(args[:-1]), " ".join(args[:-2]), args[-1]
        readings = (f"{name} | {last}", f"{before} | {args[-2]} | {last}")
        raise ShopUsage(ShopProblem.AMBIGUOUS, readings=readings)
    price = _number(args[-1], 1, MAX_PRICE, ShopProblem.BAD_PRICE)
    return NewItem(ShopItemKind.ITEM, price, name=_name(" ".join(args[:-1])))


def _name(text: str) -> str:
    """An item's name: spaces collapsed, at most MAX_NAME characters, something visible in
    it (not only invisible format characters such as U+200B)."""
    name = " ".join(text.split())
    visible = any(unicodedata.category(ch)[0] not in "ZC" for ch in name)
    if not visible or len(name) > MAX_NAME:
        raise ShopUsage(ShopProblem.NO_NAME, name)
    return name


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
    NOT_YET = "not_yet"  # `starts_at`: the coupon's offer opens then (local time)
    COUPON_LIMIT = "coupon_limit"  # the member holds as many of the offer's coupons as allowed
    MAKEUP_NOT_NEEDED = "makeup_not_needed"  # yesterday's check-in is there
    MAKEUP_TOO_LATE = "makeup_too_late"  # `until`: the last check-in, before the day missed
    MAKEUP_TOO_SOON = "makeup_too_soon"  # `until`: the first day another card works


@dataclass
class RedeemRefused(DomainError):
    """A redemption that did not happen: nothing was spent."""

    problem: RedeemProblem
    item: ShopItem | None = None
    balance: int = 0
    until: dt.date | None = None
    starts_at: dt.datetime | None = None

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
    if before_today is not None and before_today.day >= yesterday:
        raise RedeemRefused(RedeemProblem.MAKEUP_NOT_NEEDED, item)
    if before_today is None or before_today.day != yesterday - dt.timedelta(days=1):
        last = before_today.day if before_today is not None else None
        raise RedeemRefused(RedeemProblem.MAKEUP_TOO_LATE, item, until=last)
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


def cutoff_on(day: dt.date, settings: ChatSettings) -> dt.datetime | None:
    """The group's cutoff on `day`, or None when nothing expires that day: expiry is off,
    or it is before `points_expire_from` (the grace after expiry was turned on or
    shortened, when points the new setting takes all expire on that first day)."""
    if not settings.points_expiry_months:
        return None
    if settings.points_expire_from is not None and day < settings.points_expire_from:
        return None
    return expiry_cutoff(day, settings.points_expiry_months, settings.timezone)


def with_expiry_grace(old: ChatSettings, new: ChatSettings, today: dt.date) -> ChatSettings:
    """`new` settings, with a grace when they turn expiry on or shorten it: points the new
    setting would take at once (or within the week) expire EXPIRY_GRACE_DAYS days after
    `today`, no sooner, so members hear of it first. Lengthening or turning it off keeps
    the grace there was."""
    months, before = new.points_expiry_months, old.points_expiry_months
    if not months or (before and months >= before):
        return new
    start = today + dt.timedelta(days=EXPIRY_GRACE_DAYS)
    if old.points_expire_from is not None:
        start = max(start, old.points_expire_from)
    return replace(new, points_expire_from=start)


@dataclass(frozen=True)
class ExpiryGrace:
    """Points earned before `earned_before` all expire on `expires_on` (a grace's first day)."""

    earned_before: dt.date
    expires_on: dt.date

    @property
    def usable_until(self) -> dt.date:
        return self.expires_on - dt.timedelta(days=1)


def expiry_grace(settings: ChatSettings, today: dt.date) -> ExpiryGrace | None:
    """The grace in force on `today`, if any (what /set says after a change)."""
    start = settings.points_expire_from
    if not settings.points_expiry_months or start is None or start <= today:
        return None
    return ExpiryGrace(months_before(start, settings.points_expiry_months), start)


@dataclass(frozen=True)
class Upcoming:
    """Points of one member about to expire: `amount` on `expires_on` (the first day they
    are gone), and `more` on the days after within a week (the last of them on `more_on`)."""

    expires_on: dt.date
    amount: int
    more: int = 0
    more_on: dt.date | None = None

    @property
    def usable_until(self) -> dt.date:
        """The last day they can still be spent (the group's calendar)."""
        return self.expires_on - dt.timedelta(days=1)

    @property
    def more_usable_until(self) -> dt.date | None:
        return self.more_on - dt.timedelta(days=1) if self.more_on is not None else None


def outlook_days(today: dt.date) -> list[dt.date]:
    """The days whose cutoffs the reminders look at: today, the REMIND_DAYS days ahead, and
    the week after the last of them (what one reminder also mentions)."""
    return [today + dt.timedelta(days=n) for n in range(2 * REMIND_DAYS)]


def upcoming_expiry(
    today: dt.date, gone_by: Sequence[tuple[dt.date, int]], reminded: Sequence[dt.date]
) -> Upcoming | None:
    """What to remind a member of today, if anything. `gone_by`: for today and the days
    after (outlook_days), how many of their points will have expired by that day's run, as
    their points stand now. The reminder is of the first day within REMIND_DAYS on which
    points expire that no earlier reminder covers — a reminder of day X covers X and the
    REMIND_DAYS - 1 days after, whose points it mentions too — so each expiry is announced
    about a week ahead, and a member whose points expire day after day hears once a week."""
    totals = dict(gone_by)
    if today not in totals:
        return None
    on_day: dict[dt.date, int] = {}
    previous = totals[today]
    for day in sorted(totals):
        if day > today:
            on_day[day] = max(totals[day] - previous, 0)
            previous = totals[day]
    week = dt.timedelta(days=REMIND_DAYS)

    def covered(day: dt.date) -> bool:
        return any(r <= day < r + week for r in reminded)

    first = next(
        (d for d, n in sorted(on_day.items()) if n and d <= today + week and not covered(d)),
        None,
    )
    if first is None:
        return None
    later = [(d, n) for d, n in sorted(on_day.items()) if first < d < first + week and n]
    more = sum(n for _, n in later)
    return Upcoming(first, on_day[first], more, later[-1][0] if later else None)


def expiry_noted_by(day: dt.date, reminded: Sequence[dt.date]) -> dt.date | None:
    """The reminder whose week `day` falls in (the latest), if any."""
    week = dt.timedelta(days=REMIND_DAYS)
    return max((r for r in reminded if r <= day < r + week), default=None)
