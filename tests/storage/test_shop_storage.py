"""The points shop on SQLite and PostgreSQL: a redemption spends once (races for the last
item, for the last points, double taps and redeliveries), the make-up card, points expiry
oldest first with one reminder per window, and /points' statement."""

import asyncio
import datetime as dt
import random
from typing import Any

import pytest
from sqlalchemy import func, select

from campaigns.access import ButtonKind
from campaigns.coupons import CouponKind, Template
from campaigns.errors import DuplicateUpdate
from campaigns.members import ChatInfo, Person
from campaigns.services import coupons, shop
from campaigns.services.checkin import check_in
from campaigns.services.points import PointsReason, award_points
from campaigns.settings import ChatSettings
from campaigns.shop import (
    DOUBLE_TAP,
    NewItem,
    RedeemProblem,
    RedeemRefused,
    ShopItem,
    ShopItemKind,
    expiring,
    expiry_cutoff,
)
from storage.models import CheckinRow, LedgerRow, MembershipRow, ShopRedemptionRow
from tests.fakes import EVERYONE, POSTED, posted

GROUP = ChatInfo(chat_id=-1009876543333, type="supergroup", title="Tea Club")
AT = dt.datetime(2026, 11, 16, 4, 0, tzinfo=dt.UTC)  # noon in Shanghai
DAY = dt.timedelta(days=1)
SETTINGS = ChatSettings(timezone="Asia/Shanghai")
ANNA, BEN = 41, 42
updates = iter(range(5000, 10**6))


async def group(uow_factory, points: dict[int, int], settings: ChatSettings = SETTINGS) -> int:
    """The group, its members, and points each earned a month ago."""
    async with uow_factory() as uow:
        record = await uow.chats.register(GROUP, active=True, bot_status=None, defaults=settings)
        await uow.users.upsert([Person(uid, f"M{uid}") for uid in points])
        for uid, n in points.items():
            await uow.members.create(record.pk, uid, status="member", present=True, at=AT)
            await award_points(
                uow, record.pk, uid, delta=n, reason=PointsReason.ORDER, key=f"seed:{uid}",
                at=AT - 30 * DAY,
            )  # fmt: skip
        await uow.commit()
    return record.pk


async def item(uow_factory, new: NewItem) -> ShopItem:
    added = await shop.add_item(
        uow_factory(), bot_id=1, update_id=next(updates), chat_id=GROUP.chat_id, new=new, at=AT
    )
    await posted(uow_factory, ButtonKind.SHOP, added.id)
    return added


async def redeem(uow_factory, uid: int, item_id: int, *, at=AT, update_id=None) -> Any:
    try:
        return await shop.redeem_item(
            uow_factory(), gate=EVERYONE, bot_id=1, update_id=update_id or next(updates),
            item_id=item_id, person=Person(uid, f"M{uid}"), tap=POSTED, at=at,
        )  # fmt: skip
    except RedeemRefused as refused:
        return refused


async def balances(uow_factory, pk: int) -> dict[int, tuple[int, int]]:
    """user -> (points, points earned)."""
    m = MembershipRow
    async with uow_factory() as uow:
        rows = await uow.session.execute(
            select(m.user_id, m.points, m.points_earned).where(m.chat_id == pk)
        )
        return {r.user_id: (r.points, r.points_earned) for r in rows}


async def entries(uow_factory, pk: int, reason: str) -> list[tuple[int, int]]:
    async with uow_factory() as uow:
        rows = await uow.session.execute(
            select(LedgerRow.user_id, LedgerRow.delta)
            .where(LedgerRow.chat_id == pk, LedgerRow.reason == reason)
            .order_by(LedgerRow.id)
        )
        return [tuple(r) for r in rows]


async def redemptions(uow_factory) -> int:
    async with uow_factory() as uow:
        return int(await uow.session.scalar(select(func.count(ShopRedemptionRow.id))) or 0)


