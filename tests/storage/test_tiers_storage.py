"""Membership tiers on SQLite and PostgreSQL: points earned kept by every stored entry,
promotion with each passed tier's reward once, redelivery and a second process granting
nothing twice, the review demoting only after the grace period, and the multiplier."""

import asyncio
import datetime as dt
from dataclasses import replace
from typing import Any

import pytest
from sqlalchemy import select

from campaigns.errors import AlreadyCheckedIn
from campaigns.members import ChatInfo, EventKind, Person
from campaigns.orders import OrderIn
from campaigns.services import orders, tiers
from campaigns.services.checkin import check_in
from campaigns.services.points import PointsReason, award_points
from campaigns.settings import ChatSettings
from campaigns.tiers import parse_ladder, window_start
from storage.models import EventRow, MemberMonthRow, MembershipRow, TierRewardRow

GROUP = ChatInfo(chat_id=-1009876543777, type="supergroup", title="Tea Club")
AT = dt.datetime(2026, 11, 16, 4, 0, tzinfo=dt.UTC)  # noon in Shanghai
DAY = dt.timedelta(days=1)
ANNA, BEN = 31, 32
LADDER = parse_ladder(
    "普通 | 银 points=100 x=1.5 reward=10 | 金 points=200 reward=20 title=金卡 | 钻 points=1000"
)
SETTINGS = ChatSettings(timezone="Asia/Shanghai", order_points=1, tiers=LADDER)
updates = iter(range(1000, 10**6))


async def group(uow_factory, settings: ChatSettings = SETTINGS) -> int:
    async with uow_factory() as uow:
        record = await uow.chats.register(GROUP, active=True, bot_status=None, defaults=settings)
        await uow.users.upsert([Person(ANNA, "Anna"), Person(BEN, "Ben")])
        for uid in (ANNA, BEN):
            await uow.members.create(record.pk, uid, status="member", present=True, at=AT)
        await uow.commit()
    return record.pk


async def member(uow_factory, pk: int, uid: int) -> Any:
    """The member's row as plain values (read after the transaction is gone)."""
    m = MembershipRow
    async with uow_factory() as uow:
        result = await uow.session.execute(
            select(m.tier, m.tier_below_since, m.points, m.points_earned, m.spend, m.orders).where(
                m.chat_id == pk, m.user_id == uid
            )
        )
        return result.one()


async def months(uow_factory, pk: int, uid: int) -> dict[dt.date, int]:
    async with uow_factory() as uow:
        rows = await uow.session.scalars(
            select(MemberMonthRow).where(
                MemberMonthRow.chat_id == pk, MemberMonthRow.user_id == uid
            )
        )
        return {r.month: r.points_earned for r in rows}


async def rewarded(uow_factory, pk: int, uid: int) -> list[int]:
    async with uow_factory() as uow:
        rows = await uow.session.scalars(
            select(TierRewardRow.level)
            .where(TierRewardRow.chat_id == pk, TierRewardRow.user_id == uid)
            .order_by(TierRewardRow.level)
        )
        return list(rows)


async def checkin(uow_factory, uid: int, at: dt.datetime, update_id: int | None = None):
    return await check_in(
        uow_factory(), bot_id=1, update_id=update_id or next(updates), chat=GROUP,
        person=Person(uid, "Anna"), at=at, defaults=SETTINGS,
    )  # fmt: skip


async def award(uow_factory, pk: int, uid: int, delta: int, key: str, at: dt.datetime = AT):
    async with uow_factory() as uow:
        moved = await award_points(
            uow, pk, uid, delta=delta, reason=PointsReason.REFERRAL_TIER, key=key, at=at
        )
        await uow.commit()
    return moved


def order(external_id: str, amount: str, uid: int = ANNA, at: dt.datetime = AT) -> OrderIn:
    return OrderIn.model_validate(
        {"external_id": external_id, "member": uid, "amount": amount, "at": at}
    )


