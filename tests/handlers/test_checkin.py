"""Check-ins as members see them, through the real Application and the Bot API double."""

import asyncio
import datetime as dt

from telegram import Update

from tests.handlers.conftest import ALICE, BOB, CAROL, GROUP, MONDAY, OWNER, Harness

DAY = dt.timedelta(days=1)


async def points_of(bot: Harness, user: int) -> int:
    uow = bot.app.bot_data.deps.uow()
    async with uow:
        record = await uow.chats.get(GROUP)
        stats = await uow.members.stats(record.pk, user)
    return stats.points if stats else 0


async def test_checkin_reply_names_the_member_with_rank_streak_points_and_balance(bot: Harness):
    await bot.say(BOB, "/checkin")

    [reply] = await bot.say(ALICE, "/checkin")

    assert "<b>Alice Liu</b> checked in — #2 today!" in reply
    assert "Streak: 1 day" in reply
    assert "10 points" in reply and "balance 10" in reply


async def test_second_checkin_the_same_day_is_friendly_and_changes_nothing(bot: Harness):
    await bot.say(ALICE, "/checkin")

    [reply] = await bot.say(ALICE, "/checkin", at=MONDAY + dt.timedelta(hours=3))

    assert "already checked in today" in reply
    assert "00:00 (Asia/Shanghai), in 11h 0m" in reply
    assert await points_of(bot, ALICE) == 10


async def test_plain_text_qiandao_and_daka_check_in(bot: Harness):
    [first] = await bot.say(ALICE, "签到")
    [second] = await bot.say(ALICE, "打卡", at=MONDAY + DAY)

    assert "checked in" in first
    assert "Streak: 2 days" in second


async def test_check_in_as_a_phone_keyboard_capitalises_it(bot: Harness):
    """Phone keyboards capitalise the first letter: "Check in" was silently ignored."""
    said = [
        await bot.say(ALICE, words, at=MONDAY + n * DAY)
        for n, words in enumerate(["Check in", "CHECKIN", "Check-In!", "check in"])
    ]

    assert [len(replies) for replies in said] == [1, 1, 1, 1]
    assert "Streak: 4 days" in said[-1][0]


async def test_consecutive_days_build_a_streak_and_a_gap_resets_it(bot: Harness):
    for day in range(3):
        await bot.say(ALICE, "/checkin", at=MONDAY + day * DAY)

    [after_gap] = await bot.say(ALICE, "/checkin", at=MONDAY + 5 * DAY)

    assert "Streak: 1 day" in after_gap
    # 10, 11, 12 (+1 and +2 streak bonus), then 10 again after the gap
    assert await points_of(bot, ALICE) == 43


async def test_milestone_bonus_is_announced_on_its_day(bot: Harness):
    await bot.say(OWNER, "/set milestones 2:25")

    await bot.say(ALICE, "/checkin")
    [reply] = await bot.say(ALICE, "/checkin", at=MONDAY + DAY)

    assert "+25 for a 2-day streak" in reply
    assert await points_of(bot, ALICE) == 10 + 11 + 25


async def test_the_day_comes_from_the_message_date_in_the_groups_timezone(bot: Harness):
    late_sunday_utc = dt.datetime(2026, 11, 15, 17, 0, tzinfo=dt.UTC)  # Monday 01:00 Shanghai

    await bot.say(ALICE, "/checkin", at=late_sunday_utc)
    [reply] = await bot.say(ALICE, "/checkin", at=MONDAY)

    assert "already checked in today" in reply


async def test_a_backlogged_checkin_lands_on_its_own_day(bot: Harness):
    await bot.say(ALICE, "/checkin", at=MONDAY)

    [late] = await bot.say(ALICE, "/checkin", at=MONDAY - DAY)  # delivered late, dated Sunday

    assert "checked in" in late
    assert await points_of(bot, ALICE) == 20


async def test_a_redelivered_update_is_answered_and_counted_once(bot: Harness):
    update = bot.world.message(GROUP, ALICE, "/checkin", at=MONDAY)

    first = await bot.send(update)
    second = await bot.send(update)

    assert len(first) == 1 and second == []
    assert await points_of(bot, ALICE) == 10


async def test_concurrent_double_tap_grants_once(bot: Harness):
    taps = [bot.world.message(GROUP, ALICE, "/checkin", at=MONDAY) for _ in range(3)]

    await asyncio.gather(*(bot.app.process_update(Update.de_json(t, bot.app.bot)) for t in taps))

    replies = [c.text for c in bot.world.sent(GROUP)]
    assert sum("checked in —" in r for r in replies) == 1
    assert sum("already checked in" in r for r in replies) == 2
    assert await points_of(bot, ALICE) == 10


async def test_names_with_html_are_escaped(bot: Harness):
    bot.world.add_user(31, '<b>Bob & "Co"</b>')
    bot.world.add_user(32, "Dr. Who!")

    [tricky] = await bot.say(31, "/checkin")
    [plain] = await bot.say(32, "/checkin")

    assert '&lt;b&gt;Bob &amp; "Co"&lt;/b&gt;' in tricky
    assert "<b>Dr. Who!</b>" in plain
    # The double refuses malformed HTML, so the fixture's spec check also covers this.


async def test_checkin_in_a_private_chat_points_to_the_group(bot: Harness):
    bot.world.start_private(CAROL)

    [reply] = await bot.say(CAROL, "/checkin", chat=CAROL)

    assert "in your group" in reply


async def test_chinese_group_gets_chinese_replies(bot: Harness):
    await bot.say(OWNER, "/set language zh")

    [reply] = await bot.say(ALICE, "/checkin")

    assert "签到成功，今日第 1 位" in reply
    assert "连续签到：1 天" in reply


async def test_a_failed_reply_loses_no_checkin_and_the_bot_keeps_going(bot: Harness):
    bot.world.fail_next("sendMessage", 403, "Forbidden: bot was kicked from the supergroup chat")

    [refused] = await bot.say(ALICE, "/checkin")  # Telegram answered 403 to this reply
    [next_reply] = await bot.say(BOB, "/checkin")

    assert "checked in" in refused
    assert await points_of(bot, ALICE) == 10
    assert "#2 today" in next_reply


async def test_a_redelivered_repeat_is_answered_once_and_stays_refused(bot: Harness):
    await bot.say(ALICE, "/checkin")  # the bot now knows Alice is done today
    repeat = bot.world.message(GROUP, ALICE, "签到", at=MONDAY + dt.timedelta(hours=1))

    first = await bot.send(repeat)
    second = await bot.send(repeat)

    assert len(first) == 1 and "already checked in today" in first[0]
    assert second == []
    assert await points_of(bot, ALICE) == 10


async def test_a_hint_the_store_does_not_hold_still_checks_the_member_in(bot: Harness):
    # Another process's view, a wrong clock: the bot believes Bob checked in today; he did not.
    bot.app.bot_data.deps.checked_in.saw(GROUP, BOB, MONDAY.date())

    [reply] = await bot.say(BOB, "/checkin")

    assert "checked in — #1 today!" in reply
    assert await points_of(bot, BOB) == 10
    [again] = await bot.say(BOB, "/checkin", at=MONDAY + dt.timedelta(minutes=5))
    assert "already checked in today" in again
    assert await points_of(bot, BOB) == 10


async def test_a_repeat_on_the_next_day_checks_in_again(bot: Harness):
    await bot.say(ALICE, "/checkin")

    [reply] = await bot.say(ALICE, "/checkin", at=MONDAY + DAY)

    assert "Streak: 2 days" in reply
    assert await points_of(bot, ALICE) > 10
