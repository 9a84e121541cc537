"""/shop, its Redeem buttons, /shop add|end|orders, /points and the expiry reminder, as
members and admins read them, in English and Chinese."""

import datetime as dt
import re

from bot.jobs import Jobs
from campaigns.coupons import CouponKind, Template
from campaigns.services.coupons import create_offer
from handlers.callbacks import ShopButton
from tests.handlers.conftest import ADMIN, ALICE, BOB, CAROL, GROUP, MONDAY, OWNER, Harness, tap

DAY = dt.timedelta(days=1)


async def started(bot: Harness, user: int) -> None:
    bot.world.start_private(user)
    await bot.say(user, "/start", chat=user)


def item_id(reply: str) -> int:
    found = re.search(r"#(\d+)", reply)
    assert found is not None, reply
    return int(found.group(1))


async def offer_id(bot: Harness) -> int:
    d = bot.app.bot_data.deps
    offer = await create_offer(
        d.uow(), chat_id=GROUP, name="满199减30",
        template=Template(CouponKind.FIXED, value=3000, min_spend=19900, valid_days=7),
        stock=None, per_member=1, at=bot.clock.now(),
    )  # fmt: skip
    return offer.id


async def test_a_member_redeems_a_coupon_for_points_and_reads_the_statement(bot: Harness):
    await bot.say(ADMIN, "/set checkin_points 100")
    await started(bot, ALICE)
    await bot.say(ALICE, "/checkin")
    [added] = await bot.say(ADMIN, f"/shop add coupon {await offer_id(bot)} 60")
    coupon = item_id(added)

    [shop] = await bot.say(ALICE, "/shop")
    alert = await tap(bot, GROUP, ALICE, ShopButton(coupon))
    *_, brief = await bot.say(ALICE, "/points")

    assert added.startswith("✅ Added to the shop: #")
    assert "<b>满199减30</b> · 60 points · coupon" in added
    assert shop.startswith("🛍 Points shop: tap to redeem. You have 100 points.")
    code = re.search(r"Your code: (\S+) \(also in /mycoupons\)\. Points left: 40\.", alert)
    assert code is not None, alert
    private = bot.world.delivered(ALICE)
    assert any(code.group(1) in text and "Sunny Tea Club" in text for text in private)
    assert brief == "<b>Alice Liu</b>: 40 points. Your statement is in our private chat."
    statement = bot.world.delivered(ALICE)[-1]
    assert statement.startswith("🧾 <b>Alice Liu</b>'s points in <b>Sunny Tea Club</b>: 40")
    lines = statement.splitlines()
    assert lines[1].endswith("<code>-60</code>  shop: 满199减30")
    assert lines[2] == "2026-11-16  <code>+100</code>  check-in"


async def test_not_enough_points_says_the_balance_and_the_price_in_chinese(bot: Harness):
    await bot.say(OWNER, "/set language zh")
    await bot.say(BOB, "/checkin")  # 10 points
    [added] = await bot.say(ADMIN, "/shop add item 帆布袋 500 3")

    [shop] = await bot.say(BOB, "/shop")
    alert = await tap(bot, GROUP, BOB, ShopButton(item_id(added)))
    *_, brief = await bot.say(BOB, "/points")

    assert added.startswith("✅ 已上架：#")
    assert "<b>帆布袋</b> · 500 积分 · 实物/服务 · 剩 3 件" in added
    assert shop.startswith("🛍 积分商城：点按钮即可兑换。你现有 10 积分。")
    assert alert == "积分不足：你有 10 积分，兑换需要 500 积分。"
    assert brief == "<b>鲍勃</b>：10 积分。先私聊我并点「开始」，即可收到完整的积分明细。"


async def test_the_last_item_sells_once_and_the_operator_sees_who_redeemed_it(bot: Harness):
    await bot.say(ADMIN, "/set checkin_points 100")
    for member in (ALICE, BOB):
        await bot.say(member, "/checkin")
    [added] = await bot.say(ADMIN, "/shop add item Tea mug 30 1")
    mug = item_id(added)
    await bot.say(ALICE, "/shop")

    won = await tap(bot, GROUP, ALICE, ShopButton(mug))
    lost = await tap(bot, GROUP, BOB, ShopButton(mug))
    [orders] = await bot.say(ADMIN, "/shop orders")
    [member_orders] = await bot.say(CAROL, "/shop orders")

    assert won.startswith("🎉 You redeemed Tea mug for 30 points.")
    assert lost == "Sorry, this one is sold out."
    assert "<b>Alice Liu</b>" in orders and f"#{mug} Tea mug · 30 points" in orders
    assert member_orders == "🙏 Sorry, only group admins can do that."


