"""Orders on SQLite and PostgreSQL: stored once, points once, the inviter's first-order reward."""

import datetime as dt

from campaigns.coupons import CouponKind, Template
from campaigns.members import ChatInfo, Person
from campaigns.orders import OrderIn
from campaigns.referral import InviteStatus, ReferralProgram, Source
from campaigns.services import coupons, orders
from campaigns.settings import ChatSettings
from tests.fakes import claim_posted

GROUP = ChatInfo(chat_id=-1009876543213, type="supergroup", title="Shop")
AT = dt.datetime(2026, 11, 16, 4, 0, tzinfo=dt.UTC)
SETTINGS = ChatSettings(order_points=1, referral=ReferralProgram(first_order=100))
INVITER, FRIEND = 11, 12


async def shop(uow_factory) -> None:
    async with uow_factory() as uow:
        record = await uow.chats.register(GROUP, active=True, bot_status=None, defaults=SETTINGS)
        await uow.users.upsert([Person(INVITER, "Ina"), Person(FRIEND, "Fay")])
        for uid in (INVITER, FRIEND):
            await uow.members.create(record.pk, uid, status="member", present=True, at=AT)
        await uow.invites.add(
            record.pk,
            FRIEND,
            inviter_id=INVITER,
            link_id=None,
            source=Source.MEMBER_LINK,
            status=InviteStatus.CONFIRMED,
            reason=None,
            was_member=False,
            at=AT,
        )
        await uow.commit()


def order(external_id: str, amount: str = "250", **extra) -> OrderIn:
    return OrderIn.model_validate(
        {"external_id": external_id, "member": FRIEND, "amount": amount, "at": AT} | extra
    )


async def points(uow_factory, user: int) -> int:
    async with uow_factory() as uow:
        stats = await uow.members.stats((await uow.chats.get(GROUP.chat_id)).pk, user)
    return stats.points


async def test_orders_are_stored_once_and_earn_points_and_the_first_order_reward_once(
    uow_factory,
):
    await shop(uow_factory)

    first = await orders.record_order(
        uow_factory(), order("A-1"), chat_id=GROUP.chat_id, source="t", received_at=AT
    )
    replay = await orders.record_order(
        uow_factory(), order("A-1"), chat_id=GROUP.chat_id, source="t", received_at=AT
    )
    second = await orders.record_order(
        uow_factory(), order("A-2", "99.50"), chat_id=GROUP.chat_id, source="t", received_at=AT
    )

    assert (first.stored, first.points, first.inviter_reward) == (True, 250, (INVITER, 100))
    assert replay.stored is False
    assert (second.points, second.inviter_reward) == (99, None)
    assert await points(uow_factory, FRIEND) == 349
    assert await points(uow_factory, INVITER) == 100
    totals = await orders.order_totals(uow_factory(), chat_id=GROUP.chat_id)
    assert (totals[FRIEND].orders, totals[FRIEND].spend) == (2, 34950)


async def test_a_coupon_named_in_an_order_is_redeemed_and_a_bad_one_reported(uow_factory):
    await shop(uow_factory)
    offer = await coupons.create_offer(
        uow_factory(),
        chat_id=GROUP.chat_id,
        name="无门槛5元",
        template=Template(CouponKind.FIXED, value=500),
        stock=None,
        per_member=1,
        at=AT,
    )
    mine = await claim(uow_factory, offer.id, 1)
    theirs = await claim(uow_factory, offer.id, 2, user=INVITER)

    result = await orders.record_order(
        uow_factory(),
        order("B-1", coupons=f"{mine}|{theirs}"),
        chat_id=GROUP.chat_id,
        received_at=AT,
        source="t",
    )

    assert result.coupons_used == [mine]
    assert result.coupons_refused == [(theirs, "not_owner")]
    counts = await orders.coupon_counts(uow_factory(), chat_id=GROUP.chat_id)
    assert counts[FRIEND] == (1, 1)
    assert counts[INVITER] == (1, 0)


async def test_redeem_at_checkout_records_the_order(uow_factory):
    await shop(uow_factory)
    offer = await coupons.create_offer(
        uow_factory(),
        chat_id=GROUP.chat_id,
        name="满100减10",
        template=Template(CouponKind.FIXED, value=1000, min_spend=10000),
        stock=None,
        per_member=1,
        at=AT,
    )
    code = await claim(uow_factory, offer.id, 1)

    await coupons.redeem(
        uow_factory(),
        bot_id=1,
        update_id=2,
        chat_id=GROUP.chat_id,
        typed_code=code,
        order=15000,
        staff_id=9,
        at=AT,
    )

    totals = await orders.order_totals(uow_factory(), chat_id=GROUP.chat_id)
    assert (totals[FRIEND].orders, totals[FRIEND].spend) == (1, 14000)  # paid after discount
    assert await points(uow_factory, FRIEND) == 140
    assert await points(uow_factory, INVITER) == 100


