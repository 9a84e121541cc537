"""Coupon-offer A/B tests on SQLite and PostgreSQL: the variants stored with the offer, each
coupon's arm and terms, stock and per-member limits held across arms under concurrency, the
holdout once per member, and the facts the report counts."""

import asyncio
import datetime as dt

from campaigns.coupon_variants import AUDIENCE_SOURCE, HeldOut, Issue, arm_of
from campaigns.coupons import CouponKind, Template
from campaigns.members import ChatInfo, Person
from campaigns.services import coupons
from campaigns.services.coupon_variants import offer_report
from campaigns.settings import ChatSettings
from tests.fakes import claim_posted

GROUP = ChatInfo(chat_id=-1009876543213, type="supergroup", title="Tea")
AT = dt.datetime(2026, 12, 1, 4, 0, tzinfo=dt.UTC)
A = Template(CouponKind.FIXED, value=1000, min_spend=10000, valid_days=7)
B = Template(CouponKind.PERCENT, value=1500, valid_days=7)


async def a_test(uow_factory, *, stock=None, per_member=1, holdout=0, planned=None):
    async with uow_factory() as uow:
        await uow.chats.register(GROUP, active=True, bot_status=None, defaults=ChatSettings())
        await uow.commit()
    return await coupons.create_offer(
        uow_factory(), chat_id=GROUP.chat_id, name="A/B", template=A, stock=stock,
        per_member=per_member, at=AT, variants=[A, B], holdout=holdout, planned=planned,
    )  # fmt: skip


async def attempt(coro):
    try:
        return await coro
    except coupons.CouponUnavailable as error:
        return error


async def test_the_variants_holdout_and_plan_are_stored_with_the_offer(uow_factory):
    offer = await a_test(uow_factory, holdout=10, planned=400)
    plain = await coupons.create_offer(
        uow_factory(), chat_id=GROUP.chat_id, name="Plain", template=A, stock=None,
        per_member=1, at=AT,
    )  # fmt: skip
    alone = await coupons.create_offer(
        uow_factory(), chat_id=GROUP.chat_id, name="Against nobody", template=B, stock=None,
        per_member=1, at=AT, holdout=20,
    )  # fmt: skip

    async with uow_factory() as uow:
        stored = await uow.coupons.template(offer.id)
        listed = dict((o.id, o) for o, _ in await uow.coupons.offers_of(stored.chat_pk))

    assert stored.variants == (A, B) and (stored.holdout, stored.planned) == (10, 400)
    assert stored.template == A and stored.is_test and stored.arm is None
    assert listed[offer.id] == stored
    assert (plain.variants, plain.holdout, plain.is_test) == ((), 0, False)
    assert alone.variants == (B,) and alone.is_test  # one set of terms against a holdout


async def test_parallel_claims_across_arms_never_exceed_the_stock_and_keep_their_terms(
    uow_factory,
):
    offer = await a_test(uow_factory, stock=4)

    results = await asyncio.gather(
        *(
            attempt(
                claim_posted(
                    uow_factory(),
                    bot_id=1,
                    update_id=i,
                    template_id=offer.id,
                    person=Person(2000 + i, f"M{i}"),
                    at=AT,
                )
            )
            for i in range(10)
        )
    )
    issued = [r for r in results if isinstance(r, coupons.Issued)]
    async with uow_factory() as uow:
        stored = [await uow.coupons.by_code(i.code) for i in issued]
        after = await uow.coupons.template(offer.id)

    assert len(issued) == 4 and after.issued == 4
    assert [r.reason for r in results if isinstance(r, coupons.CouponUnavailable)] == [
        "sold_out"
    ] * 6
    for coupon in stored:  # each has its member's arm and that arm's terms
        arm = arm_of(offer.id, coupon.user_id, 2, 0, may_hold_out=False)
        assert coupon.offer.arm == arm
        assert coupon.offer.template == {"A": A, "B": B}[arm]