async def buy(uow_factory, external_id: str, amount: str, uid: int = ANNA):
    return await orders.record_order(
        uow_factory(), order(external_id, amount, uid), chat_id=GROUP.chat_id, source="t",
        received_at=AT,
    )  # fmt: skip


async def test_a_checkin_keeps_points_earned_and_its_local_month_bucket(uow_factory):
    pk = await group(uow_factory)
    late_october = dt.datetime(2026, 10, 31, 17, 0, tzinfo=dt.UTC)  # 1 November in Shanghai

    await checkin(uow_factory, ANNA, late_october)
    await checkin(uow_factory, ANNA, late_october + DAY)

    row = await member(uow_factory, pk, ANNA)
    assert (row.points, row.points_earned) == (21, 21)  # 10, then 10 + a streak bonus of 1
    assert await months(uow_factory, pk, ANNA) == {dt.date(2026, 11, 1): 21}


async def test_a_second_checkin_the_same_day_earns_nothing_more(uow_factory):
    pk = await group(uow_factory)
    await checkin(uow_factory, ANNA, AT)

    with pytest.raises(AlreadyCheckedIn):
        await checkin(uow_factory, ANNA, AT + dt.timedelta(hours=1))

    row = await member(uow_factory, pk, ANNA)
    assert row.points_earned == 10
    assert await months(uow_factory, pk, ANNA) == {dt.date(2026, 11, 1): 10}


async def test_awards_count_as_earned_once_and_taking_points_back_never_lowers_it(uow_factory):
    pk = await group(uow_factory)

    assert await award(uow_factory, pk, BEN, 50, "k1")
    assert not await award(uow_factory, pk, BEN, 50, "k1")  # the key is taken: nothing moves
    assert await award(uow_factory, pk, BEN, -30, "k2")
    assert await award(uow_factory, pk, BEN, 5, "k3", AT + 20 * DAY)  # December in Shanghai

    row = await member(uow_factory, pk, BEN)
    assert (row.points, row.points_earned) == (25, 55)
    assert await months(uow_factory, pk, BEN) == {
        dt.date(2026, 11, 1): 50,
        dt.date(2026, 12, 1): 5,
    }


async def test_an_order_that_skips_a_tier_grants_each_passed_reward_once(uow_factory):
    pk = await group(uow_factory)

    first = await buy(uow_factory, "A-1", "250")
    replay = await buy(uow_factory, "A-1", "250")

    promotion = first.promotion
    assert promotion is not None
    assert (promotion.kind, promotion.old, promotion.new) == ("promoted", 0, 2)
    assert promotion.reward_points == 30  # 银 10 and 金 20
    assert replay.stored is False and replay.promotion is None
    row = await member(uow_factory, pk, ANNA)
    assert (row.tier, row.points, row.points_earned, row.spend, row.orders) == (
        2,
        280,
        280,
        25000,
        1,
    )
    assert await rewarded(uow_factory, pk, ANNA) == [1, 2]


async def test_a_member_who_drops_and_climbs_again_is_not_rewarded_twice(uow_factory):
    pk = await group(uow_factory)
    await buy(uow_factory, "A-1", "150")  # 150 points: 银, +10
    async with uow_factory() as uow:  # as a review after the grace period would
        await uow.tiers.move(pk, ANNA, level=0, at=AT, only_up=False)
        await uow.commit()

    again = await buy(uow_factory, "A-2", "1")

    assert again.promotion is not None and again.promotion.new == 1
    assert again.promotion.reward_points == 0
    row = await member(uow_factory, pk, ANNA)
    assert (row.tier, row.points) == (1, 161)
    assert await rewarded(uow_factory, pk, ANNA) == [1]


