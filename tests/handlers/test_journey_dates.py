"""Birthday (/birthday, 生日券) and member day (会员日) through the real handlers, jobs and
outbox, on the group's local calendar (Asia/Shanghai unless a test sets another)."""

from __future__ import annotations

import asyncio
import datetime as dt

from campaigns.coupons import CouponKind, Template
from campaigns.orders import OrderIn
from campaigns.services.coupons import create_offer
from campaigns.services.invite_links import mark_reachable
from campaigns.services.orders import record_order
from tests.handlers.conftest import ADMIN, ALICE, BOB, CAROL, GROUP, NOW, OWNER, Harness
from tests.handlers.test_journeys import jobs_of, offer, tick
from tests.handlers.test_journeys import started as started_bot

UTC = dt.UTC
HOUR = dt.timedelta(hours=1)


def at(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=UTC)


async def started(bot: Harness, *users: int) -> None:
    """Members who spoke in the group and started the bot privately."""
    for user in users:
        await bot.say(user, "hi", at=NOW)
    await bot.flush()
    await started_bot(bot, *users)


def private(bot: Harness, user: int, word: str) -> list[str]:
    return [t for t in bot.world.shown(user) if word in t]


async def birthday(bot: Harness, user: int, text: str, when: dt.datetime = NOW) -> str:
    [reply] = await bot.say(user, text, at=when, chat=user)
    return reply


async def replying(bot: Harness, admin: int, text: str, to: int) -> list[str]:
    said = bot.world.message(GROUP, to, "hi there", at=NOW)["message"]
    return await bot.send(bot.world.message(GROUP, admin, text, at=NOW, reply_to_message=said))


# --- /birthday ---------------------------------------------------------------------------


async def test_a_birthday_is_set_once_privately_and_only_an_admin_clears_it(bot: Harness):
    await started(bot, ALICE, BOB)
    [in_group] = await bot.say(ALICE, "/birthday 03-05", at=NOW)
    none_yet = await birthday(bot, ALICE, "/birthday")
    bad = await birthday(bot, ALICE, "/birthday 02-30")
    saved = await birthday(bot, ALICE, "/birthday 3月5日")
    again = await birthday(bot, ALICE, "/birthday 04-01")
    shown = await birthday(bot, ALICE, "/birthday")
    [not_admin] = await replying(bot, CAROL, "/birthday clear", to=ALICE)
    [no_reply] = await bot.say(ADMIN, "/birthday clear", at=NOW)
    [cleared] = await replying(bot, ADMIN, "/birthday clear", to=ALICE)
    [nothing] = await replying(bot, ADMIN, "/birthday clear", to=ALICE)
    reset = await birthday(bot, ALICE, "/birthday 04-01")
    bot.world.start_private(ADMIN)
    [clear_in_private] = await bot.say(ADMIN, "/birthday clear", at=NOW, chat=ADMIN)

    assert "In the group, reply to a message of the member" in clear_in_private
    assert "send it to me privately" in in_group
    assert "You have not told me your birthday yet" in none_yet
    assert "not a date I can read" in bad
    assert saved.startswith("🎂 Saved: March 5.") and "from 2027 on" in saved
    assert "already set: March 5" in again and "an admin of your group can clear it" in again
    assert "Your birthday: March 5" in shown
    assert "only group admins" in not_admin
    assert "reply to a message of the member" in no_reply
    assert "<b>Alice Liu</b>'s birthday is cleared" in cleared and "March" not in cleared
    assert "has not set a birthday" in nothing
    assert "Saved: April 1." in reset


async def test_a_birthday_speaks_chinese_and_30_days_before_it_waits_a_year(bot: Harness):
    await started(bot, BOB)
    saved = await birthday(bot, BOB, "/birthday 12-20")  # 20 days before it: from 2027
    await bot.say(OWNER, "/set language zh", at=NOW)
    [in_group] = await bot.say(BOB, "/birthday 12-20", at=NOW)

    assert "已保存：12月20日" in saved and "从 2027 年起" in saved
    assert "请私聊发给我" in in_group


# --- the birthday journey ----------------------------------------------------------------


async def birthday_journey(bot: Harness, *, gift: bool = True, hour: int | None = 0) -> None:
    """The birthday journey on (from local midnight unless `hour` says otherwise; None: the
    default hour)."""
    if hour is not None:
        await bot.say(ADMIN, f"/journey set birthday hour {hour}", at=NOW)
    if gift:
        await bot.say(
            ADMIN, f"/journey set birthday offer {await offer(bot, '生日礼 ¥10')}", at=NOW
        )
    [on] = await bot.say(ADMIN, "/journey on birthday", at=NOW)
    assert on.startswith("🟢 <b>Birthday coupon (生日券)</b> is on.")


