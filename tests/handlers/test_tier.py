"""/tier and the tier line of /me as members and admins read them, in English and Chinese."""

import datetime as dt
from zoneinfo import ZoneInfo

from sqlalchemy import select, update

from bot.jobs import Jobs
from storage.models import MembershipRow
from tests.handlers.conftest import ADMIN, ALICE, BOB, CAROL, GROUP, MONDAY, OWNER, Harness

DAY = dt.timedelta(days=1)
LOW_LADDER = "/tier setup 普通 | 银 points=15 x=1.5 reward=10 title=银卡 | 金 points=1000"


async def started(bot: Harness, user: int) -> None:
    """The member opened a private chat with the bot: private notices may reach them."""
    bot.world.start_private(user)
    await bot.say(user, "/start", chat=user)


async def test_tier_shows_the_members_tier_and_the_numbers_to_the_next(bot: Harness):
    await bot.say(ALICE, "/checkin")

    [reply] = await bot.say(ALICE, "/tier")

    assert "🎖 <b>Alice Liu</b>: <b>Regular</b>" in reply
    assert "Over the last 12 calendar months: spent ¥0.00 · 10 points earned" in reply
    assert "⬆️ Next: <b>Premium</b> — spend ¥1,000.00 more or earn 990 more points" in reply


async def test_tier_in_chinese(bot: Harness):
    await bot.say(OWNER, "/set language zh")
    await bot.say(BOB, "/checkin")

    [reply] = await bot.say(BOB, "/tier")
    [ladder] = await bot.say(BOB, "/tier ladder")
    [me] = await bot.say(BOB, "/me")

    assert "🎖 <b>鲍勃</b>：<b>普通</b>" in reply
    assert "⬆️ 下一级：<b>高级</b> — 再消费 ¥1,000.00 或 再获得 990 积分" in reply
    assert ladder.startswith("🎖 会员等级")
    assert "2. <b>高级</b> · 消费 ≥ ¥1,000.00 或 累计获得积分 ≥ 1,000 · 积分 ×1.2" in ladder
    assert "🎖 会员等级：<b>普通</b>" in me


async def test_me_shows_the_tier(bot: Harness):
    await bot.say(ALICE, "/checkin")

    [me] = await bot.say(ALICE, "/me")

    assert "🎖 Tier: <b>Regular</b>" in me


async def test_ladder_lists_every_tier_with_thresholds_and_benefits(bot: Harness):
    [ladder] = await bot.say(CAROL, "/tier ladder")

    lines = ladder.splitlines()
    assert lines[0] == "🎖 Membership tiers"
    assert lines[1] == "1. <b>Regular</b>"
    assert lines[3] == (
        "3. <b>VIP</b> · spend ≥ ¥5,000.00 or ≥ 5,000 points earned · ×1.5 points"
        " · entry reward 500 points"
    )
    assert "Reviewed every 30 days" in lines[4]


async def test_an_admin_sets_up_the_ladder_and_members_cannot(bot: Harness):
    [refused] = await bot.say(ALICE, LOW_LADDER)
    [saved] = await bot.say(ADMIN, LOW_LADDER)
    [bad] = await bot.say(ADMIN, "/tier setup 普通 | 银 points=abc")
    [falling] = await bot.say(ADMIN, "/tier setup 普通 | 银 points=50 | 金 points=20")
    [unknown] = await bot.say(ADMIN, "/tier setup 普通 | 银 level=3")
    [ladder] = await bot.say(CAROL, "/tier ladder")

    assert "only group admins" in refused
    assert saved.startswith("✅ Tiers saved.")
    assert "“points=abc” is not a valid number here. Nothing was changed." in bad
    assert "“金” must ask for more than the tier below it" in falling
    assert "“level=3” is not a tier option" in unknown
    assert "2. <b>银</b> · ≥ 15 points earned · ×1.5 points · entry reward 10 points" in ladder
    assert "title “银卡”" in ladder


async def test_a_checkin_that_reaches_a_tier_promotes_and_congratulates_privately(bot: Harness):
    await bot.say(ADMIN, LOW_LADDER)
    await started(bot, ALICE)
    await bot.say(ALICE, "/checkin", at=MONDAY)

    await bot.say(ALICE, "/checkin", at=MONDAY + DAY)  # 10 + 1 streak: 21 earned, 银

    private = [c.text for c in bot.world.sent(ALICE)]
    assert any(
        "🎉 Congratulations! You are now <b>银</b> in <b>Sunny Tea Club</b>." in text
        and "🎁 Entry reward: +10 points." in text
        for text in private
    )
    [reply] = await bot.say(ALICE, "/tier", at=MONDAY + DAY)
    assert "🎖 <b>Alice Liu</b>: <b>银</b>" in reply
    assert "Benefits: ×1.5 points · entry reward 10 points · title “银卡”" in reply
    assert "⬆️ Next: <b>金</b> — earn 969 more points" in reply
    [third] = await bot.say(ALICE, "/checkin", at=MONDAY + 2 * DAY)  # (10 + 2) × 1.5
    assert "18 points (+10 check-in, +2 streak bonus, +6 tier bonus)" in third


