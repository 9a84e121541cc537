"""Broadcast A/B tests through the real handlers: variants and a holdout previewed, sent one
per member in their arm, the holdout never messaged, and `/broadcast report <id>`."""

from __future__ import annotations

import datetime as dt

from bot.jobs import refresh_progress
from campaigns.broadcast_variants import HOLDOUT, arm_of
from handlers.calendar_texts import CalendarTexts
from handlers.callbacks import BroadcastButton, BroadcastVerb, parse
from tests.handlers.conftest import ADMIN, ALICE, BOB, CAROL, GROUP, MONDAY, OWNER, Harness, tap
from tests.handlers.test_broadcasts import buttons, members_who_started

OTHER = -1001500000002
MEMBERS = [ALICE, BOB, CAROL, *range(30, 42)]
MINUTE = dt.timedelta(minutes=1)


async def fifteen_members(bot: Harness) -> None:
    for uid in MEMBERS[3:]:
        bot.world.add_user(uid, f"Member {uid}", language_code="en")
        bot.world.set_status(GROUP, uid, "member")
    await members_who_started(bot, *MEMBERS)


async def later(bot: Harness, minutes: float = 1) -> dt.datetime:
    """Move the clock on (the group's 20 replies a minute), and say when it is."""
    bot.clock.advance(minutes * 60)
    return bot.clock.now()


async def test_variants_are_previewed_labelled_sent_once_in_each_arm_and_reported(bot: Harness):
    await fifteen_members(bot)

    await bot.say(OWNER, "/broadcast holdout=20\nSale tonight\n---\nSale tonight, 20% off")
    shown = [c.text for c in bot.world.sent(GROUP)[-6:]]
    go, discard = buttons(bot.world.sent(GROUP)[-1])
    bid = parse(go["callback_data"]).broadcast_id
    await tap(bot, GROUP, OWNER, go["callback_data"])
    started = bot.clock.now()
    await bot.drain()
    await refresh_progress(bot.app.bot, bot.app.bot_data.deps, {})
    progress = [c for c in bot.world.calls if c.method == "editMessageText"][-1].text
    arms = {uid: arm_of(bid, uid, 2, 20) for uid in MEMBERS}
    held = sum(arm == HOLDOUT for arm in arms.values())
    a_members = [uid for uid in MEMBERS if arms[uid] == "A"]
    for uid in a_members[:2]:  # two of A write back within the day
        await bot.say(uid, "what time?", at=started + dt.timedelta(minutes=30))
    await bot.flush()
    report, _in_group = await bot.say(OWNER, f"/broadcast report {bid}", at=await later(bot, 60))

    assert shown[1:5] == ["⬇️ Variant A", "Sale tonight", "⬇️ Variant B", "Sale tonight, 20% off"]
    assert "🧪 A/B test: A 40% · B 40% · held out 20%" in shown[5]
    sent = len(MEMBERS) - held  # the button counts those it goes to, and names the rest
    assert [go["text"], discard["text"]] == [f"📣 Send to {sent} ({held} held out)", "✖ Cancel"]
    for uid in MEMBERS:
        got = bot.world.delivered(uid)
        counts = (got.count("Sale tonight"), got.count("Sale tonight, 20% off"))
        assert counts == {"A": (1, 0), "B": (0, 1), HOLDOUT: (0, 0)}[arms[uid]], uid
    assert held and len(a_members) >= 2
    assert f"Sent {len(MEMBERS) - held} of {len(MEMBERS) - held}" in progress
    assert f"Held out (not sent, to compare against): {held}" in progress
    assert f"📊 Broadcast #{bid}: A/B test, each variant against the holdout" in report
    assert f"<b>A</b>: {len(a_members)} sent" in report
    assert f"<b>Held out</b>: {held} members" in report
    assert f"Active within 3 days: 2/{len(a_members)}" in report
    assert "<b>A against held out</b>" in report and "<b>B against held out</b>" in report
    assert "Lift " in report and "Read early" in report and "⏳ Still counting" in report


async def test_without_a_holdout_b_is_compared_with_a_and_zh_admins_read_it_in_chinese(
    bot: Harness,
):
    await fifteen_members(bot)
    await bot.say(OWNER, "/broadcast\nHello\n---\nHi there")
    go = buttons(bot.world.sent(GROUP)[-1])[0]["callback_data"]
    await tap(bot, GROUP, OWNER, go)
    await bot.drain()
    await refresh_progress(bot.app.bot, bot.app.bot_data.deps, {})  # done: the job's tick
    await bot.say(OWNER, "/set language zh", at=await later(bot))

    at = await later(bot, 60 * 24 * 8)
    report, _in_group = await bot.say(OWNER, "/broadcast report 1", at=at)

    sent = [uid for uid in MEMBERS if {"Hello", "Hi there"} & set(bot.world.delivered(uid))]
    assert sorted(sent) == sorted(MEMBERS)
    assert "📊 群发 #1：A/B 测试，各版本与版本 A 比较" in report
    assert "<b>B 对比 A</b>" in report and "3 天内活跃" in report and "对照组" not in report
    assert "仍在统计" not in report  # eight days on, every window is over


