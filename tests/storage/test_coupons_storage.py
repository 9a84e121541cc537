"""Coupon invariants held by the database under concurrency, on SQLite and PostgreSQL."""

import asyncio
import datetime as dt

import pytest

from campaigns.coupons import CouponKind, CouponRejected, Reason, Template
from campaigns.members import ChatInfo, Person
from campaigns.services import coupons
from campaigns.settings import ChatSettings
from tests.fakes import claim_posted

GROUP = ChatInfo(chat_id=-1009876543212, type="supergroup", title="Shop")
AT = dt.datetime(2026, 11, 16, 4, 0, tzinfo=dt.UTC)
MANJIAN = Template(CouponKind.FIXED, value=3000, min_spend=19900, valid_days=7)


async def offer(uow_factory, *, stock=None, per_member=1, template=MANJIAN):
    async with uow_factory() as uow:
        await uow.chats.register(GROUP, active=True, bot_status=None, defaults=ChatSettings())
        await uow.commit()
    created = await coupons.create_offer(
        uow_factory(),
        chat_id=GROUP.chat_id,
        name="满199减30",
        template=template,
        stock=stock,
        per_member=per_member,
        at=AT,
    )
    return created


async def attempt(coro):
    try:
        return await coro
    except (coupons.CouponUnavailable, CouponRejected) as error:
        return error


async def test_parallel_claims_never_exceed_the_stock(uow_factory):
    deal = await offer(uow_factory, stock=3)

    results = await asyncio.gather(
        *(
            attempt(
                claim_posted(
                    uow_factory(),
                    bot_id=1,
                    update_id=i,
                    template_id=deal.id,
                    person=Person(1000 + i, f"M{i}"),
                    at=AT,
                )
            )
            for i in range(8)
        )
    )

    issued = [r for r in results if isinstance(r, coupons.Issued)]
    refused = [r.reason for r in results if isinstance(r, coupons.CouponUnavailable)]
    assert len(issued) == 3
    assert refused == ["sold_out"] * 5
    assert len({r.code for r in issued}) == 3
    assert len(await coupons.chat_coupons(uow_factory(), chat_id=GROUP.chat_id)) == 3


async def test_one_member_racing_for_the_same_offer_gets_their_limit(uow_factory):
    deal = await offer(uow_factory, per_member=2)

    results = await asyncio.gather(
        *(
            attempt(
                claim_posted(
                    uow_factory(),
                    bot_id=1,
                    update_id=i,
                    template_id=deal.id,
                    person=Person(77, "Eager"),
                    at=AT,
                )
            )
            for i in range(6)
        )
    )

    assert sum(isinstance(r, coupons.Issued) for r in results) == 2
    assert {r.reason for r in results if isinstance(r, coupons.CouponUnavailable)} == {"limit"}


async def test_parallel_redemptions_of_one_code_succeed_once(uow_factory):
    deal = await offer(uow_factory)
    issued = await claim_posted(
        uow_factory(),
        bot_id=1,
        update_id=1,
        template_id=deal.id,
        person=Person(5, "A"),
        at=AT,
    )

    results = await asyncio.gather(
        *(
            attempt(
                coupons.redeem(
                    uow_factory(),
                    bot_id=1,
                    update_id=100 + i,
                    chat_id=GROUP.chat_id,
                    typed_code=issued.code,
                    order=25000,
                    staff_id=9,
                    at=AT + dt.timedelta(hours=1),
                )
            )
            for i in range(6)
        )
    )

    done = [r for r in results if isinstance(r, coupons.Redemption)]
    assert len(done) == 1
    assert (done[0].discount, done[0].to_pay) == (3000, 22000)
    assert [r.reason for r in results if isinstance(r, CouponRejected)] == [Reason.USED] * 5


@pytest.mark.parametrize(
    ("order", "hours", "reason"),
    [(19899, 1, Reason.BELOW_MIN_SPEND), (20000, 24 * 7, Reason.EXPIRED)],
)
async def test_redemption_checks_minimum_spend_and_expiry(uow_factory, order, hours, reason):
    deal = await offer(uow_factory)
    issued = await claim_posted(
        uow_factory(),
        bot_id=1,
        update_id=1,
        template_id=deal.id,
        person=Person(5, "A"),
        at=AT,
    )

    with pytest.raises(CouponRejected) as err:
        await coupons.redeem(
            uow_factory(),
            bot_id=1,
            update_id=2,
            chat_id=GROUP.chat_id,
            typed_code=issued.code,
            order=order,
            staff_id=9,
            at=AT + dt.timedelta(hours=hours),
        )
    assert err.value.reason is reason
    [still] = await coupons.my_coupons(uow_factory(), user_id=5, default_timezone="UTC")
    assert still.coupon.status == "active"
