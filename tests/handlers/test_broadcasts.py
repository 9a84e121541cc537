"""Broadcasts through the real handlers: preview, confirm, send at the limits, report."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest

from bot.jobs import refresh_progress
from handlers.callbacks import BroadcastButton, BroadcastVerb, parse
from tests.handlers.conftest import ADMIN, ALICE, BOB, CAROL, GROUP, MONDAY, OWNER, Harness, tap


async def members_who_started(bot: Harness, *users: int) -> None:
    for uid in users:
        await bot.say(uid, "hello", at=MONDAY)
        bot.world.start_private(uid)
        await bot.send(bot.world.message(uid, uid, "/start", at=MONDAY))
    await bot.flush()


def buttons(call) -> list[dict]:
    return call.params["reply_markup"]["inline_keyboard"][0]


async def finish(bot: Harness) -> str:
    deps = bot.app.bot_data.deps
    await bot.drain()
    await refresh_progress(bot.app.bot, deps, {})
    return [c for c in bot.world.calls if c.method == "editMessageText"][-1].text


async def test_a_broadcast_is_previewed_confirmed_sent_once_each_and_reported(bot: Harness):
    await members_who_started(bot, ALICE, BOB, CAROL)
    await bot.say(ADMIN, "just chatting")  # present, but never started the bot
    await bot.flush()
    await bot.say(OWNER, "/broadcast\nFlash sale tonight 🎉")
    question = bot.world.sent(GROUP)[-1]
    go, _cancel = buttons(question)
    refused = await tap(bot, GROUP, ALICE, go["callback_data"])
    await tap(bot, GROUP, OWNER, go["callback_data"])
    bot.world.fail_next("sendMessage", 403, "Forbidden: bot was blocked by the user")
    started = [c for c in bot.world.calls if c.method == "editMessageText"][-1]
    twice = await tap(bot, GROUP, OWNER, go["callback_data"])
    report = await finish(bot)

    assert "Broadcast #1 to 3 members who started me (audience: everyone)" in question.text
    assert go["text"] == "📣 Send to 3"
    assert "Only the group's admins" in refused
    assert "📣 Broadcast #1: sending." in started.text
    assert [b["text"] for b in buttons(started)] == ["⏸ Pause", "✖ Cancel"]
    assert "Already done" in twice
    got = [bot.world.delivered(uid).count("Flash sale tonight 🎉") for uid in (ALICE, BOB, CAROL)]
    assert sorted(got) == [0, 1, 1]  # one had blocked the bot: not retried
    assert "✅ Broadcast #1 finished." in report
    assert "Sent 2 of 3 · failed 1 (blocked me or never started)" in report
    again = await bot.say(OWNER, "/broadcast\nSecond")
    assert "to 2 members" in bot.world.sent(GROUP)[-1].text, again  # the blocker is left out


@pytest.mark.parametrize("refused", [1, 2, 3], ids=["note", "post", "question"])
async def test_a_429_during_the_preview_is_waited_out_and_the_draft_saved(
    bot: Harness, refused: int
):
    await members_who_started(bot, ALICE, BOB)
    began = bot.clock.monotonic()
    # The owner never started the bot: a refused private attempt, then three group messages.
    bot.world.fail_next(
        "sendMessage", 429, "Too Many Requests: retry after 5", retry_after=5, after=refused
    )

    await bot.clock.run(bot.say(OWNER, "/broadcast\nNew arrivals"))

    texts = [c.text for c in bot.world.sent(GROUP) if c.status == 200]
    assert not any("can't be saved" in text for text in texts)
    assert "New arrivals" in texts[-2]
    assert "Broadcast #1 to 2 members" in texts[-1]
    assert [b["text"] for b in buttons(bot.world.sent(GROUP)[-1])] == ["📣 Send to 2", "✖ Cancel"]
    assert bot.clock.monotonic() - began >= 5  # retry_after, on the bot's clock
    await tap(bot, GROUP, OWNER, buttons(bot.world.sent(GROUP)[-1])[0]["callback_data"])
    await bot.drain()
    assert all(bot.world.delivered(uid).count("New arrivals") == 1 for uid in (ALICE, BOB))


async def test_audience_rules_pick_members_and_bad_rules_are_explained(bot: Harness):
    await members_who_started(bot, ALICE, BOB)
    await bot.send(bot.world.message(GROUP, CAROL, "old timer", at=MONDAY - dt.timedelta(days=60)))
    bot.world.start_private(CAROL)
    await bot.send(bot.world.message(CAROL, CAROL, "/start", at=MONDAY))
    await bot.flush()

    [usage] = await bot.say(OWNER, "/broadcast")
    [unknown] = await bot.say(OWNER, "/broadcast vip=yes\nHi")
    await bot.say(OWNER, "/broadcast active<7d\nHi active ones")
    active = bot.world.sent(GROUP)[-1].text
    [nobody] = await bot.say(OWNER, "/broadcast points>=100000\nHi rich")

    assert "Rules (all must hold)" in usage
    assert "I don't know the rule “vip=yes”" in unknown
    assert "to 2 members" in active and "<code>active<7d</code>" in active.replace("&lt;", "<")
    assert "Nobody matches" in nobody


async def test_a_flood_wait_pauses_that_chat_and_the_message_arrives_once(bot: Harness):
    await members_who_started(bot, ALICE, BOB)
    await bot.say(OWNER, "/broadcast\nNew arrivals")
    await tap(bot, GROUP, OWNER, buttons(bot.world.sent(GROUP)[-1])[0]["callback_data"])
    bot.world.fail_next("sendMessage", 429, "Too Many Requests: retry after 1", retry_after=1)

    await bot.drain()
    first = [uid for uid in (ALICE, BOB) if "New arrivals" in bot.world.delivered(uid)]
    bot.clock.advance(1.05)  # retry_after: that chat waits, in the database and in memory
    await bot.drain()

    assert len(first) == 1  # the refused one waits; the other chat is not held up
    for uid in (ALICE, BOB):
        assert bot.world.delivered(uid).count("New arrivals") == 1


async def test_pause_resume_and_cancel(bot: Harness):
    await members_who_started(bot, ALICE, BOB)
    await bot.say(OWNER, "/broadcast\nWeekend menu")
    go = buttons(bot.world.sent(GROUP)[-1])[0]["callback_data"]
    await tap(bot, GROUP, OWNER, go)
    bid = parse(go).broadcast_id

    await tap(bot, GROUP, OWNER, BroadcastButton(BroadcastVerb.PAUSE, bid))
    paused = [c for c in bot.world.calls if c.method == "editMessageText"][-1]
    await bot.drain()
    nothing_sent = "Weekend menu" not in bot.world.delivered(ALICE) + bot.world.delivered(BOB)
    await tap(bot, GROUP, OWNER, BroadcastButton(BroadcastVerb.RESUME, bid))
    await tap(bot, GROUP, OWNER, BroadcastButton(BroadcastVerb.CANCEL, bid))
    report = await finish(bot)

    assert "⏸ paused" in paused.text and buttons(paused)[0]["text"] == "▶️ Resume"
    assert nothing_sent
    assert "✖ Broadcast #1 was cancelled." in report and "not sent 2" in report
    assert "Weekend menu" not in bot.world.delivered(ALICE) + bot.world.delivered(BOB)


async def test_pause_stops_sending_at_once_even_rows_the_sender_already_took(bot: Harness):
    members = [30 + i for i in range(6)]
    for uid in members:
        bot.world.add_user(uid, f"Member {uid}", language_code="en")
        bot.world.set_status(GROUP, uid, "member")
    await members_who_started(bot, *members)
    await bot.say(OWNER, "/broadcast\nPaused news")
    go = buttons(bot.world.sent(GROUP)[-1])[0]["callback_data"]
    await tap(bot, GROUP, OWNER, go)
    bid = parse(go).broadcast_id
    bot.outbox.flood.interval = 0.25  # 4 a second, so a pause lands mid-broadcast

    def delivered() -> int:
        return sum("Paused news" in bot.world.delivered(uid) for uid in members)

    with bot.clock.held():  # time stands still while the admin taps
        draining = asyncio.create_task(bot.drain())  # claims all six rows at once
        await bot.clock.next_sleep()  # the sender waits for a send slot: mid-broadcast
        await tap(bot, GROUP, OWNER, BroadcastButton(BroadcastVerb.PAUSE, bid))
        at_pause = delivered()
    await draining
    after_pause = delivered()
    await tap(bot, GROUP, OWNER, BroadcastButton(BroadcastVerb.RESUME, bid))
    report = await finish(bot)

    assert after_pause <= at_pause + 1  # only a message already on its way
    assert after_pause < len(members)
    assert "✅ Broadcast #1 finished." in report and "Sent 6 of 6" in report
    assert all(bot.world.delivered(uid).count("Paused news") == 1 for uid in members)


async def test_the_preview_shows_name_as_the_admin_will_read_it(bot: Harness):
    await members_who_started(bot, ALICE)
    bot.world.start_private(OWNER)

    await bot.say(OWNER, "/broadcast\nHi {name}, see you at the weekend!")

    [preview] = [c.text for c in bot.world.sent(OWNER) if "weekend" in c.text]
    assert preview == "Hi Olga, see you at the weekend!"


async def test_a_long_name_in_a_post_near_the_limit_still_reaches_that_member(bot: Harness):
    """The post is checked with `{name}` in it: Alice's 120 🌸 (240 units) made her copy too
    long for Telegram, it was refused, and the report blamed her ("blocked me")."""
    bot.world.users[ALICE]["first_name"] = "🌸" * 60
    bot.world.users[ALICE]["last_name"] = "🌸" * 60
    await members_who_started(bot, ALICE, BOB)
    await bot.say(OWNER, "/broadcast\nHi {name}! " + "x" * (4096 - 11))  # 4096 as saved
    go, _ = buttons(bot.world.sent(GROUP)[-1])
    await tap(bot, GROUP, OWNER, go["callback_data"])
    await finish(bot)

    posts = [c for c in bot.world.sent() if c.params["text"].startswith("Hi ")]
    got = {int(c.params["chat_id"]): c.params["text"] for c in posts if c.status == 200}
    assert [c.status for c in posts if int(c.params["chat_id"]) in (ALICE, BOB)] == [200, 200]
    assert got[ALICE].startswith("Hi 🌸") and "…!" in got[ALICE]  # her name, shortened