async def test_a_coupon_costs_its_price_once_and_is_issued_at_once(uow_factory):
    pk = await group(uow_factory, {ANNA: 500})
    offer = await coupons.create_offer(
        uow_factory(), chat_id=GROUP.chat_id, name="满199减30",
        template=Template(CouponKind.FIXED, value=3000, min_spend=19900, valid_days=7),
        stock=None, per_member=1, at=AT,
    )  # fmt: skip
    sold = await item(uow_factory, NewItem(ShopItemKind.COUPON, 300, offer_id=offer.id))

    done = await redeem(uow_factory, ANNA, sold.id)
    again = await redeem(uow_factory, ANNA, sold.id, at=AT + DOUBLE_TAP)

    assert sold.name == "满199减30"
    assert done.coupon is not None and done.balance == 200
    assert (await coupons.chat_coupons(uow_factory(), chat_id=GROUP.chat_id))[0].code == (
        done.coupon.code
    )
    assert again.problem is RedeemProblem.COUPON_LIMIT  # the offer's own limit still holds
    assert await entries(uow_factory, pk, PointsReason.SHOP) == [(ANNA, -300)]
    assert (await balances(uow_factory, pk))[ANNA] == (200, 500)  # spending is not un-earning


async def test_the_last_item_goes_to_exactly_one_of_many_members(uow_factory):
    members = {uid: 100 for uid in range(100, 106)}
    pk = await group(uow_factory, members)
    mug = await item(uow_factory, NewItem(ShopItemKind.ITEM, 60, name="Tea mug", stock=1))

    results = await asyncio.gather(*(redeem(uow_factory, uid, mug.id) for uid in members))

    won = [r for r in results if not isinstance(r, RedeemRefused)]
    assert len(won) == 1
    assert {r.problem for r in results if isinstance(r, RedeemRefused)} == {RedeemProblem.SOLD_OUT}
    after = await balances(uow_factory, pk)
    assert sorted(points for points, _ in after.values()) == [40] + [100] * 5
    assert await redemptions(uow_factory) == 1


async def test_two_spends_at_once_never_take_the_balance_below_zero(uow_factory):
    pk = await group(uow_factory, {ANNA: 100})
    mug = await item(uow_factory, NewItem(ShopItemKind.ITEM, 80, name="Mug"))
    bag = await item(uow_factory, NewItem(ShopItemKind.ITEM, 80, name="Bag"))

    results = await asyncio.gather(
        redeem(uow_factory, ANNA, mug.id), redeem(uow_factory, ANNA, bag.id)
    )

    refused = [r for r in results if isinstance(r, RedeemRefused)]
    assert len(refused) == 1
    assert (refused[0].problem, refused[0].balance) == (RedeemProblem.NOT_ENOUGH, 20)
    assert (await balances(uow_factory, pk))[ANNA][0] == 20
    assert await entries(uow_factory, pk, PointsReason.SHOP) == [(ANNA, -80)]


async def test_a_double_tap_spends_once_and_a_redelivered_tap_nothing(uow_factory):
    pk = await group(uow_factory, {ANNA: 1000})
    mug = await item(uow_factory, NewItem(ShopItemKind.ITEM, 100, name="Mug"))

    first, second = await asyncio.gather(
        redeem(uow_factory, ANNA, mug.id, update_id=901),
        redeem(uow_factory, ANNA, mug.id, update_id=902, at=AT + dt.timedelta(seconds=1)),
    )
    won = first if not isinstance(first, RedeemRefused) else second
    with pytest.raises(DuplicateUpdate):
        await redeem(uow_factory, ANNA, mug.id, update_id=901 if won is first else 902)
    later = await redeem(uow_factory, ANNA, mug.id, at=AT + 2 * DOUBLE_TAP)

    assert {type(first), type(second)} == {shop.Redeemed, RedeemRefused}
    lost = second if won is first else first
    assert lost.problem is RedeemProblem.JUST_REDEEMED
    assert later.balance == 800  # a deliberate second purchase, later, is one
    assert (await balances(uow_factory, pk))[ANNA][0] == 800
    assert await redemptions(uow_factory) == 2


async def test_a_refused_redemption_spends_nothing_and_sells_nothing(uow_factory):
    pk = await group(uow_factory, {ANNA: 50})
    mug = await item(uow_factory, NewItem(ShopItemKind.ITEM, 80, name="Mug", stock=2))

    short = await redeem(uow_factory, ANNA, mug.id)
    ended = await shop.end_item(
        uow_factory(), bot_id=1, update_id=next(updates), chat_id=GROUP.chat_id, item_id=mug.id,
        at=AT,
    )  # fmt: skip
    gone = await redeem(uow_factory, ANNA, mug.id)

    assert (short.problem, short.balance, short.item.price) == (RedeemProblem.NOT_ENOUGH, 50, 80)
    assert gone.problem is RedeemProblem.ENDED
    assert ended.sold == 0
    assert (await balances(uow_factory, pk))[ANNA][0] == 50
    assert await entries(uow_factory, pk, PointsReason.SHOP) == []