async def test_two_processes_promoting_at_once_move_and_reward_once(uow_factory, database_url):
    pk = await group(uow_factory)
    await award(uow_factory, pk, ANNA, 250, "bulk")  # qualifies for 金, not yet promoted
    record = None
    async with uow_factory() as uow:
        record = await uow.chats.get(GROUP.chat_id)

    async def promote_once():
        async with uow_factory() as uow:
            change = await tiers.promote(uow, record, ANNA, AT)
            await asyncio.sleep(0.05)  # hold the row's lock while the other one tries
            await uow.commit()
        return change

    if database_url.startswith("sqlite"):  # one writer at a time: in turn
        results = [await promote_once(), await promote_once()]
    else:
        results = await asyncio.gather(promote_once(), promote_once())

    promoted = [r for r in results if r is not None]
    assert len(promoted) == 1 and promoted[0].new == 2
    row = await member(uow_factory, pk, ANNA)
    assert (row.tier, row.points) == (2, 280)
    assert await rewarded(uow_factory, pk, ANNA) == [1, 2]


async def test_the_tier_multiplier_applies_to_checkin_and_order_points(uow_factory):
    pk = await group(uow_factory)
    await award(uow_factory, pk, ANNA, 120, "start", AT - DAY)  # 银 (x1.5) on the next entry
    await buy(uow_factory, "A-1", "0")  # an order of nothing: no points, but it promotes
    assert (await member(uow_factory, pk, ANNA)).tier == 1

    result = await checkin(uow_factory, ANNA, AT)
    bought = await buy(uow_factory, "A-2", "20")

    assert (result.award.base_points, result.award.tier_points, result.award.total) == (10, 5, 15)
    assert result.balance == 120 + 10 + 15  # 银 reward, then the tier extra in the ledger too
    assert bought.points == 30


async def test_an_admin_raise_is_logged_and_rewards_the_passed_tiers(uow_factory):
    await group(uow_factory)

    change = await tiers.set_member_tier(
        uow_factory(), bot_id=1, update_id=next(updates), chat_id=GROUP.chat_id, by=99,
        user_id=BEN, name="金", at=AT,
    )  # fmt: skip

    assert (change.kind, change.old, change.new, change.reward_points) == ("raised", 0, 2, 30)
    async with uow_factory() as uow:
        events = (
            await uow.session.execute(
                select(EventRow.user_id, EventRow.meta).where(EventRow.kind == EventKind.TIER)
            )
        ).all()
    assert [tuple(e) for e in events] == [(BEN, {"from": "0", "to": "2", "by": "99"})]


async def test_the_review_demotes_only_after_the_grace_period(uow_factory):
    daily = LADDER.model_copy(update={"review_days": 1, "grace_days": 30})
    pk = await group(uow_factory, ChatSettings(timezone="Asia/Shanghai", tiers=daily))
    for uid in (ANNA, BEN):
        await tiers.set_member_tier(
            uow_factory(), bot_id=1, update_id=next(updates), chat_id=GROUP.chat_id, by=99,
            user_id=uid, name="银", at=AT,
        )  # fmt: skip
    await award(uow_factory, pk, BEN, 200, "ben-earned")  # Ben qualifies; Anna does not

    first = await tiers.review_tiers(uow_factory, now=AT + DAY)
    twice = await tiers.review_tiers(uow_factory, now=AT + DAY + dt.timedelta(hours=1))
    before = await tiers.review_tiers(uow_factory, now=AT + 30 * DAY)
    after = await tiers.review_tiers(uow_factory, now=AT + 31 * DAY)
    later = await tiers.review_tiers(uow_factory, now=AT + 32 * DAY)

    assert first == twice == before == later == []
    assert [(c.member.user_id, c.kind, c.old, c.new) for c in after] == [(ANNA, "demoted", 1, 0)]
    anna, ben = await member(uow_factory, pk, ANNA), await member(uow_factory, pk, BEN)
    assert (anna.tier, anna.tier_below_since) == (0, None)
    assert (ben.tier, ben.tier_below_since) == (1, None)  # qualifies by points earned