async def test_the_birthday_coupon_comes_at_local_midnight_once_a_year(bot: Harness):
    await started(bot, ALICE, BOB)
    await birthday_journey(bot)
    await birthday(bot, ALICE, "/birthday 01-10")  # 41 days ahead: it counts in 2027
    await birthday(bot, BOB, "/birthday 01-11")

    await tick(bot, at(2027, 1, 9, 15, 55))  # 23:55 on the 9th in Shanghai
    before = private(bot, ALICE, "Happy birthday")
    await tick(bot, at(2027, 1, 9, 16, 5))  # 00:05 on the 10th in Shanghai, still the 9th UTC
    await tick(bot, at(2027, 1, 9, 17, 5))  # a rerun the same day
    await tick(bot, at(2027, 1, 10, 12, 0))
    this_year = private(bot, ALICE, "Happy birthday")
    await tick(bot, at(2028, 1, 9, 16, 5))  # a year later

    assert before == []
    [message] = this_year
    assert message.startswith("🎂 Happy birthday, <b>Alice Liu</b>! <b>Sunny Tea Club</b>")
    assert "生日礼 ¥10, code <code>" in message
    assert len(private(bot, ALICE, "Happy birthday")) == 2
    assert private(bot, BOB, "生日快乐") == []  # his is the 11th


async def test_by_default_the_greeting_waits_for_ten_in_the_morning_local_time(bot: Harness):
    await started(bot, ALICE)
    await birthday_journey(bot, hour=None)
    await birthday(bot, ALICE, "/birthday 01-10")

    await tick(bot, at(2027, 1, 9, 16, 5))  # 00:05 on the 10th in Shanghai
    night = private(bot, ALICE, "Happy birthday")
    await tick(bot, at(2027, 1, 10, 2, 5))  # 10:05 in Shanghai

    assert night == []
    assert len(private(bot, ALICE, "Happy birthday")) == 1


async def test_a_utc_group_sends_it_at_utc_midnight_in_the_members_language(bot: Harness):
    await started(bot, BOB)
    await bot.say(OWNER, "/set timezone UTC", at=NOW)
    await birthday_journey(bot, gift=False)
    await birthday(bot, BOB, "/birthday 01-10")

    await tick(bot, at(2027, 1, 9, 16, 5))  # the 10th in Shanghai, not in UTC
    early = private(bot, BOB, "生日快乐")
    await tick(bot, at(2027, 1, 10, 0, 5))

    assert early == []
    [message] = private(bot, BOB, "生日快乐")
    assert message == (
        "🎂 <b>鲍勃</b>，生日快乐！<b>Sunny Tea Club</b> 祝你度过美好的一天。\n\n"
        "<i>自动消息 · 发送 /unsubscribe 退订</i>"
    )


async def test_a_birthday_set_in_december_for_january_waits_a_year(bot: Harness):
    await started(bot, ALICE)
    await birthday_journey(bot)
    saved = await birthday(bot, ALICE, "/birthday 01-05", at(2026, 12, 20, 4))

    await tick(bot, at(2027, 1, 4, 16, 30))  # 5 January in Shanghai: too soon after setting it
    waited = private(bot, ALICE, "Happy birthday")
    await tick(bot, at(2028, 1, 4, 16, 30))

    assert "from 2028 on" in saved
    assert waited == []
    assert len(private(bot, ALICE, "Happy birthday")) == 1


async def test_a_29_february_birthday_is_kept_on_the_28th_in_a_common_year(bot: Harness):
    await started(bot, ALICE)
    await birthday_journey(bot)
    await birthday(bot, ALICE, "/birthday 02-29")

    await tick(bot, at(2027, 2, 27, 16, 30))  # 28 February 2027 in Shanghai
    await tick(bot, at(2027, 2, 28, 16, 30))  # 1 March

    assert len(private(bot, ALICE, "Happy birthday")) == 1


# --- member day --------------------------------------------------------------------------


async def member_day(bot: Harness, *commands: str) -> None:
    for command in ("/journey set member_day day 15", *commands, "/journey on member_day"):
        await bot.say(ADMIN, command, at=NOW)


async def test_the_member_day_listing_reads_in_both_languages(bot: Harness):
    [unset] = await bot.say(ADMIN, "/journey", at=NOW)
    [monthly] = await bot.say(ADMIN, "/journey set member_day day 15", at=NOW)
    [weekly] = await bot.say(ADMIN, "/journey set member_day day 周六", at=NOW)
    await bot.say(ADMIN, "/journey set member_day multiplier 3", at=NOW)
    await bot.say(OWNER, "/set language zh", at=NOW)
    [listing] = await bot.say(ADMIN, "/journey", at=NOW)
    [zh_monthly] = await bot.say(ADMIN, "/journey set member_day day 15", at=NOW)

    assert "Every month on day 15: ×2 points on check-ins and orders" in monthly
    assert "Every Saturday: ×2 points" in weekly
    assert "每周六：签到和下单积分 ×3，10:00 发布公告。" in listing
    assert "每月 15 日：签到和下单积分 ×3" in zh_monthly
    # no day yet: once "Every (day not set: …): ×2 points …" (每（未设置日期：…）)
    assert "No day set yet (/journey set member_day day 15): then ×2 points" in unset
    assert "Every (" not in unset