async def checkin(uow_factory, uid: int, at: dt.datetime):
    return await check_in(
        uow_factory(), bot_id=1, update_id=next(updates), chat=GROUP, person=Person(uid, "A"),
        at=at, defaults=SETTINGS,
    )  # fmt: skip


async def streaks(uow_factory, pk: int, uid: int) -> tuple[Any, dict[dt.date, int]]:
    async with uow_factory() as uow:
        m = (
            await uow.session.execute(
                select(MembershipRow.streak, MembershipRow.best_streak, MembershipRow.checkins,
                       MembershipRow.last_checkin_day)
                .where(MembershipRow.chat_id == pk, MembershipRow.user_id == uid)
            )
        ).one()  # fmt: skip
        rows = await uow.session.execute(
            select(CheckinRow.day, CheckinRow.streak).where(
                CheckinRow.chat_id == pk, CheckinRow.user_id == uid
            )
        )
        return tuple(m), dict(tuple(r) for r in rows)


async def test_a_makeup_card_restores_yesterday_and_todays_streak_continues(uow_factory):
    pk = await group(uow_factory, {ANNA: 200})
    card = await item(uow_factory, NewItem(ShopItemKind.MAKEUP, 50, makeup_every_days=7))
    for back in (4, 3, 2):  # three days in a row, then yesterday missed
        await checkin(uow_factory, ANNA, AT - back * DAY)
    today = await checkin(uow_factory, ANNA, AT)  # a new streak of one

    done = await redeem(uow_factory, ANNA, card.id, at=AT + dt.timedelta(hours=1))
    member, days = await streaks(uow_factory, pk, ANNA)
    tomorrow = await checkin(uow_factory, ANNA, AT + DAY)

    assert today.award.streak == 1
    assert (done.makeup.streak, done.makeup.today_streak) == (4, 5)
    local = dt.date(2026, 11, 16)
    assert days[local - DAY] == 4 and days[local] == 5
    assert member == (5, 5, 5, local)  # streak, best, check-ins, last day
    assert tomorrow.award.streak == 6
    assert await entries(uow_factory, pk, PointsReason.SHOP) == [(ANNA, -50)]


async def test_a_makeup_card_is_refused_when_not_needed_or_too_soon_and_costs_nothing(
    uow_factory,
):
    pk = await group(uow_factory, {ANNA: 200})
    card = await item(uow_factory, NewItem(ShopItemKind.MAKEUP, 50, makeup_every_days=7))
    await checkin(uow_factory, ANNA, AT - DAY)

    not_needed = await redeem(uow_factory, ANNA, card.id)  # yesterday was not missed
    for at in (AT + DAY, AT + 3 * DAY):  # the 17th, the 19th (the 18th missed): a card
        await checkin(uow_factory, ANNA, at)
    first = await redeem(uow_factory, ANNA, card.id, at=AT + 3 * DAY)
    await checkin(uow_factory, ANNA, AT + 6 * DAY)  # the 22nd; the 23rd missed
    too_soon = await redeem(uow_factory, ANNA, card.id, at=AT + 8 * DAY)

    assert not_needed.problem is RedeemProblem.MAKEUP_NOT_NEEDED
    assert (first.makeup.streak, first.makeup.today_streak) == (2, 3)
    assert too_soon.problem is RedeemProblem.MAKEUP_TOO_SOON
    assert too_soon.until == dt.date(2026, 11, 26)  # a week after the card of the 19th
    assert (await balances(uow_factory, pk))[ANNA][0] > 0
    assert await entries(uow_factory, pk, PointsReason.SHOP) == [(ANNA, -50)]


EXPIRING = ChatSettings(timezone="Asia/Shanghai", points_expiry_months=12)
NOW = dt.datetime(2026, 11, 30, 1, 0, tzinfo=dt.UTC)  # 09:00 in Shanghai, 30 November