async def test_the_rolling_window_counts_the_current_month_and_the_eleven_before(uow_factory):
    pk = await group(uow_factory)
    async with uow_factory() as uow:
        await uow.members.add_earned(pk, ANNA, 70, dt.date(2025, 11, 1))  # 13th month back
        await uow.members.add_earned(pk, ANNA, 40, dt.date(2025, 12, 1))  # 12th: counts
        await uow.members.add_earned(pk, ANNA, 5, dt.date(2026, 11, 1))
        await uow.commit()

    async with uow_factory() as uow:
        rolling = await uow.tiers.state(pk, ANNA, window_start(LADDER, dt.date(2026, 11, 30)))
        lifetime = await uow.tiers.state(pk, ANNA, None)

    assert rolling is not None and lifetime is not None
    assert rolling.standing.points_earned == 45
    assert lifetime.standing.points_earned == 115


async def test_every_way_of_recording_a_checkin_counts_points_earned_once(database_url):
    """Checkins.record has three paths: one statement on asyncpg, the same statement through
    SQLAlchemy (PostgreSQL before the transaction's first statement) and sqlite3's own
    statements. Each counts the entries it stored, and only those, as earned."""
    from campaigns.checkin import CheckinAward
    from campaigns.ports.activity import PointsEntry
    from storage.engine import create_engine, is_sqlite, session_factory
    from storage.uow import SqlUnitOfWork

    writing = create_engine(database_url)
    plainly = create_engine(database_url)

    def uow_of(read_only: bool) -> SqlUnitOfWork:
        return SqlUnitOfWork(session_factory(plainly if read_only else writing))

    pk = await group(lambda: uow_of(False))
    day = dt.date(2026, 11, 30)
    paths = [(ANNA, False)] if is_sqlite(database_url) else [(ANNA, False), (BEN, True)]
    for uid, plain in paths:
        entries = [PointsEntry("checkin", 11, f"{uid}:1"), PointsEntry("milestone", 5, f"{uid}:2")]
        async with uow_of(plain) as uow:
            if not plain:
                await uow.members.seen_in(GROUP.chat_id, uid, AT)  # the driver's path
            award = CheckinAward(day, 1, base_points=11, streak_points=0, milestone_points=5)
            first = await uow.checkins.record(pk, uid, award, AT, entries)
            again = await uow.checkins.record(pk, uid, award, AT, entries)
            await uow.commit()

        assert first is not None and (first.balance, first.earned, first.spend) == (16, 16, 0)
        assert again is None
        row = await member(lambda: uow_of(False), pk, uid)
        assert (row.points, row.points_earned) == (16, 16)
        assert await months(lambda: uow_of(False), pk, uid) == {dt.date(2026, 11, 1): 16}
    await writing.dispose()
    await plainly.dispose()


async def test_a_tiers_entry_coupon_is_issued_through_the_coupon_grant_once(uow_factory):
    from campaigns.coupons import CouponKind, Template
    from campaigns.services import coupons

    pk = await group(uow_factory)
    offer = await coupons.create_offer(
        uow_factory(), chat_id=GROUP.chat_id, name="银卡礼券",
        template=Template(CouponKind.FIXED, value=500), stock=None, per_member=1, at=AT,
    )  # fmt: skip
    async with uow_factory() as uow:
        ladder = parse_ladder(f"普通 | 银 points=100 coupon={offer.id} | 金 points=5000")
        await uow.chats.save_settings(pk, replace(SETTINGS, tiers=ladder))
        await uow.commit()

    first = await buy(uow_factory, "A-1", "150")
    async with uow_factory() as uow:  # dropped by a review, then climbing again
        await uow.tiers.move(pk, ANNA, level=0, at=AT, only_up=False)
        await uow.commit()
    again = await buy(uow_factory, "A-2", "1")

    assert first.promotion is not None and first.promotion.coupons == ("银卡礼券",)
    assert again.promotion is not None and again.promotion.coupons == ()
    async with uow_factory() as uow:
        assert await uow.coupons.held(offer.id, ANNA) == 1