async def test_check_ins_on_the_local_member_day_are_multiplied(bot: Harness):
    await member_day(bot)
    [shanghai_14th] = await bot.say(BOB, "签到", at=at(2026, 12, 14, 15, 30))  # 23:30 local
    [shanghai_15th] = await bot.say(ALICE, "签到", at=at(2026, 12, 14, 23, 30))  # 07:30 local
    [shanghai_16th] = await bot.say(CAROL, "签到", at=at(2026, 12, 15, 16, 30))  # 00:30 local

    assert "balance 10" in shanghai_14th and "member day" not in shanghai_14th
    assert "+10 member day ×2" in shanghai_15th and "balance 20" in shanghai_15th
    assert "member day" not in shanghai_16th and "balance 10" in shanghai_16th


async def test_order_points_on_the_member_day_are_multiplied_on_top_of_the_tier(bot: Harness):
    await bot.say(OWNER, "/set order_points 1", at=NOW)
    await member_day(bot, "/journey set member_day multiplier 1.5")
    await bot.say(ALICE, "hello", at=NOW)
    await bot.say(BOB, "你好", at=NOW)
    await bot.flush()

    async def order(key: str, who: int, when: dt.datetime) -> int:
        placed = OrderIn(external_id=key, member=who, amount="20", at=when)  # type: ignore[arg-type]
        result = await record_order(
            bot.app.bot_data.deps.uow(), placed, chat_id=GROUP, source="test", received_at=when
        )
        return result.points

    assert await order("A-1", ALICE, at(2026, 12, 14, 23, 30)) == 30  # the 15th in Shanghai
    assert await order("B-1", BOB, at(2026, 12, 14, 15, 30)) == 20  # still the 14th there


async def test_the_member_day_is_announced_once_with_a_gift_for_each_member(bot: Harness):
    await started(bot, ALICE, BOB)
    gift = await offer(bot, "会员日礼 ¥5")
    await member_day(bot, f"/journey set member_day offer {gift}", "/journey set member_day hour 9")
    await bot.say(CAROL, "hi", at=NOW)  # never started the bot: no private gift

    await tick(bot, at(2026, 12, 15, 0, 55))  # 08:55 in Shanghai: before the hour
    early = [t for t in bot.world.shown(GROUP) if "Today is member day" in t]
    await tick(bot, at(2026, 12, 15, 1, 5))
    await tick(bot, at(2026, 12, 15, 3, 0))  # a rerun
    [report] = await bot.say(ADMIN, "/journey report member_day", at=at(2026, 12, 15, 3, 1))

    assert early == []
    [announced] = [t for t in bot.world.shown(GROUP) if "Today is member day" in t]
    assert announced.startswith("🎉 Today is member day (会员日)! ×2 points")
    [alice] = private(bot, ALICE, "member day")
    assert "And a member-day gift for you, <b>Alice Liu</b>" in alice and "会员日礼 ¥5" in alice
    [bob] = private(bot, BOB, "会员日")
    assert "今天是 <b>Sunny Tea Club</b> 的会员日" in bob and "鲍勃" in bob
    assert "Entered the journey: 2" in report


async def test_a_weekly_member_day_follows_the_local_weekday(bot: Harness):
    await bot.say(ADMIN, "/journey set member_day day sat", at=NOW)
    await bot.say(ADMIN, "/journey on member_day", at=NOW)
    await bot.say(OWNER, "/set language zh", at=NOW)

    await tick(bot, at(2026, 12, 4, 23, 0))  # Friday 23:00 UTC: Saturday 07:00 in Shanghai
    early = [t for t in bot.world.shown(GROUP) if "今天是会员日" in t]
    await tick(bot, at(2026, 12, 5, 2, 30))  # Saturday 10:30 in Shanghai

    assert early == []
    [announced] = [t for t in bot.world.shown(GROUP) if "今天是会员日" in t]
    assert announced.startswith("🎉 今天是会员日！签到和下单积分 ×2")


