"""/shop, its Redeem buttons, /shop add|end|orders, /points, the expiry reminder and notice,
and the admins' note of an order, as members and admins read them, in English and Chinese."""

import datetime as dt
import re

import pytest

from bot.jobs import Jobs
from campaigns.coupons import CouponKind, Template
from campaigns.services.coupons import create_offer
from handlers.callbacks import ShopButton
from tests.handlers.conftest import ADMIN, ALICE, BOB, CAROL, GROUP, OWNER, Harness, tap

DAY = dt.timedelta(days=1)
WANG = 30  # an admin who reads Chinese


def jobs_of(bot: Harness) -> Jobs:
    return Jobs(bot.app.bot, bot.app.bot_data.deps, bot.outbox, None)  # type: ignore[arg-type]


async def expiry_days(bot: Harness, member: int, days: int) -> dict[str, list[str]]:
    """The hourly expiry job once a day for `days` days from the clock's day: what reached
    the member privately each day (days with nothing left out)."""
    jobs, seen, told = jobs_of(bot), len(bot.world.delivered(member)), {}
    for _ in range(days):
        await jobs.expire_points()
        new = bot.world.delivered(member)[seen:]
        seen += len(new)
        if new:
            told[bot.clock.now().date().isoformat()] = new
        bot.clock.advance(DAY.total_seconds())
    return told


async def started(bot: Harness, user: int) -> None:
    bot.world.start_private(user)
    await bot.say(user, "/start", chat=user)


def item_id(reply: str) -> int:
    found = re.search(r"#(\d+)", reply)
    assert found is not None, reply
    return int(found.group(1))


