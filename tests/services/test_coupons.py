"""Coupon claims and redemption (核销) against the fakes: stock, limits, single use."""

import datetime as dt
import itertools

import pytest

from campaigns.access import AccessDenied, ButtonKind, Denied, Tap
from campaigns.coupons import CouponKind, CouponRejected, CouponState, Reason, Template
from campaigns.errors import DuplicateUpdate
from campaigns.members import ChatInfo, Person
from campaigns.services import coupons
from campaigns.services.coupons import CouponUnavailable
from campaigns.settings import ChatSettings
from tests.fakes import EVERYONE, POSTED, FakeGate
from tests.services.fakes import FakeDatabase

GROUP = ChatInfo(chat_id=-1002, type="supergroup", title="Bakery")
OTHER = ChatInfo(chat_id=-1003, type="supergroup", title="Florist")
MAY = Person(5, "May")
AT = dt.datetime(2026, 11, 16, 2, 0, tzinfo=dt.UTC)
DAY = dt.timedelta(days=1)
FIVE_OFF = Template(CouponKind.FIXED, value=500, valid_days=7)
_updates = itertools.count(1)


async def an_offer(db: FakeDatabase, *, chat=GROUP, template=FIVE_OFF, **kw) -> int:
    """An offer of the group, posted with its 🎟 button on POSTED."""
    async with db.uow() as uow:
        await uow.chats.register(
            chat, active=True, bot_status=None, defaults=ChatSettings(order_points=1)
        )
        await uow.commit()
    base = {"name": "¥5 off", "stock": None, "per_member": 1}
    offer = await coupons.create_offer(
        db.uow(), chat_id=chat.chat_id, template=template, at=AT, **(base | kw)
    )
    async with db.uow() as uow:
        await uow.buttons.remember(
            ButtonKind.COUPON, offer.id, POSTED.chat_id, POSTED.message_id, AT
        )
        await uow.commit()
    return offer.id


async def claim(
    db, offer_id, person=MAY, *, uow=None, gate=EVERYONE, tap=POSTED, at=AT, update_id=None
):
    return await coupons.claim(
        uow or db.uow(),
        gate=gate,
        bot_id=9,
        update_id=update_id or next(_updates),
        template_id=offer_id,
        person=person,
        tap=tap,
        at=at,
    )


async def redeem(db, code, *, order=3000, chat=GROUP, at=AT, uow=None):
    return await coupons.redeem(
        uow or db.uow(),
        bot_id=9,
        update_id=next(_updates),
        chat_id=chat.chat_id,
        typed_code=code,
        order=order,
        staff_id=77,
        at=at,
    )


async def refusal(coro) -> str:
    with pytest.raises(CouponUnavailable) as refused:
        await coro
    return refused.value.reason


def issued(db: FakeDatabase, offer_id: int) -> int:
    return db.t.offers[offer_id].issued


def coupons_of(db: FakeDatabase, person: Person = MAY) -> list[CouponState]:
    return [c.record.status for c in db.t.coupons.values() if c.record.user_id == person.user_id]


# -- claiming ----------------------------------------------------------------------------------


async def test_a_member_claims_a_coupon_that_expires_after_its_valid_days():
    db = FakeDatabase()
    offer = await an_offer(db, stock=10)
    uow = db.uow()

    got = await claim(db, offer, uow=uow)

    assert uow.committed
    assert got.expires_at == AT + 7 * DAY
    assert not got.last
    assert coupons_of(db) == [CouponState.ACTIVE]
    assert issued(db, offer) == 1


async def test_the_claim_that_takes_the_last_coupon_says_so_and_a_sold_out_offer_refuses():
    db = FakeDatabase()
    offer = await an_offer(db, stock=1)
    late = db.uow()

    first = await claim(db, offer, Person(6, "Kai"))
    reason = await refusal(claim(db, offer, uow=late))

    assert first.last
    assert reason == "sold_out"
    assert not late.committed
    assert coupons_of(db) == []
    assert issued(db, offer) == 1


async def test_a_member_gets_no_more_than_the_offers_limit_and_the_stock_is_kept():
    db = FakeDatabase()
    offer = await an_offer(db, stock=10, per_member=2)
    await claim(db, offer)
    await claim(db, offer)

    reason = await refusal(claim(db, offer))

    assert reason == "limit"
    assert len(coupons_of(db)) == 2
    assert issued(db, offer) == 2


async def test_an_offer_an_admin_ended_refuses_further_claims():
    db = FakeDatabase()
    offer = await an_offer(db)

    await coupons.end_offer(db.uow(), chat_id=GROUP.chat_id, template_id=offer)

    assert await refusal(claim(db, offer)) == "ended"
    assert coupons_of(db) == []


async def test_an_offer_past_its_end_date_refuses_claims():
    db = FakeDatabase()
    offer = await an_offer(db, template=Template(CouponKind.FIXED, 500, valid_until=AT + DAY))

    assert await refusal(claim(db, offer, at=AT + 2 * DAY)) == "ended"


async def test_a_tap_on_a_message_the_bot_did_not_send_for_the_offer_is_refused():
    db = FakeDatabase()
    offer = await an_offer(db)

    with pytest.raises(AccessDenied) as denied:
        await claim(db, offer, tap=Tap(chat_id=POSTED.chat_id, message_id=999))

    assert denied.value.reason is Denied.WRONG_MESSAGE
    assert coupons_of(db) == []


async def test_someone_outside_the_group_cannot_claim():
    db = FakeDatabase()
    offer = await an_offer(db)

    with pytest.raises(AccessDenied) as denied:
        await claim(db, offer, gate=FakeGate())

    assert denied.value.reason is Denied.NOT_MEMBER