async def test_one_member_racing_gets_their_limit_in_one_arm(uow_factory):
    offer = await a_test(uow_factory, per_member=2)

    results = await asyncio.gather(
        *(
            attempt(
                claim_posted(
                    uow_factory(),
                    bot_id=1,
                    update_id=i,
                    template_id=offer.id,
                    person=Person(77, "Eager"),
                    at=AT,
                )
            )
            for i in range(6)
        )
    )

    issued = [r for r in results if isinstance(r, coupons.Issued)]
    assert len(issued) == 2
    assert len({i.offer.arm for i in issued}) == 1
    assert {r.reason for r in results if isinstance(r, coupons.CouponUnavailable)} == {"limit"}


async def test_a_coupon_is_redeemed_on_its_own_arms_terms(uow_factory):
    offer = await a_test(uow_factory)
    members = range(3000, 3040)
    arms = {m: arm_of(offer.id, m, 2, 0, may_hold_out=False) for m in members}
    a_member = next(m for m in members if arms[m] == "A")
    b_member = next(m for m in members if arms[m] == "B")
    codes = {}
    for i, m in enumerate((a_member, b_member)):
        issued = await claim_posted(
            uow_factory(), bot_id=1, update_id=50 + i, template_id=offer.id,
            person=Person(m, "M"), at=AT,
        )  # fmt: skip
        codes[m] = issued.code

    done = [
        await coupons.redeem(
            uow_factory(),
            bot_id=1,
            update_id=60 + i,
            chat_id=GROUP.chat_id,
            typed_code=codes[m],
            order=20000,
            staff_id=9,
            at=AT + dt.timedelta(hours=1),
        )
        for i, m in enumerate((a_member, b_member))
    ]

    assert [d.discount for d in done] == [1000, 3000]  # ¥10 off ¥100; 15% of ¥200


async def test_a_member_is_held_out_once_and_the_report_reads_the_records(uow_factory):
    offer = await a_test(uow_factory, holdout=10)
    async with uow_factory() as uow:
        first = await uow.coupons.hold_out(offer, 41, AT)
        again = await uow.coupons.hold_out(offer, 41, AT + dt.timedelta(hours=1))
        await coupons.issue_coupon(uow, offer, 42, source=AUDIENCE_SOURCE, at=AT)
        await coupons.issue_coupon(uow, offer, 43, source="claim", at=AT)
        await uow.commit()
    async with uow_factory() as uow:
        issues, held = await uow.coupons.test_members(offer.id)
        orders_before = await uow.orders.placed(offer.chat_pk, [41, 42, 43], AT)
    arm42 = arm_of(offer.id, 42, 2, 10, may_hold_out=False)
    arm43 = arm_of(offer.id, 43, 2, 10, may_hold_out=False)

    assert (first, again) == (True, False)
    assert held == [HeldOut(41, AT)]
    assert sorted(issues, key=lambda i: i.user_id) == [
        Issue(42, arm42, AT, audience=True, redeemed=False),
        Issue(43, arm43, AT, audience=False, redeemed=False),
    ]
    assert orders_before == {}


async def test_the_report_counts_orders_of_the_offers_members_only(uow_factory):
    offer = await a_test(uow_factory, holdout=10)
    async with uow_factory() as uow:
        chat = await uow.chats.get(GROUP.chat_id)
        await uow.coupons.hold_out(offer, 41, AT)
        await coupons.issue_coupon(uow, offer, 42, source=AUDIENCE_SOURCE, at=AT)
        for n, (member, days, amount) in enumerate(
            [(41, 2, 5000), (42, 20, 7000), (99, 1, 100)]  # 42's is past its 14 days
        ):
            await uow.orders.add(
                chat.pk, external_id=f"o{n}", user_id=member, amount=amount, currency="CNY",
                at=AT + dt.timedelta(days=days), coupon_codes=[], items=[], source="test",
            )  # fmt: skip
        await uow.commit()

    _, r = await offer_report(
        uow_factory(), chat_id=GROUP.chat_id, template_id=offer.id,
        now=AT + dt.timedelta(days=30),
    )  # fmt: skip

    arm42 = arm_of(offer.id, 42, 2, 10, may_hold_out=False)
    assert r.counts("holdout").members == 1 and r.counts("holdout").gmv == 5000
    assert r.counts(arm42).members == 1 and r.counts(arm42).ordered == 0
    assert sum(r.counts(a).members for a in r.order) == 2 and not r.counting