async def test_members_held_out_of_the_member_day_gift_are_recorded_not_messaged(bot: Harness):
    world = bot.world
    members = list(range(700, 740))
    for user in members:
        world.add_user(user, f"M{user}", language_code="en")
        world.set_status(GROUP, user, "member")
        await bot.say(user, "hi", at=NOW)
    await bot.flush()
    for user in members:
        world.start_private(user)
        await mark_reachable(bot.app.bot_data.deps.uow(), user, True)
    gift = await offer(bot)
    await member_day(
        bot, f"/journey set member_day offer {gift}", "/journey set member_day holdout 50"
    )

    await tick(bot, at(2026, 12, 15, 2, 30))
    [report] = await bot.say(ADMIN, "/journey report member_day", at=at(2026, 12, 15, 3))

    messaged = [u for u in members if any("member day" in t for t in world.shown(u))]
    assert 5 <= len(messaged) <= 35
    n, held = len(messaged), len(members) - len(messaged)
    assert f"Messaged: {n} (delivered {n}) · held out: {held}" in report


async def test_member_day_gifts_can_go_to_a_tier_and_above(bot: Harness):
    await started(bot, ALICE, BOB)
    gift = await offer(bot, "VIP 会员日礼")
    [unknown] = await bot.say(ADMIN, "/journey set member_day tier Gold", at=NOW)
    await member_day(bot, f"/journey set member_day offer {gift}")
    [saved] = await bot.say(ADMIN, "/journey set member_day tier vip", at=NOW)
    await replying(bot, ADMIN, "/tier set VIP", to=ALICE)

    await tick(bot, at(2026, 12, 15, 2, 30))

    assert (
        "There is no tier <code>Gold</code> in this group. Its tiers: Regular, Premium, VIP."
        in unknown
    )
    assert "gifts for tier vip and above" in saved
    assert len(private(bot, ALICE, "VIP 会员日礼")) == 1
    assert private(bot, BOB, "会员日") == []
    assert len([t for t in bot.world.shown(GROUP) if "Today is member day" in t]) == 1


async def test_two_processes_running_the_journeys_at_once_take_each_step_once(
    bot: Harness, database_url: str
):
    await started(bot, ALICE)
    await birthday_journey(bot)
    await birthday(bot, ALICE, "/birthday 01-10")
    gift = await offer(bot, "会员日礼 ¥5")
    await bot.say(ADMIN, "/journey set member_day day 10", at=NOW)
    await bot.say(ADMIN, f"/journey set member_day offer {gift}", at=NOW)
    await bot.say(ADMIN, "/journey on member_day", at=NOW)
    await bot.flush()
    bot.clock.advance((at(2027, 1, 10, 2, 30) - bot.clock.now()).total_seconds())

    one, two = jobs_of(bot), jobs_of(bot)
    if database_url.startswith("sqlite"):  # one writer at a time: in turn
        await one.journeys()
        await two.journeys()
    else:
        await asyncio.gather(one.journeys(), two.journeys())
    await bot.drain()

    assert len(private(bot, ALICE, "Happy birthday")) == 1
    assert len(private(bot, ALICE, "会员日礼 ¥5")) == 1
    assert len([t for t in bot.world.shown(GROUP) if "Today is member day" in t]) == 1


async def test_a_member_day_gift_that_ran_out_sends_no_empty_message(bot: Harness):
    await started(bot, ALICE)
    once = await create_offer(
        bot.app.bot_data.deps.uow(), chat_id=GROUP, name="会员日礼 ¥5",
        template=Template(CouponKind.FIXED, value=500, min_spend=0, valid_days=7),
        stock=None, per_member=1, at=NOW,
    )  # fmt: skip
    await bot.say(ADMIN, "/journey set member_day day sat", at=NOW)
    await bot.say(ADMIN, f"/journey set member_day offer {once.id}", at=NOW)
    await bot.say(ADMIN, "/journey on member_day", at=NOW)

    await tick(bot, at(2026, 12, 5, 3, 0))  # Saturday 11:00 in Shanghai: the gift
    await tick(bot, at(2026, 12, 12, 3, 0))  # the next Saturday: her one coupon is used up

    [gift] = private(bot, ALICE, "member day")
    assert "会员日礼 ¥5" in gift
    assert len([t for t in bot.world.shown(GROUP) if "Today is member day" in t]) == 2


async def test_joining_on_ones_birthday_earns_no_gift_that_day(bot: Harness):
    bot.world.add_user(51, "Nia", language_code="en")
    await birthday_journey(bot)
    await started_bot(bot, 51)
    await birthday(bot, 51, "/birthday 01-10")  # 41 days ahead: it counts in 2027
    await bot.send(bot.world.join_message(GROUP, [51], at=at(2027, 1, 9, 0, 0)))
    await bot.flush()

    await tick(bot, at(2027, 1, 10, 3, 0))  # her birthday in Shanghai, a day after joining

    assert private(bot, 51, "Happy birthday") == []
