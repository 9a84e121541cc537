"""The holes a forged tap, an id of another group or an old link opened (each failed before)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select

from campaigns.coupons import CouponKind, Template
from campaigns.groupbuys import Deal
from campaigns.services.calendar import hand_over_due
from campaigns.services.coupons import create_offer
from campaigns.services.groupbuys import create_deal, end_deals
from handlers.callbacks import ClaimButton, GroupBuyButton, GroupBuyVerb
from storage.engine import create_engine
from storage.models import CouponRow, MembershipRow
from tests.handlers.conftest import ALICE, BOB, GROUP, MONDAY, OWNER, Harness, tap

OTHER = -1001500000002
STRANGER = 62
GRACE = dt.timedelta(minutes=10)
MANJIAN = Template(CouponKind.FIXED, value=3000, min_spend=19900, valid_days=7)


async def count(database_url: str, column) -> int:
    engine = create_engine(database_url)
    try:
        async with engine.connect() as conn:
            return int((await conn.execute(select(func.count(column)))).scalar_one())
    finally:
        await engine.dispose()


async def offer_in(bot: Harness, chat: int = GROUP, name: str = "满199减30") -> int:
    created = await create_offer(
        bot.app.bot_data.deps.uow(), chat_id=chat, name=name, template=MANJIAN,
        stock=None, per_member=1, at=bot.clock.now(),
    )  # fmt: skip
    return created.id


async def deal_in(bot: Harness, chat: int = GROUP, hours: int = 24) -> tuple[int, int]:
    now = bot.clock.now()
    d = await create_deal(
        bot.app.bot_data.deps.uow(),
        chat_id=chat,
        deal=Deal("Milk tea", 3000, 1990, 3, 60, now + dt.timedelta(hours=hours)),
        description=None,
        at=now,
    )
    return d.id, d.offer_id


async def other_group(bot: Harness) -> None:
    bot.world.add_user(70, "Otto", language_code="en")
    bot.world.add_group(OTHER, "Other Club", owner=70)
    await bot.send(bot.world.add_bot(OTHER, by=70, at=MONDAY - dt.timedelta(days=1)))


async def test_a_stranger_cannot_claim_a_coupon_from_a_private_chat(bot: Harness):
    offer = await offer_in(bot)
    await bot.say(OWNER, f"/coupon post {offer}")
    bot.world.add_user(STRANGER, "Stan", language_code="en")

    forged = await tap(bot, STRANGER, STRANGER, ClaimButton(offer))
    outsider = await tap(bot, GROUP, STRANGER, ClaimButton(offer))  # on the real post
    member = await tap(bot, GROUP, ALICE, ClaimButton(offer))

    assert "doesn't belong here" in forged
    assert "for members of the group" in outsider
    assert "Your code" in member


async def test_a_group_buys_payout_offer_is_never_claimable_nor_postable(
    bot: Harness, database_url: str
):
    _deal, payout = await deal_in(bot)
    bot.world.start_private(OWNER)

    [post] = await bot.say(OWNER, f"/coupon post {payout}")
    forged = await tap(bot, GROUP, ALICE, ClaimButton(payout))
    [scheduled] = await bot.say(
        OWNER, f"/schedule daily 09:00\nDeal!\nbutton: 领券 | coupon {payout}"
    )

    assert f"There is no coupon offer #{payout} in this group" in post
    assert "not available" in forged
    assert f"coupon offer #{payout}, which is not a live offer of this group" in scheduled
    assert await count(database_url, CouponRow.id) == 0


async def test_a_post_cannot_carry_another_groups_offer_or_deal(bot: Harness):
    await other_group(bot)
    theirs = await offer_in(bot, OTHER)
    their_deal, _ = await deal_in(bot, OTHER)

    [coupon] = await bot.say(OWNER, f"/schedule daily 09:00\nHi\nbutton: 领券 | coupon {theirs}")
    [deal] = await bot.say(
        OWNER, f"/schedule daily 09:00\nHi\nbutton: 参团 | groupbuy {their_deal}"
    )
    [cast] = await bot.say(OWNER, f"/broadcast\nHi\nbutton: 领券 | coupon {theirs}")

    assert f"coupon offer #{theirs}, which is not a live offer of this group" in coupon
    assert f"group-buy #{their_deal}, which is not a deal of this group" in deal
    assert f"coupon offer #{theirs}" in cast


async def test_an_offer_ended_after_saving_goes_out_without_its_claim_button(bot: Harness):
    bot.world.start_private(OWNER)
    offer = await offer_in(bot)
    await bot.say(OWNER, f"/schedule daily 09:00\nDaily deal\nbutton: 领券 | coupon {offer}")
    await tap(bot, OWNER, OWNER, bot.world.sent(OWNER)[-1].params["reply_markup"][
        "inline_keyboard"][0][0]["callback_data"])  # fmt: skip
    [ended] = await bot.say(OWNER, f"/coupon end {offer}")
    deps = bot.app.bot_data.deps
    due = bot.clock.now() + dt.timedelta(days=1, minutes=1)
    await hand_over_due(deps.uow, now=due, grace=dt.timedelta(days=2))
    await bot.drain(due)
    claimed = await tap(bot, GROUP, ALICE, ClaimButton(offer), message_id=1)

    sent = bot.world.sent(GROUP)[-1]
    assert "has ended" in ended
    assert sent.text == "Daily deal" and "reply_markup" not in sent.params
    assert "doesn't belong here" in claimed


async def test_an_ended_offer_is_not_claimable_and_a_deals_offer_ends_with_it(bot: Harness):
    offer = await offer_in(bot)
    await bot.say(OWNER, f"/coupon post {offer}")
    [member] = await bot.say(ALICE, f"/coupon end {offer}")
    [ended] = await bot.say(OWNER, f"/coupon end {offer}")
    [twice] = await bot.say(OWNER, f"/coupon end {offer}")
    late = await tap(bot, GROUP, BOB, ClaimButton(offer))
    _deal, payout = await deal_in(bot, hours=1)
    await end_deals(bot.app.bot_data.deps.uow, now=bot.clock.now() + dt.timedelta(hours=2))
    async with bot.app.bot_data.deps.uow() as uow:
        payout_offer = await uow.coupons.template(payout)

    assert "only group admins" in member
    assert f"Offer #{offer} 满199减30 has ended" in ended
    assert "has ended" in twice and "This offer has ended." in late
    assert payout_offer is not None and not payout_offer.active


async def test_a_share_link_needs_its_token_and_never_makes_anyone_a_member(
    bot: Harness, database_url: str
):
    friend = 41
    bot.world.add_user(friend, "Fay", language_code="en")
    bot.world.start_private(friend)
    deal, _ = await deal_in(bot)
    await bot.say(OWNER, f"/groupbuy post {deal}")
    await tap(bot, GROUP, ALICE, GroupBuyButton(GroupBuyVerb.START, deal))
    members_before = await count(database_url, MembershipRow.id)

    [guessed] = await bot.send(bot.world.message(friend, friend, "/start team_1"))
    [forged] = await bot.send(bot.world.message(friend, friend, "/start team_AAAAAAAAAAAAAAAA"))
    joined = await tap(bot, friend, friend, GroupBuyButton(GroupBuyVerb.JOIN, 1), fresh=True)

    assert "not available" in guessed and "not available" in forged
    assert "doesn't belong here" in joined
    assert await count(database_url, MembershipRow.id) == members_before
