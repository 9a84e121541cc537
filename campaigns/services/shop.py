"""The points shop (积分兑换): admins stock it, members redeem with a tap, /points shows the
statement, and a job expires points oldest first (with a reminder a week before, and a
notice when they went).

A redemption is one transaction: the member's row is locked first (one redemption of theirs
at a time, whatever runs at once), the item's stock moves by a conditional UPDATE, the
points by points.spend_points (a conditional UPDATE and one ledger entry under the update's
key), then the reward is handed over and the redemption stored under the same key. Any
refusal on the way leaves the block uncommitted: nothing is spent.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from campaigns.access import ButtonKind, Gate, Tap
from campaigns.checkin import local_day
from campaigns.coupons import OfferPurpose, OfferState
from campaigns.members import Person
from campaigns.ports import UnitOfWork
from campaigns.ports.activity import ExpiryStanding, StatementLine
from campaigns.ports.chats import ChatRecord
from campaigns.ports.coupons import TemplateRecord
from campaigns.ports.members import Contact
from campaigns.ports.shop import ShopOrder
from campaigns.services.access import require_button, require_member
from campaigns.services.chats import claim_update, require_chat
from campaigns.services.coupons import (
    CouponUnavailable,
    Issued,
    Unavailable,
    issue_coupon,
    state_of,
)
from campaigns.services.points import NotEnoughPoints, PointsReason, spend_points
from campaigns.services.segments import tapped
from campaigns.shop import (
    DOUBLE_TAP,
    MAX_ITEMS,
    REMIND_DAYS,
    STATEMENT_LINES,
    Makeup,
    NewItem,
    RedeemProblem,
    RedeemRefused,
    ShopItem,
    ShopItemKind,
    ShopItemStatus,
    ShopProblem,
    ShopUsage,
    Upcoming,
    cutoff_on,
    expiring,
    expiry_noted_by,
    outlook_days,
    plan_makeup,
    upcoming_expiry,
)

ORDERS_SHOWN = 20


@dataclass(frozen=True)
class ShopView:
    """/shop for a member: the group's items and the caller's balance."""

    items: list[ShopItem]
    balance: int


@dataclass(frozen=True)
class Redeemed:
    """What the member is told after a redemption (and, for a custom item, the group's
    admins: `order_id` is the redemption's number in /shop orders)."""

    item: ShopItem
    balance: int
    coupon: Issued | None = None
    makeup: Makeup | None = None
    chat_title: str | None = None
    group_id: int = 0
    order_id: int | None = None


@dataclass(frozen=True)
class Statement:
    """/points: the balance and the latest ledger entries, dated in the group's timezone."""

    balance: int
    lines: list[StatementLine]
    timezone: str
    expiry_months: int
    chat_title: str | None = None


@dataclass(frozen=True)
class Orders:
    """/shop orders: the latest redemptions of custom items (the operator hands them over)
    apart from the coupons and make-up cards (handed over by the bot)."""

    custom: list[ShopOrder]
    others: list[ShopOrder]
    timezone: str


@dataclass(frozen=True)
class ExpiryReminder:
    """A private "N points are usable until <day>" to a member who started the bot."""

    member: Contact
    chat_title: str | None
    group_language: str
    upcoming: Upcoming
    balance: int
    shop_open: bool  # the shop has something to spend them on now


@dataclass(frozen=True)
class ExpiredNotice:
    """A private "N points expired" to a member who started the bot."""

    member: Contact
    chat_title: str | None
    group_language: str
    amount: int
    balance: int  # left after the expiry
    months: int


@dataclass(frozen=True)
class ExpiryRun:
    """One run of the expiry job: points taken, and what members are to be told."""

    expired: int = 0
    reminders: list[ExpiryReminder] = field(default_factory=list)
    notices: list[ExpiredNotice] = field(default_factory=list)


async def add_item(
    uow: UnitOfWork, *, bot_id: int, update_id: int, chat_id: int, new: NewItem, at: dt.datetime
) -> ShopItem:
    """`/shop add …` by an admin: a coupon names one of this group's live offers."""
    async with uow:
        await claim_update(uow, bot_id, update_id, at)
        record = await require_chat(uow, chat_id)
        if len(await uow.shop.items(record.pk)) >= MAX_ITEMS:
            raise ShopUsage(ShopProblem.FULL, str(MAX_ITEMS))
        name = new.name
        if new.kind is ShopItemKind.COUPON:
            assert new.offer_id is not None
            offer = await uow.coupons.template(new.offer_id)
            if (
                offer is None
                or offer.chat_pk != record.pk
                or offer.purpose is not OfferPurpose.OFFER
                or state_of(offer, at) is OfferState.ENDED
            ):
                raise ShopUsage(ShopProblem.BAD_OFFER, str(new.offer_id))
            name = offer.name
        elif new.kind is ShopItemKind.MAKEUP:
            name = "补签卡"
        item = await uow.shop.add(record.pk, new, name, at)
        await uow.commit()
    return item


async def end_item(
    uow: UnitOfWork, *, bot_id: int, update_id: int, chat_id: int, item_id: int, at: dt.datetime
) -> ShopItem:
    """`/shop end <id>`: the item is no longer sold (its buttons refuse from now on)."""
    async with uow:
        await claim_update(uow, bot_id, update_id, at)
        record = await require_chat(uow, chat_id)
        item = await uow.shop.item(item_id)
        if item is None or item.chat_pk != record.pk or not await uow.shop.end(item.id):
            raise ShopUsage(ShopProblem.UNKNOWN_ITEM, str(item_id))
        ended = await uow.shop.item(item_id)
        await uow.commit()
    assert ended is not None
    return ended


async def shop_items(
    uow: UnitOfWork, *, bot_id: int, update_id: int, chat_id: int, user_id: int, at: dt.datetime
) -> ShopView:
    """/shop: what the group sells now, and the caller's balance."""
    async with uow:
        await claim_update(uow, bot_id, update_id, at)
        record = await require_chat(uow, chat_id)
        items = await uow.shop.items(record.pk)
        balance = await uow.members.balance(record.pk, user_id) or 0
        await uow.commit()
    return ShopView(items, balance)


async def remember_shop(
    uow: UnitOfWork, *, chat_id: int, message_id: int, items: Sequence[ShopItem], at: dt.datetime
) -> None:
    """The /shop message the bot just sent: each item's Redeem button counts only there."""
    async with uow:
        for item in items:
            await uow.buttons.remember(ButtonKind.SHOP, item.id, chat_id, message_id, at)
        await uow.commit()


async def redeem_item(
    uow: UnitOfWork,
    *,
    gate: Gate,
    bot_id: int,
    update_id: int,
    item_id: int,
    person: Person,
    tap: Tap,
    at: dt.datetime,
) -> Redeemed:
    """A tap on Redeem: on the /shop message sent for the item, by a present member of its
    group; spends the price once and hands the reward over, or refuses (RedeemRefused)
    having spent nothing."""
    async with uow:
        await require_button(uow, ButtonKind.SHOP, item_id, tap)
        item = await uow.shop.item(item_id)
        chat = await uow.chats.by_pk(item.chat_pk) if item is not None else None
        if item is None or chat is None or not chat.active:
            raise RedeemRefused(RedeemProblem.UNKNOWN, item)
        await require_member(uow, gate, chat, person.user_id)
        await claim_update(uow, bot_id, update_id, at)
        await uow.users.upsert([person])
        await tapped(uow, chat, person.user_id, at)
        await uow.members.get(chat.pk, person.user_id)  # locks the member: one at a time
        item = await _available(uow, item, person.user_id, at)
        makeup = await _makeup(uow, chat, item, person.user_id, at)
        offer = await _offer(uow, item, person.user_id, at, chat.settings.timezone)
        key = f"shop:{chat.pk}:{person.user_id}:{bot_id}:{update_id}"
        balance = await _pay(uow, item, person.user_id, key, at)
        coupon = None
        if offer is not None:
            coupon = await _issue(uow, item, offer, person.user_id, at)
        if makeup is not None and not await uow.checkins.makeup(
            chat.pk, person.user_id, day=makeup.day, streak=makeup.streak,
            today_streak=makeup.today_streak, at=at,
        ):  # fmt: skip
            raise RedeemRefused(RedeemProblem.MAKEUP_NOT_NEEDED, item)
        code = coupon.code if coupon is not None else None
        order = await uow.shop.record(item, person.user_id, key=key, coupon_code=code, at=at)
        await uow.commit()
    return Redeemed(item, balance, coupon, makeup, chat.title, chat.chat_id, order)


async def _available(uow: UnitOfWork, item: ShopItem, user_id: int, at: dt.datetime) -> ShopItem:
    """The item as it stands under the member's lock: still sold, not a repeat tap."""
    current = await uow.shop.item(item.id)
    assert current is not None
    if current.status is ShopItemStatus.ENDED:
        raise RedeemRefused(RedeemProblem.ENDED, current)
    last = await uow.shop.last_redeemed(current.chat_pk, user_id, item_id=current.id)
    if last is not None and at - last < DOUBLE_TAP:
        raise RedeemRefused(RedeemProblem.JUST_REDEEMED, current)
    if current.left == 0:
        raise RedeemRefused(RedeemProblem.SOLD_OUT, current)
    return current


async def _makeup(
    uow: UnitOfWork, chat: ChatRecord, item: ShopItem, user_id: int, at: dt.datetime
) -> Makeup | None:
    """A make-up card's plan from the member's check-ins (refused before anything is spent)."""
    if item.kind is not ShopItemKind.MAKEUP:
        return None
    timezone = chat.settings.timezone
    today = local_day(at, timezone)
    latest = await uow.checkins.previous(chat.pk, user_id, today + dt.timedelta(days=1))
    checked_today = latest is not None and latest.day == today
    before = await uow.checkins.previous(chat.pk, user_id, today) if checked_today else latest
    last = await uow.shop.last_redeemed(chat.pk, user_id, kind=ShopItemKind.MAKEUP)
    return plan_makeup(
        today, before, checked_today=checked_today,
        last_makeup=local_day(last, timezone) if last is not None else None,
        every_days=item.makeup_every_days or 1, item=item,
    )  # fmt: skip


async def _offer(
    uow: UnitOfWork, item: ShopItem, user_id: int, at: dt.datetime, timezone: str
) -> TemplateRecord | None:
    """A coupon item's offer, open (started, not ended) and within the member's limit."""
    if item.kind is not ShopItemKind.COUPON or item.offer_id is None:
        return None
    offer = await uow.coupons.template(item.offer_id)
    if offer is None or state_of(offer, at) is OfferState.ENDED:
        raise RedeemRefused(RedeemProblem.ENDED, item)
    starts = offer.template.valid_from
    if starts is not None and at < starts:
        local = starts.astimezone(ZoneInfo(timezone))
        raise RedeemRefused(RedeemProblem.NOT_YET, item, starts_at=local)
    if state_of(offer, at) is OfferState.SOLD_OUT:
        raise RedeemRefused(RedeemProblem.SOLD_OUT, item)
    if await uow.coupons.held(offer.id, user_id) >= offer.per_member:
        raise RedeemRefused(RedeemProblem.COUPON_LIMIT, item)
    return offer


async def _pay(uow: UnitOfWork, item: ShopItem, user_id: int, key: str, at: dt.datetime) -> int:
    """The item's stock, then its price: both conditional, so neither goes below zero."""
    balance = await uow.members.balance(item.chat_pk, user_id) or 0
    if balance < item.price:
        raise RedeemRefused(RedeemProblem.NOT_ENOUGH, item, balance=balance)
    if not await uow.shop.take_stock(item.id):
        current = await uow.shop.item(item.id)
        ended = current is None or current.status is ShopItemStatus.ENDED
        raise RedeemRefused(RedeemProblem.ENDED if ended else RedeemProblem.SOLD_OUT, item)
    try:
        left = await spend_points(
            uow, item.chat_pk, user_id, amount=item.price, reason=PointsReason.SHOP, key=key,
            at=at,
        )  # fmt: skip
    except NotEnoughPoints as short:
        raise RedeemRefused(RedeemProblem.NOT_ENOUGH, item, balance=short.balance) from None
    if left is None:  # the update's key was spent: claim_update makes this unreachable
        raise RedeemRefused(RedeemProblem.JUST_REDEEMED, item)
    return left


async def _issue(
    uow: UnitOfWork, item: ShopItem, offer: TemplateRecord, user_id: int, at: dt.datetime
) -> Issued:
    """The coupon, through the usual issue (the offer's stock and per-member limit)."""
    try:
        return await issue_coupon(uow, offer, user_id, source="shop", at=at)
    except CouponUnavailable as err:
        problem = {
            Unavailable.LIMIT: RedeemProblem.COUPON_LIMIT,
            Unavailable.SOLD_OUT: RedeemProblem.SOLD_OUT,
        }.get(err.reason, RedeemProblem.ENDED)
        raise RedeemRefused(problem, item) from None


async def shop_orders(uow: UnitOfWork, *, chat_id: int, limit: int = ORDERS_SHOWN) -> Orders:
    """/shop orders (admins): who redeemed what, newest first, custom items apart."""
    async with uow:
        record = await require_chat(uow, chat_id)
        custom = await uow.shop.orders(record.pk, limit, kinds=[ShopItemKind.ITEM])
        others = await uow.shop.orders(
            record.pk, limit, kinds=[ShopItemKind.COUPON, ShopItemKind.MAKEUP]
        )
    return Orders(custom, others, record.settings.timezone)


async def points_statement(
    uow: UnitOfWork, *, bot_id: int, update_id: int, chat_id: int, user_id: int, at: dt.datetime
) -> Statement:
    """/points: the member's balance and last entries in the group."""
    async with uow:
        await claim_update(uow, bot_id, update_id, at)
        record = await require_chat(uow, chat_id)
        balance = await uow.members.balance(record.pk, user_id) or 0
        lines = await uow.ledger.statement(record.pk, user_id, STATEMENT_LINES)
        await uow.commit()
    s = record.settings
    return Statement(balance, lines, s.timezone, s.points_expiry_months, record.title)


async def my_statements(uow: UnitOfWork, *, user_id: int) -> list[Statement]:
    """/points in a private chat: the member's statement in each group where they have
    points entries (groups the bot has left are skipped)."""
    out = []
    async with uow:
        for pk in await uow.ledger.chats_of(user_id):
            record = await uow.chats.by_pk(pk)
            if record is None or not record.active:
                continue
            balance = await uow.members.balance(pk, user_id) or 0
            lines = await uow.ledger.statement(pk, user_id, STATEMENT_LINES)
            s = record.settings
            out.append(Statement(balance, lines, s.timezone, s.points_expiry_months, record.title))
    return out


async def expire_points(uow: Callable[[], UnitOfWork], *, now: dt.datetime) -> ExpiryRun:
    """Every group with an expiry: points past it leave as one EXPIRY entry per member and
    local day (a rerun that day finds the key taken), oldest first, and the member hears
    of it once per reminder's week; members with points expiring within a week are
    reminded of the day (campaigns.shop.upcoming_expiry). Only members who started the bot
    are returned to be told."""
    async with uow() as first:
        records = [r for r in await first.chats.active() if r.settings.points_expiry_months]
    run = ExpiryRun()
    for record in records:
        async with uow() as work:
            expired, notices = await _expire(work, record, now)
            reminders = await _remind(work, record, now)
            await work.commit()
        run = ExpiryRun(run.expired + expired, run.reminders + reminders, run.notices + notices)
    return run


async def _expire(
    uow: UnitOfWork, record: ChatRecord, now: dt.datetime
) -> tuple[int, list[ExpiredNotice]]:
    s = record.settings
    today = local_day(now, s.timezone)
    cutoff = cutoff_on(today, s)
    if cutoff is None:
        return 0, []
    reminded = await uow.shop.reminded(record.pk, since=today - dt.timedelta(days=REMIND_DAYS))
    total, told = 0, {}
    for standing in await uow.ledger.expiry_standings(record.pk, cutoff):
        amount = expiring(
            earned_before=standing.earned_before, debits=standing.debits, balance=standing.balance
        )
        if not amount:
            continue
        uid = standing.user_id
        key = f"expiry:{record.pk}:{uid}:{today.isoformat()}"
        try:
            left = await spend_points(
                uow, record.pk, uid, amount=amount, reason=PointsReason.EXPIRY, key=key, at=now
            )
        except NotEnoughPoints:  # spent meanwhile: the next run looks again
            continue
        if left is None:
            continue
        total += amount
        week = expiry_noted_by(today, reminded.get(uid, [])) or today
        if await uow.shop.note_expired(record.pk, uid, expires_on=week, at=now):
            told[uid] = (amount, left)
    contacts = await uow.users.contacts(list(told))
    notices = [
        ExpiredNotice(c, record.title, s.language, *told[uid], s.points_expiry_months)
        for uid, c in sorted(contacts.items())
        if c.reachable
    ]
    return total, notices


async def _remind(uow: UnitOfWork, record: ChatRecord, now: dt.datetime) -> list[ExpiryReminder]:
    """Reminders of each member's first coming expiry day (the amount that goes that day,
    and what more goes in the week after it), once per day reminded of."""
    s = record.settings
    today = local_day(now, s.timezone)
    days = [(day, cutoff_on(day, s)) for day in outlook_days(today)]
    cutoffs = sorted({cut for _, cut in days if cut is not None})
    if not cutoffs:
        return []
    reminded = await uow.shop.reminded(record.pk, since=today - dt.timedelta(days=REMIND_DAYS))
    due: dict[int, tuple[Upcoming, int]] = {}
    for standing in await uow.ledger.expiry_standings(record.pk, *cutoffs):
        earned = dict(zip(cutoffs, standing.earned, strict=True))
        gone_by = [(day, _gone(standing, earned, cut)) for day, cut in days]
        upcoming = upcoming_expiry(today, gone_by, reminded.get(standing.user_id, []))
        if upcoming is not None and await uow.shop.remind_once(
            record.pk, standing.user_id, expires_on=upcoming.expires_on, at=now
        ):
            due[standing.user_id] = (upcoming, standing.balance)
    if not due:
        return []
    contacts = await uow.users.contacts(list(due))
    shop_open = any(item.left != 0 for item in await uow.shop.items(record.pk))
    return [
        ExpiryReminder(contact, record.title, s.language, *due[uid], shop_open)
        for uid, contact in sorted(contacts.items())
        if contact.reachable
    ]


def _gone(standing: ExpiryStanding, earned: dict[dt.datetime, int], cut: dt.datetime | None) -> int:
    """The member's points gone by a day whose cutoff is `cut` (None: nothing goes)."""
    if cut is None:
        return 0
    return expiring(earned_before=earned[cut], debits=standing.debits, balance=standing.balance)