async def test_items_and_category_are_kept_for_segmentation(uow_factory):
    from sqlalchemy import select

    from storage.models import OrderRow

    await shop(uow_factory)
    await orders.record_order(
        uow_factory(),
        order("C-1", items="tea|cake", category="drinks"),
        chat_id=GROUP.chat_id,
        received_at=AT,
        source="t",
    )

    async with uow_factory() as uow:
        stored = await uow.session.scalar(select(OrderRow.items))
    assert stored == {"items": ["tea", "cake"], "category": "drinks"}


async def fixed_offer(uow_factory, value: int, **template) -> int:
    offer = await coupons.create_offer(
        uow_factory(),
        chat_id=GROUP.chat_id,
        name=f"减{value}",
        template=Template(CouponKind.FIXED, value=value, **template),
        stock=None,
        per_member=5,
        at=AT,
    )
    return offer.id


async def claim(uow_factory, offer_id: int, update_id: int, at=AT, user: int = FRIEND) -> str:
    """The member taps 🎟 on the offer's post; the code they get."""
    issued = await claim_posted(
        uow_factory(),
        bot_id=1,
        update_id=update_id,
        template_id=offer_id,
        person=Person(user),
        at=at,
    )
    return issued.code


async def coupon(uow_factory, code: str):
    async with uow_factory() as uow:
        return await uow.coupons.by_code(code)


async def record(uow_factory, order_in: OrderIn, received_at=AT):
    return await orders.record_order(
        uow_factory(), order_in, chat_id=GROUP.chat_id, source="t", received_at=received_at
    )


async def test_a_coupon_in_another_currency_is_refused_and_stays_active(uow_factory):
    await shop(uow_factory)
    code = await claim(uow_factory, await fixed_offer(uow_factory, 500), 1)

    result = await record(uow_factory, order("U-1", currency="USD", coupons=code))

    assert result.coupons_refused == [(code, "currency")]
    assert (await coupon(uow_factory, code)).status == "active"


async def test_expiry_is_judged_when_the_order_arrives_not_at_the_shops_time(uow_factory):
    await shop(uow_factory)
    offer = await fixed_offer(uow_factory, 500, valid_days=1)
    late, early = await claim(uow_factory, offer, 1), await claim(uow_factory, offer, 2)

    backdated = await record(
        uow_factory, order("E-1", coupons=late), received_at=AT + dt.timedelta(days=3)
    )
    before_issue = await record(
        uow_factory,
        order("E-2", at=AT - dt.timedelta(days=30), coupons=early),
        received_at=AT + dt.timedelta(hours=1),
    )

    assert backdated.coupons_refused == [(late, "expired")]
    assert before_issue.coupons_used == [early]
    used = await coupon(uow_factory, early)
    assert used.redeemed_at == AT + dt.timedelta(hours=1)
    assert used.redeemed_at >= used.issued_at


async def test_stacked_coupons_never_take_off_more_than_the_order(uow_factory):
    await shop(uow_factory)
    five = await fixed_offer(uow_factory, 500)
    percent = await coupons.create_offer(
        uow_factory(),
        chat_id=GROUP.chat_id,
        name="9折",
        template=Template(CouponKind.PERCENT, value=1000),
        stock=None,
        per_member=1,
        at=AT,
    )
    first, second, third = [await claim(uow_factory, five, i) for i in (1, 2, 3)]
    tenth = await claim(uow_factory, percent.id, 4)

    result = await record(uow_factory, order("S-1", "8", coupons=f"{first}|{second}|{third}"))
    small = await record(uow_factory, order("S-2", "0.05", coupons=tenth))

    assert result.coupons_used == [first, second]
    assert result.coupons_refused == [(third, "nothing_to_pay")]
    discounts = [(await coupon(uow_factory, c)).discount for c in (first, second)]
    assert discounts == [500, 300]
    assert (await coupon(uow_factory, third)).status == "active"
    assert small.coupons_refused == [(tenth, "no_discount")]
    assert (await coupon(uow_factory, tenth)).status == "active"


async def test_redeem_refuses_a_zero_order_and_another_currency_and_keeps_the_coupon(
    uow_factory,
):
    from campaigns.coupons import CouponRejected, Reason

    await shop(uow_factory)
    code = await claim(uow_factory, await fixed_offer(uow_factory, 500), 1)
    refusals = []

    for update_id, (amount, currency) in enumerate([(0, None), (1000, "USD")], start=10):
        try:
            await coupons.redeem(
                uow_factory(),
                bot_id=1,
                update_id=update_id,
                chat_id=GROUP.chat_id,
                typed_code=code,
                order=amount,
                staff_id=9,
                at=AT,
                currency=currency,
            )
        except CouponRejected as err:
            refusals.append(err.reason)

    assert refusals == [Reason.NOTHING_TO_PAY, Reason.CURRENCY]
    assert (await coupon(uow_factory, code)).status == "active"
