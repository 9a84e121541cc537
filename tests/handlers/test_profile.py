"""/me and /top as members read them."""

import datetime as dt

from tests.handlers.conftest import ALICE, BOB, CAROL, GROUP, MONDAY, Harness

DAY = dt.timedelta(days=1)


async def test_me_shows_points_streak_best_checkins_and_rank(bot: Harness):
    for day in range(3):
        await bot.say(ALICE, "/checkin", at=MONDAY + day * DAY)
    await bot.say(BOB, "早上好", at=MONDAY + 2 * DAY)
    await bot.say(BOB, "/checkin", at=MONDAY + 2 * DAY)

    [reply] = await bot.say(BOB, "/me", at=MONDAY + 2 * DAY)

    assert "Points: 10 (rank #2)" in reply
    assert "Streak: 1 day · best 1 day" in reply
    assert "Check-ins: 1" in reply
    # 早上好, without waiting for a flush; /checkin and /me are commands: activity, no messages
    assert "messages: 1" in reply


async def test_me_shows_a_broken_streak_as_zero_but_keeps_the_best(bot: Harness):
    for day in range(2):
        await bot.say(ALICE, "/checkin", at=MONDAY + day * DAY)

    [reply] = await bot.say(ALICE, "/me", at=MONDAY + 4 * DAY)

    assert "Streak: 0 days · best 2 days" in reply


async def test_me_before_any_checkin_shows_zero_and_unranked(bot: Harness):
    [reply] = await bot.say(CAROL, "/me")

    assert "Points: 0 (unranked)" in reply
    assert "messages: 0" in reply  # /me is a command: Carol is active, she said nothing


async def test_top_lists_by_points_and_shows_the_callers_place_outside_the_top(bot: Harness):
    for uid in range(100, 112):
        bot.world.add_user(uid, f"Member{uid}")
        await bot.say(uid, "/checkin")
        await bot.say(uid, "/checkin", at=MONDAY + DAY)
    await bot.say(ALICE, "/checkin", at=MONDAY + DAY)

    [reply] = await bot.say(ALICE, "/top", at=MONDAY + DAY)

    lines = reply.splitlines()
    assert lines[0] == "🏆 Points leaderboard"
    assert lines[1].startswith("🥇 <b>Member100</b> — 21 points")
    assert len(lines) == 12
    assert lines[-1] == "… you: 13. <b>Alice Liu</b> — 10 points"


async def test_top_streak_ranks_live_streaks_only(bot: Harness):
    for day in range(3):
        await bot.say(ALICE, "/checkin", at=MONDAY + day * DAY)
    await bot.say(BOB, "/checkin", at=MONDAY + 2 * DAY)
    await bot.say(CAROL, "/checkin", at=MONDAY)  # streak broken by day 3

    [reply] = await bot.say(BOB, "/top streak", at=MONDAY + 2 * DAY)

    assert "Alice Liu</b> — 3 days" in reply
    assert "鲍勃</b> — 1 day" in reply
    assert "Carol" not in reply


async def test_top_with_an_unknown_board_explains_the_usage(bot: Harness):
    [reply] = await bot.say(ALICE, "/top friends")

    assert "Usage: /top" in reply


async def test_empty_board_invites_the_first_checkin(bot: Harness):
    [reply] = await bot.say(ALICE, "/top")

    assert "Nobody is on the board yet" in reply


async def test_group_commands_in_private_chat_point_to_the_group(bot: Harness):
    bot.world.start_private(ALICE)

    [reply] = await bot.say(ALICE, "/top", chat=ALICE)

    assert "works in your group: send it there" in reply
    assert GROUP != ALICE