async def test_an_offer_for_new_members_refuses_someone_who_joined_long_ago():
    db = FakeDatabase()
    offer = await an_offer(db, audience_joined_days=7)
    async with db.uow() as uow:
        pk = (await uow.chats.get(GROUP.chat_id)).pk
        await uow.members.create(pk, MAY.user_id, status="member", present=True, at=AT - 30 * DAY)
        await uow.members.create(pk, 6, status="member", present=True, at=AT - DAY)
        await uow.commit()

    reason = await refusal(claim(db, offer))
    newcomer = await claim(db, offer, Person(6, "Kai"))

    assert reason == "audience"
    assert newcomer.offer.id == offer


async def test_a_redelivered_claim_issues_nothing_twice():
    db = FakeDatabase()
    offer = await an_offer(db, per_member=5)
    await claim(db, offer, update_id=4242)

    with pytest.raises(DuplicateUpdate):
        await claim(db, offer, update_id=4242)

    assert len(coupons_of(db)) == 1


# -- redeeming (核销) -------------------------------------------------------------------------


async def test_a_redeemed_coupon_cannot_be_redeemed_twice():
    db = FakeDatabase()
    code = (await claim(db, await an_offer(db))).code

    first = await redeem(db, code, order=3000)
    with pytest.raises(CouponRejected) as again:
        await redeem(db, code, order=3000)

    assert (first.discount, first.to_pay, first.owner_id) == (500, 2500, MAY.user_id)
    assert again.value.reason is Reason.USED
    assert coupons_of(db) == [CouponState.USED]


async def test_a_code_is_redeemed_however_the_cashier_types_it():
    db = FakeDatabase()
    code = (await claim(db, await an_offer(db))).code

    done = await redeem(db, f"  {code.lower()} ")

    assert done.code == code


async def test_a_coupon_is_refused_in_another_group_and_stays_usable_in_its_own():
    db = FakeDatabase()
    code = (await claim(db, await an_offer(db))).code
    await an_offer(db, chat=OTHER)

    with pytest.raises(CouponRejected) as elsewhere:
        await redeem(db, code, chat=OTHER)

    assert elsewhere.value.reason is Reason.WRONG_GROUP
    assert coupons_of(db) == [CouponState.ACTIVE]
    assert (await redeem(db, code)).discount == 500


async def test_an_unknown_code_is_refused():
    db = FakeDatabase()
    await an_offer(db)

    with pytest.raises(CouponRejected) as unknown:
        await redeem(db, "NOPE1234")

    assert unknown.value.reason is Reason.UNKNOWN


async def test_an_expired_coupon_is_refused_and_nothing_is_recorded():
    db = FakeDatabase()
    code = (await claim(db, await an_offer(db))).code
    uow = db.uow()

    with pytest.raises(CouponRejected) as late:
        await redeem(db, code, at=AT + 8 * DAY, uow=uow)

    assert late.value.reason is Reason.EXPIRED
    assert not uow.committed
    assert coupons_of(db) == [CouponState.ACTIVE]
    assert db.t.orders == {}


async def test_a_redemption_is_recorded_as_the_members_order_and_earns_purchase_points_once():
    db = FakeDatabase()
    code = (await claim(db, await an_offer(db))).code
    async with db.uow() as uow:
        pk = (await uow.chats.get(GROUP.chat_id)).pk
        await uow.members.create(pk, MAY.user_id, status="member", present=True, at=AT)
        await uow.commit()

    await redeem(db, code, order=3000)
    with pytest.raises(CouponRejected):
        await redeem(db, code, order=3000)

    assert list(db.t.orders) == [(pk, f"redeem:{code}")]
    assert db.t.members[pk, MAY.user_id].points == 25  # ¥25 paid, 1 point per yuan


# -- A/B tests of offers -----------------------------------------------------------------------

FIFTEEN_PCT = Template(CouponKind.PERCENT, value=1500, valid_days=7)


async def test_claims_and_grants_give_the_members_arm_and_never_hold_anyone_out():
    from campaigns.coupon_variants import arm_of

    db = FakeDatabase()
    offer = await an_offer(db, variants=[FIVE_OFF, FIFTEEN_PCT], holdout=50)
    people = [Person(100 + i, f"M{i}") for i in range(12)]
    drawn = {p.user_id: arm_of(offer, p.user_id, 2, 50, may_hold_out=True) for p in people}
    assert "holdout" in drawn.values()  # some would be held out by an audience grant

    got = [await claim(db, offer, p) for p in people[:6]]
    granted = [
        await coupons.grant(
            db.uow(),
            bot_id=9,
            update_id=next(_updates),
            chat_id=GROUP.chat_id,
            template_id=offer,
            person=p,
            at=AT,
        )
        for p in people[6:]
    ]

    for p, issued_ in zip(people, got + granted, strict=True):
        arm = arm_of(offer, p.user_id, 2, 50, may_hold_out=False)
        assert issued_.offer.arm == arm
        assert issued_.offer.template == {"A": FIVE_OFF, "B": FIFTEEN_PCT}[arm]
        if drawn[p.user_id] != "holdout":
            assert drawn[p.user_id] == arm  # the same terms however they get them
    assert issued(db, offer) == 12 and db.t.holdouts == {}


async def test_a_coupon_of_the_b_arm_is_redeemed_on_bs_terms():
    from campaigns.coupon_variants import arm_of

    db = FakeDatabase()
    offer = await an_offer(db, variants=[FIVE_OFF, FIFTEEN_PCT])
    b_member = next(u for u in range(100, 200) if arm_of(offer, u, 2, 0, may_hold_out=False) == "B")

    got = await claim(db, offer, Person(b_member, "Bea"))
    done = await redeem(db, got.code, order=10000)

    assert (done.discount, done.to_pay) == (1500, 8500)