async def ledger(uow_factory, pk: int, rows: list[tuple[int, int, dt.datetime]]) -> None:
    async with uow_factory() as uow:
        for n, (uid, delta, at) in enumerate(rows):
            reason = PointsReason.ORDER if delta > 0 else PointsReason.REFERRAL_CLAWBACK
            await award_points(
                uow, pk, uid, delta=delta, reason=reason, key=f"t:{uid}:{n}", at=at,
                timezone="Asia/Shanghai",
            )  # fmt: skip
        await uow.commit()


async def test_points_expire_oldest_first_once_a_day_as_ledger_entries(uow_factory):
    pk = await group(uow_factory, {}, EXPIRING)
    async with uow_factory() as uow:
        await uow.users.upsert([Person(ANNA, "Anna"), Person(BEN, "Ben")])
        for uid in (ANNA, BEN):
            await uow.members.create(pk, uid, status="member", present=True, at=AT)
        await uow.commit()
    await ledger(uow_factory, pk, [
        (ANNA, 100, dt.datetime(2025, 10, 1, 4, tzinfo=dt.UTC)),
        (ANNA, -30, dt.datetime(2026, 1, 1, 4, tzinfo=dt.UTC)),
        (ANNA, 50, dt.datetime(2026, 6, 1, 4, tzinfo=dt.UTC)),
        (BEN, 10, dt.datetime(2026, 11, 1, 4, tzinfo=dt.UTC)),
    ])  # fmt: skip

    took = await shop.expire_points(uow_factory, now=NOW)
    again = await shop.expire_points(uow_factory, now=NOW + dt.timedelta(hours=1))
    next_day = await shop.expire_points(uow_factory, now=NOW + DAY)

    assert (took.expired, again.expired, next_day.expired) == (70, 0, 0)
    assert await entries(uow_factory, pk, PointsReason.EXPIRY) == [(ANNA, -70)]
    assert (await balances(uow_factory, pk))[ANNA] == (50, 150)  # earned stays: tiers keep it
    assert (await balances(uow_factory, pk))[BEN][0] == 10


async def test_members_hear_of_points_expiring_on_the_real_day_once_and_when_they_went(
    uow_factory,
):
    pk = await group(uow_factory, {}, EXPIRING)
    async with uow_factory() as uow:
        await uow.users.upsert([Person(ANNA, "Anna"), Person(BEN, "Ben")])
        for uid in (ANNA, BEN):
            await uow.members.create(pk, uid, status="member", present=True, at=AT)
        await uow.users.set_reachable(ANNA, True)  # Ben never started the bot
        await uow.commit()
    earned = dt.datetime(2025, 12, 3, 4, tzinfo=dt.UTC)  # expires on 4 December 2026
    later = dt.datetime(2025, 12, 12, 4, tzinfo=dt.UTC)  # on 13 December: a week after
    await ledger(uow_factory, pk, [(ANNA, 40, earned), (BEN, 40, earned), (ANNA, 5, later)])

    first = await shop.expire_points(uow_factory, now=NOW)
    rerun = await shop.expire_points(uow_factory, now=NOW + dt.timedelta(hours=3))
    next_day = await shop.expire_points(uow_factory, now=NOW + DAY)
    gone = await shop.expire_points(uow_factory, now=NOW + 4 * DAY)  # 4 December
    gone_again = await shop.expire_points(uow_factory, now=NOW + 4 * DAY + dt.timedelta(hours=1))
    second = await shop.expire_points(uow_factory, now=NOW + 6 * DAY)  # 13 December in a week

    [reminder] = first.reminders
    assert (reminder.member.user_id, reminder.upcoming.amount) == (ANNA, 40)
    assert reminder.upcoming.expires_on == dt.date(2026, 12, 4)
    assert reminder.upcoming.usable_until == dt.date(2026, 12, 3)
    assert (reminder.balance, reminder.shop_open) == (45, False)
    assert rerun.reminders == [] and next_day.reminders == []
    assert gone.expired == 80 and gone_again.expired == 0
    assert [(n.member.user_id, n.amount, n.balance) for n in gone.notices] == [(ANNA, 40, 5)]
    assert gone_again.notices == []
    assert [(r.upcoming.expires_on, r.upcoming.amount) for r in second.reminders] == [
        (dt.date(2026, 12, 13), 5)
    ]


