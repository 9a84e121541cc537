"""Requests the network loses before they reach Telegram (no connection, none free in the
pool): a reply is sent again by the rate limiter, a broadcast's message on a later tick of
the outbox, an acknowledgement with the group's next list. A request that may have arrived
is never repeated (tests/bot/test_budget.py)."""

from __future__ import annotations

import datetime as dt

import httpx

from tests.handlers.conftest import ALICE, BOB, CAROL, GROUP, MONDAY, OWNER, Harness, tap
from tests.handlers.test_broadcasts import buttons, finish, members_who_started


async def test_a_reply_lost_on_the_way_is_sent_again_once(bot: Harness):
    bot.world.start_private(ALICE)
    bot.world.cut_off_next("sendMessage", httpx.ConnectError, times=2)

    await bot.clock.run(bot.send(bot.world.message(ALICE, ALICE, "/start", at=MONDAY)))

    assert len(bot.world.delivered(ALICE)) == 1
    assert not bot.world.cut_off  # both lost tries were made, then the third went


async def test_a_broadcast_message_that_never_left_goes_on_a_later_tick(bot: Harness):
    await members_who_started(bot, ALICE, BOB, CAROL)
    await bot.say(OWNER, "/broadcast\nFlash sale tonight 🎉")
    go, _cancel = buttons(bot.world.sent(GROUP)[-1])
    await tap(bot, GROUP, OWNER, go["callback_data"])
    # The outbox paces its own sends: the limiter hands the failure back, and the row is
    # tried again later instead of being reported "may have been sent".
    bot.world.cut_off_next("sendMessage", httpx.ConnectTimeout)

    await bot.drain()
    bot.clock.advance(120)
    report = await finish(bot)

    got = [bot.world.delivered(uid).count("Flash sale tonight 🎉") for uid in (ALICE, BOB, CAROL)]
    assert got == [1, 1, 1]
    assert "Sent 3 of 3" in report and "uncertain" not in report.lower()


async def test_a_check_in_answer_lost_on_the_way_still_reaches_the_group(bot: Harness):
    bot.world.cut_off_next("sendMessage", httpx.PoolTimeout, times=5)  # past the limiter's 4

    await bot.clock.run(bot.say(ALICE, "签到", at=MONDAY + dt.timedelta(hours=1)))
    bot.clock.advance(60)
    await bot.clock.run(bot.app.bot_data.deps.acks.settled())

    assert any("Alice" in text for text in bot.world.delivered(GROUP)[-2:])