async def offer_id(
    bot: Harness, name: str = "满199减30", valid_from: dt.datetime | None = None
) -> int:
    d = bot.app.bot_data.deps
    offer = await create_offer(
        d.uow(), chat_id=GROUP, name=name,
        template=Template(
            CouponKind.FIXED, value=3000, min_spend=19900, valid_days=7, valid_from=valid_from
        ),
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
    [added] = await bot.say(ADMIN, "/shop add item 帆布袋 | 500 | 3")

    [shop] = await bot.say(BOB, "/shop")
    alert = await tap(bot, GROUP, BOB, ShopButton(item_id(added)))
    *_, brief = await bot.say(BOB, "/points")

    assert added.startswith("✅ 已上架：#")
    assert "<b>帆布袋</b> · 500 积分 · 实物/服务 · 剩 3 件" in added
    assert shop.startswith("🛍 积分商城：点按钮即可兑换。你现有 10 积分。")
    assert alert == "积分不足：你有 10 积分，兑换需要 500 积分。"
    assert brief == "<b>鲍勃</b>：10 积分。先私聊我并点「开始」，即可收到完整的积分明细。"


async def test_the_last_item_sells_once_and_the_admins_are_told_who_redeemed_it(bot: Harness):
    await bot.say(ADMIN, "/set checkin_points 100")
    await started(bot, ADMIN)  # the owner never started the bot: no note for them
    for member in (ALICE, BOB):
        await bot.say(member, "/checkin")
    [added] = await bot.say(ADMIN, "/shop add item Tea mug | 30 | 1")
    mug = item_id(added)
    await bot.say(ALICE, "/shop")
    notes = len(bot.world.delivered(ADMIN))

    won = await tap(bot, GROUP, ALICE, ShopButton(mug))
    lost = await tap(bot, GROUP, BOB, ShopButton(mug))
    [orders] = await bot.say(ADMIN, "/shop orders")
    [member_orders] = await bot.say(CAROL, "/shop orders")

    assert won.startswith("🎉 You redeemed Tea mug for 30 points.")
    assert lost == "Sorry, this one is sold out."
    assert bot.world.delivered(ADMIN)[notes:] == [
        "🛍 Order 1 in <b>Sunny Tea Club</b>: <b>Alice Liu</b> (<code>5000000123</code>) "
        "redeemed Tea mug for 30 points. Please hand it over; /shop orders lists the orders."
    ]
    assert bot.world.delivered(OWNER) == []
    assert orders.splitlines() == [
        "📦 Custom items (the group's team hands them over), newest first",
        f"order 1 · 11-30 10:00 · <b>Alice Liu</b> (<code>5000000123</code>) · #{mug} Tea mug "
        "· 30 points",
    ]
    assert member_orders == "🙏 Sorry, only group admins can do that."


async def test_a_chinese_admin_hears_of_a_custom_item_and_orders_list_it_apart(bot: Harness):
    bot.world.add_user(WANG, "王", language_code="zh-hans")
    bot.world.set_status(GROUP, WANG, "administrator")
    await started(bot, WANG)
    await bot.say(OWNER, "/set language zh")
    await bot.say(ADMIN, "/set checkin_points 100")
    await bot.say(ALICE, "/checkin")
    [coupon] = await bot.say(ADMIN, f"/shop add coupon {await offer_id(bot)} 20")
    [bag] = await bot.say(ADMIN, "/shop add item 帆布袋 | 30")
    await bot.say(ALICE, "/shop")
    notes = len(bot.world.delivered(WANG))

    await tap(bot, GROUP, ALICE, ShopButton(item_id(coupon)))  # the bot hands a coupon over
    bot.clock.advance(60)
    await tap(bot, GROUP, ALICE, ShopButton(item_id(bag)))
    [orders] = await bot.say(WANG, "/shop orders")

    assert bot.world.delivered(WANG)[notes:] == [
        "🛍 <b>Sunny Tea Club</b> 的订单 2：<b>Alice Liu</b>（<code>5000000123</code>）用 30 积分"
        "兑换了 帆布袋。请为其发放；/shop orders 可查看全部订单。"
    ]
    lines = orders.splitlines()
    assert lines[0] == "📦 实物/服务兑换（由群管理员发放，最新在前）"
    assert lines[1].startswith("订单 2 · 11-30 10:01 · <b>Alice Liu</b>")
    assert lines[2] == "🎟 优惠券和补签卡（已由机器人自动发放）"
    assert lines[3].startswith("订单 1 · 11-30 10:00 · <b>Alice Liu</b>")
    assert "满199减30 · 20 积分 <code>" in lines[3]


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
    assert again == "You redeemed this a moment ago; this second tap spent nothing."
    assert ended == f"✅ Sticker (#{sticker}) is no longer sold."
    assert gone == "This item is no longer in the shop."
    assert bad == "❌ The price must be a whole number of points, e.g. 100."
    assert empty == "🛍 The points shop is empty for now."


async def test_a_makeup_card_restores_only_a_lone_missed_yesterday_and_says_why_not(
    bot: Harness,
):
    await bot.say(ADMIN, "/set checkin_points 100")
    [added] = await bot.say(ADMIN, "/shop add makeup 5 7")
    card = item_id(added)
    assert "at most one every 7 days" in added  # the admin and members see the limit up front
    for day in (27, 28):  # the clock's today is 30 November: Alice missed the 29th only
        await bot.say(ALICE, "/checkin", at=dt.datetime(2026, 11, day, 2, tzinfo=dt.UTC))
    await bot.say(BOB, "/checkin", at=dt.datetime(2026, 11, 29, 2, tzinfo=dt.UTC))
    await bot.say(CAROL, "/checkin", at=dt.datetime(2026, 11, 26, 2, tzinfo=dt.UTC))
    await bot.say(ALICE, "/shop")

    restored = await tap(bot, GROUP, ALICE, ShopButton(card))
    not_needed = await tap(bot, GROUP, BOB, ShopButton(card))
    too_late = await tap(bot, GROUP, CAROL, ShopButton(card))
    [me] = await bot.say(ALICE, "/me", at=bot.clock.now())
    *_, brief = await bot.say(BOB, "/points")

    assert "<b>Make-up check-in card</b> · 5 points · restores yesterday's missed check-in" in (
        added
    )
    assert restored == (
        "🎉 Yesterday's check-in is restored: your streak is 3 days. Points left: 196."
    )
    assert "🔥 Streak: 3 days" in me
    assert not_needed == (
        "No need for a make-up card: yesterday's check-in is there. Nothing was spent."
    )
    assert too_late == (
        "A make-up card restores yesterday only when it is the one day missed; your last "
        "check-in was on 2026-11-26. Nothing was spent."
    )
    assert "100 points" in brief


async def test_a_makeup_card_after_two_missed_days_says_so_in_chinese(bot: Harness):
    await bot.say(OWNER, "/set language zh")
    [added] = await bot.say(ADMIN, "/shop add makeup 5")
    await bot.say(BOB, "/checkin", at=dt.datetime(2026, 11, 27, 2, tzinfo=dt.UTC))
    await bot.say(BOB, "/shop")

    alert = await tap(bot, GROUP, BOB, ShopButton(item_id(added)))

    assert alert == (
        "补签卡只在你仅漏签了昨天一天时补回昨天的签到；你上次签到是在 2026-11-27。未扣除积分。"
    )


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


REMINDED = {
    "en": (
        "⏳ 10 of your points in <b>Sunny Tea Club</b> are usable until 2026-12-03, 10 more "
        "until 2026-12-08 at the latest; then they expire. You have 20 points."
    ),
    "zh": (
        "⏳ 你在 <b>Sunny Tea Club</b> 的 10 积分可使用至 2026-12-03，另有 10 积分最晚可使用至 "
        "2026-12-08，之后过期。你现有 20 积分，可在群里用 /shop 兑换。"
    ),
}
EXPIRED = {
    "en": (
        "⌛ 10 of your points in <b>Sunny Tea Club</b> expired today (points last 1 month). "
        "You have 10 points left."
    ),
    "zh": (
        "⌛ 你在 <b>Sunny Tea Club</b> 的 10 积分今天已过期（积分有效期 1 个月）。你还有 10 积分。"
    ),
}


@pytest.mark.parametrize("language", ["en", "zh"])
async def test_the_reminder_says_the_last_day_points_are_usable_and_the_member_hears_they_went(
    bot: Harness, language: str
):
    member = ALICE if language == "en" else BOB  # private messages in the member's language
    await bot.say(ADMIN, "/set points_expiry_months 1")  # 16 November: its grace is long over
    if language == "zh":
        await bot.say(OWNER, "/set language zh")
        await bot.say(ADMIN, "/shop add item 帆布袋 | 500")  # something to spend them on
    await started(bot, member)
    await bot.say(member, "/checkin", at=dt.datetime(2026, 11, 3, 2, tzinfo=dt.UTC))  # gone 4 Dec
    await bot.say(member, "/checkin", at=dt.datetime(2026, 11, 8, 2, tzinfo=dt.UTC))  # gone 9 Dec

    told = await expiry_days(bot, member, 11)  # 30 November to 10 December
    *_, brief = await bot.say(member, "/points", at=bot.clock.now())

    assert told == {  # the 9th's points were in the first reminder's week: no second notice
        "2026-11-30": [REMINDED[language]],
        "2026-12-04": [EXPIRED[language]],
    }
    assert ("0 points" if language == "en" else "0 积分") in brief


GRACE = {
    "en": (
        "✅ <code>points_expiry_months</code> is now <code>1</code>.\n"
        "⏳ Points earned before 2026-11-07 stay usable until 2026-12-06, a week for members "
        "to spend them (those who started the bot are reminded privately). Later points "
        "expire 1 month after they were earned."
    ),
    "zh": (
        "✅ <code>points_expiry_months</code> 已改为 <code>1</code>。\n"
        "⏳ 2026-11-07 之前获得的积分可使用至 2026-12-06，给成员一周时间使用（已私聊启动机器人的"
        "成员会收到提醒）。之后获得的积分在获得 1 个月后过期。"
    ),
}
GRACE_REMINDED = {
    "en": (
        "⏳ 20 of your points in <b>Sunny Tea Club</b> are usable until 2026-12-06; then they "
        "expire. You have 20 points."
    ),
    "zh": "⏳ 你在 <b>Sunny Tea Club</b> 的 20 积分可使用至 2026-12-06，之后过期。你现有 20 积分。",
}


@pytest.mark.parametrize("language", ["en", "zh"])
async def test_turning_expiry_on_takes_old_points_only_after_a_week_and_says_so(
    bot: Harness, language: str
):
    member = ALICE if language == "en" else BOB
    if language == "zh":
        await bot.say(OWNER, "/set language zh")
    await started(bot, member)
    await bot.say(member, "/checkin", at=dt.datetime(2025, 11, 3, 2, tzinfo=dt.UTC))
    await bot.say(member, "/checkin", at=dt.datetime(2026, 9, 3, 2, tzinfo=dt.UTC))

    [turned_on] = await bot.say(ADMIN, "/set points_expiry_months 1", at=bot.clock.now())
    told = await expiry_days(bot, member, 8)  # 30 November to 7 December

    assert turned_on == GRACE[language]
    assert told == {
        "2026-11-30": [GRACE_REMINDED[language]],  # nothing taken at once
        "2026-12-07": [
            EXPIRED[language].replace("10", "20", 1).replace("10", "0")  # all 20, none left
        ],
    }


async def test_a_name_with_markup_characters_is_shown_as_typed(bot: Harness):
    await bot.say(ADMIN, "/shop add item Tea & <Co> mug 30")

    [shop] = await bot.say(ALICE, "/shop")

    button = bot.world.sent(GROUP)[-1].params["reply_markup"]["inline_keyboard"][0][0]
    assert button["text"] == "Redeem Tea & <Co> mug (30)"
    assert "<b>Tea &amp; &lt;Co&gt; mug</b> · 30 points" in shop


@pytest.mark.parametrize(
    ("language", "refused", "added"),
    [
        (
            "en",
            "❌ Which number is the price? Separate the name, the price and the stock with |:\n"
            "<code>/shop add item iPhone 15 | 100</code> (name | price)\n"
            "<code>/shop add item iPhone | 15 | 100</code> (name | price | stock)",
            "<b>iPhone 15</b> · 100 points · item · 3 left",
        ),
        (
            "zh",
            "❌ 哪个数字是价格？请用 | 分隔名称、价格和库存：\n"
            "<code>/shop add item iPhone 15 | 100</code>（名称 | 价格）\n"
            "<code>/shop add item iPhone | 15 | 100</code>（名称 | 价格 | 库存）",
            "<b>iPhone 15</b> · 100 积分 · 实物/服务 · 剩 3 件",
        ),
    ],
)
async def test_a_name_with_a_number_needs_bars_to_tell_the_price(
    bot: Harness, language: str, refused: str, added: str
):
    if language == "zh":
        await bot.say(OWNER, "/set language zh")

    [ambiguous] = await bot.say(ADMIN, "/shop add item iPhone 15 100")
    [with_bars] = await bot.say(ADMIN, "/shop add item iPhone 15 | 100 | 3")
    [usage] = await bot.say(ADMIN, "/shop add")

    assert ambiguous == refused
    assert added in with_bars
    assert "/shop add item iPhone 15 | 5000 | 3" in usage


@pytest.mark.parametrize(
    ("language", "said"),
    [
        (
            "en",
            "This coupon is not available yet: redeem it from 2026-12-03 10:00. Nothing was spent.",
        ),
        ("zh", "这张优惠券还未开放兑换：请于 2026-12-03 10:00 起兑换。未扣除积分。"),
    ],
)
async def test_a_coupon_whose_offer_has_not_started_is_not_available_yet(
    bot: Harness, language: str, said: str
):
    if language == "zh":
        await bot.say(OWNER, "/set language zh")
    await bot.say(ALICE, "/checkin")
    opens = bot.clock.now() + 3 * DAY
    [added] = await bot.say(ADMIN, f"/shop add coupon {await offer_id(bot, valid_from=opens)} 5")
    await bot.say(ALICE, "/shop")

    alert = await tap(bot, GROUP, ALICE, ShopButton(item_id(added)))
    *_, brief = await bot.say(ALICE, "/points")

    assert alert == said
    assert "10" in brief  # nothing spent


async def test_the_longest_names_still_fit_the_alert_with_the_code_and_the_balance(bot: Harness):
    await bot.say(ADMIN, "/set checkin_points 10000")
    await bot.say(ALICE, "/checkin")
    name = "満" * 64
    [coupon] = await bot.say(ADMIN, f"/shop add coupon {await offer_id(bot, name)} 9999")
    [mug] = await bot.say(ADMIN, "/shop add item " + "&" * 64 + " | 1")
    await bot.say(ALICE, "/shop")

    with_code = await tap(bot, GROUP, ALICE, ShopButton(item_id(coupon)))
    custom = await tap(bot, GROUP, ALICE, ShopButton(item_id(mug)))

    assert len(with_code) <= 200 and len(custom) <= 200  # Telegram's limit for an alert
    assert re.search(r"Your code: \S+ \(also in /mycoupons\)\. Points left: \d+\.$", with_code)
    assert custom.startswith("🎉 You redeemed " + "&" * 64 + " for 1 point. The group's team")


async def test_only_a_present_member_on_the_shop_message_redeems(bot: Harness):
    await bot.say(ADMIN, "/set checkin_points 100")
    for member in (ALICE, BOB):
        await bot.say(member, "/checkin")
    bot.world.add_user(777, "Stranger", language_code="en")
    [added] = await bot.say(ADMIN, "/shop add item Mug | 10 | 5")
    mug = item_id(added)
    await bot.say(ALICE, "/shop")
    await bot.send(bot.world.member_update(GROUP, BOB, "left"))

    elsewhere = await tap(bot, GROUP, ALICE, ShopButton(mug), fresh=True)
    left = await tap(bot, GROUP, BOB, ShopButton(mug))
    stranger = await tap(bot, GROUP, 777, ShopButton(mug))
    [orders] = await bot.say(ADMIN, "/shop orders")

    assert elsewhere == "This button doesn't belong here. Use the button on the bot's own post."
    member_only = "🙏 This is for members of the group. Join the group first, then try again."
    assert left == member_only and stranger == member_only
    assert orders == "No redemptions yet."


async def test_an_emoji_name_still_fits_the_alert_and_the_order_still_reaches_the_admins(
    bot: Harness,
):
    """Telegram counts an alert's 200 characters in UTF-16: 64 × 🎁 is 128 of them, and the
    answer around it went over. The points are spent: the private record and the admins'
    order note must go out whatever happens to the alert."""
    await started(bot, ALICE)
    await started(bot, ADMIN)
    await bot.say(ADMIN, "/set checkin_points 1000")
    await bot.say(ALICE, "/checkin")
    [added] = await bot.say(ADMIN, f"/shop add item {'🎁' * 64} | 1 | 5")
    await bot.say(ALICE, "/shop")
    before = len(bot.world.delivered(ADMIN))

    alert = await tap(bot, GROUP, ALICE, ShopButton(item_id(added)))

    answer = [c for c in bot.world.calls if c.method == "answerCallbackQuery"][-1]
    assert answer.status == 200 and alert.endswith("…")
    assert len(alert.encode("utf-16-le")) // 2 <= 200
    assert any("🎁" in note for note in bot.world.delivered(ADMIN)[before:])


async def test_the_shop_sells_at_most_twenty_items_so_one_message_shows_them_all(bot: Harness):
    for i in range(20):
        await bot.say(ADMIN, f"/shop add item Item {i:02d} {'x' * 54} | {100 + i} | 9")
        bot.clock.advance(4)
    bot.clock.advance(120)

    [refused] = await bot.say(ADMIN, "/shop add item One more | 5")
    bot.clock.advance(120)
    [shop] = await bot.say(ALICE, "/shop")

    assert "already sells 20 items" in refused and "/shop end" in refused
    assert len(shop) <= 4096 and shop.count("Item ") == 20


async def test_private_points_send_each_groups_statement_on_its_own(bot: Harness):
    other, other_owner = -1001500000009, 40
    w = bot.world
    w.add_user(other_owner, "Otto", language_code="en")
    w.add_group(other, "Other Club", owner=other_owner)
    w.set_status(other, ALICE, "member")
    await bot.send(w.add_bot(other, by=other_owner, at=bot.clock.now() - DAY))
    await started(bot, ALICE)
    for chat, admin in ((GROUP, ADMIN), (other, other_owner)):
        await bot.say(admin, "/set checkin_points 15", chat=chat)
        await bot.say(ALICE, "/checkin", chat=chat)
        bot.clock.advance(60)

    replies = await bot.say(ALICE, "/points", chat=ALICE)

    assert len(replies) == 2
    assert "Sunny Tea Club" in replies[0] and "Other Club" in replies[1]