async def test_the_sql_pre_filter_keeps_every_member_the_rule_would_expire(uow_factory):
    pk = await group(uow_factory, {}, EXPIRING)
    rng = random.Random(7)
    members = list(range(300, 330))
    async with uow_factory() as uow:
        await uow.users.upsert([Person(uid, "M") for uid in members])
        for uid in members:
            await uow.members.create(pk, uid, status="member", present=True, at=AT)
        await uow.commit()
    rows, kept = [], {}
    for uid in members:
        balance, history = 0, []
        for _ in range(rng.randint(0, 8)):
            at = NOW - dt.timedelta(days=rng.randint(1, 700))
            delta = (
                -rng.randint(1, balance) if balance and rng.random() < 0.4 else rng.randint(1, 90)
            )
            balance += delta
            history.append((uid, delta, at))
        rows += history
        kept[uid] = history
    await ledger(uow_factory, pk, rows)
    cutoff = expiry_cutoff(dt.date(2026, 11, 30), 12, "Asia/Shanghai")
    later = expiry_cutoff(dt.date(2027, 3, 1), 12, "Asia/Shanghai")

    async with uow_factory() as uow:
        found = {s.user_id: s for s in await uow.ledger.expiry_standings(pk, cutoff)}
        both = {s.user_id: s for s in await uow.ledger.expiry_standings(pk, cutoff, later)}

    for uid, history in kept.items():
        earned = sum(d for _, d, at in history if d > 0 and at < cutoff)
        debits = sum(-d for _, d, _ in history if d < 0)
        balance = sum(d for _, d, _ in history)
        due = expiring(earned_before=earned, debits=debits, balance=balance)
        if uid in found:
            s = found[uid]
            assert (s.earned_before, s.debits, s.balance) == (earned, debits, balance)
        else:
            assert due == 0, uid
    assert any(expiring(earned_before=s.earned_before, debits=s.debits, balance=s.balance)
               for s in found.values())  # fmt: skip
    for uid, history in kept.items():  # two cutoffs in one pass: each one's sum
        if uid in both:
            sums = [sum(d for _, d, at in history if d > 0 and at < c) for c in (cutoff, later)]
            assert both[uid].earned == tuple(sums)
        else:
            debits = sum(-d for _, d, _ in history if d < 0)
            earned = sum(d for _, d, at in history if d > 0 and at < later)
            balance = sum(d for _, d, _ in history)
            assert expiring(earned_before=earned, debits=debits, balance=balance) == 0, uid
    assert set(found) <= set(both)


async def test_the_statement_shows_the_latest_twenty_entries_newest_first(uow_factory):
    pk = await group(uow_factory, {ANNA: 0})
    mug = await item(uow_factory, NewItem(ShopItemKind.ITEM, 5, name="Mug"))
    await ledger(
        uow_factory, pk, [(ANNA, n + 1, AT - dt.timedelta(hours=30 - n)) for n in range(25)]
    )
    await redeem(uow_factory, ANNA, mug.id)

    s = await shop.points_statement(
        uow_factory(), bot_id=1, update_id=next(updates), chat_id=GROUP.chat_id, user_id=ANNA,
        at=AT,
    )  # fmt: skip

    assert s.balance == sum(range(1, 26)) - 5
    assert len(s.lines) == 20
    assert (s.lines[0].delta, s.lines[0].reason, s.lines[0].item) == (-5, "shop", "Mug")
    assert [line.delta for line in s.lines[1:4]] == [25, 24, 23]


async def test_two_makeup_cards_at_once_restore_one_day_and_cost_one_card(uow_factory):
    pk = await group(uow_factory, {ANNA: 200})
    cards = [
        await item(uow_factory, NewItem(ShopItemKind.MAKEUP, 50, makeup_every_days=7))
        for _ in range(2)
    ]
    for back in (3, 2):
        await checkin(uow_factory, ANNA, AT - back * DAY)

    results = await asyncio.gather(*(redeem(uow_factory, ANNA, card.id) for card in cards))

    refused = [r for r in results if isinstance(r, RedeemRefused)]
    assert len(refused) == 1
    assert refused[0].problem in {RedeemProblem.MAKEUP_NOT_NEEDED, RedeemProblem.MAKEUP_TOO_SOON}
    assert await entries(uow_factory, pk, PointsReason.SHOP) == [(ANNA, -50)]
    member, days = await streaks(uow_factory, pk, ANNA)
    assert member[0] == 3 and len(days) == 3