async def test_an_admin_raises_a_member_by_reply_and_it_is_told(bot: Harness):
    await started(bot, ALICE)
    said = bot.world.message(GROUP, ALICE, "hello", at=MONDAY)
    await bot.send(said)

    [refused] = await bot.send(
        bot.world.message(GROUP, BOB, "/tier set VIP", reply_to_message=said["message"])
    )
    [usage] = await bot.say(ADMIN, "/tier set VIP")
    [unknown] = await bot.send(
        bot.world.message(GROUP, ADMIN, "/tier set Gold", reply_to_message=said["message"])
    )
    raised = await bot.send(
        bot.world.message(GROUP, ADMIN, "/tier set vip", reply_to_message=said["message"])
    )
    [same] = await bot.send(
        bot.world.message(GROUP, ADMIN, "/tier set VIP", reply_to_message=said["message"])
    )

    assert "only group admins" in refused
    assert "Reply to the member's message" in usage
    assert "There is no tier called “Gold”" in unknown
    assert (
        "✅ <b>Alice Liu</b> is now <b>VIP</b> (was <b>Regular</b>). Entry rewards: +600 points."
        in raised
    )
    assert any("You are now <b>VIP</b>" in text for text in raised)  # privately, to Alice
    assert "That member is already VIP." in same
    [me] = await bot.say(ALICE, "/me")
    assert "Points: 600" in me and "🎖 Tier: <b>VIP</b>" in me


async def test_a_member_is_told_of_a_default_tier_in_their_own_language(bot: Harness):
    await started(bot, BOB)  # 鲍勃 reads Chinese; the group is English
    said = bot.world.message(GROUP, BOB, "你好", at=MONDAY)
    await bot.send(said)

    raised = await bot.send(
        bot.world.message(GROUP, ADMIN, "/tier set Premium", reply_to_message=said["message"])
    )

    assert "✅ <b>鲍勃</b> is now <b>Premium</b> (was <b>Regular</b>)." in raised[0]
    [notice] = [text for text in raised[1:] if "恭喜" in text]  # privately, to 鲍勃
    assert "<b>高级</b>" in notice and "Premium" not in notice


async def test_a_shorter_ladder_puts_members_of_a_tier_it_no_longer_has_at_its_top(
    bot: Harness,
):
    await started(bot, ALICE)
    said = bot.world.message(GROUP, ALICE, "hello", at=MONDAY)
    await bot.send(said)
    await bot.send(
        bot.world.message(GROUP, ADMIN, "/tier set VIP", reply_to_message=said["message"])
    )
    bot.world.start_private(ADMIN)

    await bot.say(ADMIN, "/tier setup Bronze | Silver points=10")
    await bot.say(ADMIN, "/segments", at=MONDAY)
    report = bot.world.delivered(ADMIN)[-1]
    [card] = await bot.say(ALICE, "/tier")
    [in_silver] = await bot.say(ADMIN, "/audience save top tier=Silver")

    assert "<b>Silver</b>" in card
    assert "#2" not in report and "Silver" in report, report
    assert "1 member" in in_silver, in_silver


async def test_a_ladder_change_puts_a_member_stored_above_its_top_at_the_top(bot: Harness):
    await bot.say(ALICE, "hello", at=MONDAY)
    await bot.flush()
    uow = bot.app.bot_data.deps.uow()
    async with uow:  # left by a ladder shortened before shortening capped the members
        await uow.session.execute(
            update(MembershipRow).where(MembershipRow.user_id == ALICE).values(tier=4)
        )
        await uow.commit()

    await bot.say(ADMIN, "/tier grace 10")

    async with uow:
        stored = await uow.session.scalar(
            select(MembershipRow.tier).where(MembershipRow.user_id == ALICE)
        )
    assert stored == 2  # VIP, the default ladder's top


async def test_tier_with_nonsense_explains_the_usage(bot: Harness):
    [reply] = await bot.say(ALICE, "/tier everything please")

    assert reply.startswith("Usage: /tier")


async def test_the_review_job_demotes_after_the_grace_period_and_tells_the_member(bot: Harness):
    await bot.say(ADMIN, "/tier review 1")
    await bot.say(ADMIN, "/tier grace 0")
    await started(bot, ALICE)
    said = bot.world.message(GROUP, ALICE, "hello", at=MONDAY)
    await bot.send(said)
    await bot.send(
        bot.world.message(GROUP, ADMIN, "/tier set 高级", reply_to_message=said["message"])
    )
    d = bot.app.bot_data.deps
    jobs = Jobs(bot.app.bot, d, bot.outbox, None)  # type: ignore[arg-type]
    before = len(bot.world.sent(ALICE))

    await jobs.review_tiers()
    await jobs.review_tiers()  # the same day again: nothing more

    notices = [c.text for c in bot.world.sent(ALICE)][before:]
    assert notices == [
        "Your membership tier in <b>Sunny Tea Club</b> is now <b>Regular</b>. Earn points or "
        "shop to climb again: /tier in the group shows what the next tier needs."
    ]
    [me] = await bot.say(ALICE, "/me")
    assert "🎖 Tier: <b>Regular</b>" in me


async def test_tier_says_until_when_a_member_below_their_tier_keeps_it(bot: Harness):
    await bot.say(ADMIN, "/tier review 1")
    await bot.say(ADMIN, "/tier grace 10")
    said = bot.world.message(GROUP, ALICE, "hello", at=MONDAY)
    await bot.send(said)
    await bot.send(
        bot.world.message(GROUP, ADMIN, "/tier set VIP", reply_to_message=said["message"])
    )
    d = bot.app.bot_data.deps
    jobs = Jobs(bot.app.bot, d, bot.outbox, None)  # type: ignore[arg-type]

    await jobs.review_tiers()  # below VIP: the grace period starts now
    [reply] = await bot.say(ALICE, "/tier")

    until = (d.clock() + dt.timedelta(days=10)).astimezone(ZoneInfo("Asia/Shanghai")).date()
    assert f"it is kept until {until.isoformat()}" in reply
    assert "🎖 <b>Alice Liu</b>: <b>VIP</b>" in reply