async def test_bad_variants_or_holdout_are_explained_and_draft_nothing(bot: Harness):
    await members_who_started(bot, ALICE, BOB)
    five = "\n---\n".join(["one", "two", "three", "four", "five"])

    [too_many] = await bot.say(OWNER, f"/broadcast\n{five}")
    [empty] = await bot.say(OWNER, "/broadcast\nHello\n---\n\n---\nBye")
    [over] = await bot.say(OWNER, "/broadcast holdout=60\nHello")
    [twice] = await bot.say(OWNER, "/broadcast holdout=5 holdout=10\nHello")
    [usage] = await bot.say(OWNER, "/broadcast")
    await bot.say(OWNER, "/broadcast holdout=0\nPlain after all", at=await later(bot))

    assert "At most 4 variants: this text has 5" in too_many
    assert "Variant B is empty" in empty
    assert "The holdout is a percent from 0 to 50" in over and "from 0 to 50" in twice
    assert "A/B test: lines holding only <code>---</code>" in usage
    question = bot.world.sent(GROUP)[-1].text
    assert "Broadcast #1 to 2 members" in question and "A/B test" not in question


async def test_the_report_is_only_for_admins_of_the_broadcasts_own_group(bot: Harness):
    await members_who_started(bot, ALICE, BOB)
    await bot.say(OWNER, "/broadcast holdout=50\nHello")
    await tap(bot, GROUP, OWNER, buttons(bot.world.sent(GROUP)[-1])[0]["callback_data"])
    await bot.say(OWNER, "/broadcast\nPlain", at=await later(bot))
    await bot.say(OWNER, "/broadcast holdout=10\nNever sent", at=await later(bot))
    bot.world.add_group(OTHER, "Other Club", owner=ADMIN)
    await bot.send(bot.world.add_bot(OTHER, by=ADMIN, at=MONDAY - dt.timedelta(days=1)))
    at = await later(bot)

    [member] = await bot.say(ALICE, "/broadcast report 1", at=at)
    [other] = await bot.say(ADMIN, "/broadcast report 1", chat=OTHER, at=at)
    [plain] = await bot.say(OWNER, "/broadcast report 2", at=at)
    [draft] = await bot.say(OWNER, "/broadcast report 3", at=at)
    [bad] = await bot.say(OWNER, "/broadcast report yesterday", at=await later(bot))
    mine, _in_group = await bot.say(OWNER, "/broadcast report #1", at=at)
    forged = await tap(bot, OTHER, ADMIN, BroadcastButton(BroadcastVerb.CANCEL, 1))
    still, _in_group = await bot.say(OWNER, "/broadcast report 1", at=await later(bot))
    await bot.drain()  # the forged ✖ cancelled nothing: the rest still goes out

    assert "only group admins can do that" in member
    assert "There is no broadcast #1 in this group." in other
    assert "Broadcast #2 was never sent" in plain  # a plain draft
    assert "Broadcast #3 was never sent" in draft
    assert "Which broadcast?" in bad
    assert "📊 Broadcast #1" in mine and "Hello" not in mine
    assert "This button doesn't belong here" in forged
    assert "<b>Held out</b>" in still
    for uid in (ALICE, BOB):
        expected = 0 if arm_of(1, uid, 1, 50) == HOLDOUT else 1
        assert bot.world.delivered(uid).count("Hello") == expected


def test_the_send_button_counts_those_sent_and_names_the_held_out_in_chinese():
    assert CalendarTexts("zh").send_button(13, 2) == "📣 发送给 13 人（2 人留作对照）"
    assert CalendarTexts("zh").send_button(15) == "📣 发送给 15 人"


async def test_a_plain_broadcasts_report_is_its_delivery(bot: Harness):
    await members_who_started(bot, ALICE, BOB)
    await bot.say(OWNER, "/broadcast\nPlain news")
    await tap(bot, GROUP, OWNER, buttons(bot.world.sent(GROUP)[-1])[0]["callback_data"])
    await bot.drain()
    at = await later(bot)

    report, _in_group = await bot.say(OWNER, "/broadcast report 1", at=at)
    await bot.say(OWNER, "/set language zh", at=at)
    zh, _in_group = await bot.say(OWNER, "/broadcast report 1", at=at)

    assert "Broadcast #1" in report and "Sent 2 · failed 0 · left 0" in report
    assert "no variants" not in report
    assert "群发 #1" in zh and "已发送 2" in zh