async def test_an_ended_item_and_a_repeat_tap_are_refused_politely(bot: Harness):
    await bot.say(ADMIN, "/set checkin_points 100")
    await bot.say(ALICE, "/checkin")
    [added] = await bot.say(ADMIN, "/shop add item Sticker 10")
    sticker = item_id(added)
    await bot.say(ALICE, "/shop")

    first = await tap(bot, GROUP, ALICE, ShopButton(sticker))
    again = await tap(bot, GROUP, ALICE, ShopButton(sticker))
    [ended] = await bot.say(ADMIN, f"/shop end {sticker}")
    bot.clock.advance(60)
    gone = await tap(bot, GROUP, ALICE, ShopButton(sticker))
    [bad] = await bot.say(ADMIN, "/shop add item Sticker 0")
    [empty] = await bot.say(ALICE, "/shop")

    assert "Points left: 90." in first
    assert again == "You redeemed this a moment ago: once is enough for one tap."
    assert ended == f"✅ Sticker (#{sticker}) is no longer sold."
    assert gone == "This item is no longer in the shop."
    assert bad == "❌ The price must be a whole number of points, e.g. 100."
    assert empty == "🛍 The points shop is empty for now."


async def test_a_makeup_card_that_is_not_needed_costs_nothing(bot: Harness):
    await bot.say(ALICE, "/checkin", at=MONDAY - DAY)
    await bot.say(ALICE, "/checkin", at=MONDAY)
    [added] = await bot.say(ADMIN, "/shop add makeup 5 7")
    await bot.say(ALICE, "/shop")

    alert = await tap(bot, GROUP, ALICE, ShopButton(item_id(added)))
    *_, brief = await bot.say(ALICE, "/points")

    assert "<b>Make-up check-in card</b> · 5 points · restores yesterday's missed check-in" in (
        added
    )
    assert alert.startswith("No need for a make-up card")
    assert "Nothing was spent." in alert
    assert "21 points" in brief


async def test_points_in_a_private_chat_shows_every_groups_statement(bot: Harness):
    await started(bot, ALICE)
    await started(bot, CAROL)
    await bot.say(ALICE, "/checkin", at=dt.datetime(2026, 11, 16, 17, 0, tzinfo=dt.UTC))

    [alice] = await bot.say(ALICE, "/points", chat=ALICE)
    [carol] = await bot.say(CAROL, "/points", chat=CAROL)

    assert alice.splitlines() == [
        "🧾 <b>Alice Liu</b>'s points in <b>Sunny Tea Club</b>: 10 points",
        "2026-11-17  <code>+10</code>  check-in",  # 01:00 on the 17th in Shanghai
    ]
    assert carol == "No points yet: send /checkin in your group to earn the first ones."


async def test_expired_points_leave_with_a_reminder_a_week_before(bot: Harness):
    await bot.say(ADMIN, "/set points_expiry_months 1")
    await started(bot, ALICE)
    await bot.say(ALICE, "/checkin", at=MONDAY - 40 * DAY)  # 7 October: past a month
    await bot.say(ALICE, "/checkin", at=MONDAY - 11 * DAY)  # 5 November: gone on 6 December
    jobs = Jobs(bot.app.bot, bot.app.bot_data.deps, bot.outbox, None)  # type: ignore[arg-type]
    before = len(bot.world.delivered(ALICE))

    await jobs.expire_points()
    await jobs.expire_points()  # the same day again: nothing more
    bot.clock.advance(DAY.total_seconds())
    await jobs.expire_points()  # the next day: still covered by the first reminder
    *_, brief = await bot.say(ALICE, "/points")

    notices = bot.world.delivered(ALICE)[before:]
    assert notices[0] == (
        "⏳ 10 of your points in <b>Sunny Tea Club</b> expire on 2026-12-07. You have 10 "
        "points: spend them in the group's /shop."
    )
    assert len(notices) == 2  # the reminder, then /points' statement
    assert brief == "<b>Alice Liu</b>: 10 points. Your statement is in our private chat."
    assert "<code>-10</code>  expired" in notices[1]
    assert "Points expire 1 month after they were earned, oldest first." in notices[1]


async def test_a_name_with_markup_characters_is_shown_as_typed(bot: Harness):
    await bot.say(ADMIN, "/shop add item Tea & <Co> mug 30")

    [shop] = await bot.say(ALICE, "/shop")

    button = bot.world.sent(GROUP)[-1].params["reply_markup"]["inline_keyboard"][0][0]
    assert button["text"] == "Redeem Tea & <Co> mug (30)"
    assert "<b>Tea &amp; &lt;Co&gt; mug</b> · 30 points" in shop
