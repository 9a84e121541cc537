"""Odd and hostile input found by a fresh-eyes pass: every one gets a clear answer in the
reader's language and changes nothing."""

from __future__ import annotations

import pytest

from tests.handlers.conftest import ALICE, BOB, GROUP, OWNER, Harness, tap
from tests.handlers.test_broadcasts import buttons, members_who_started

NOT_HERE = "This button doesn't belong here. Use the button on the bot's own post."


@pytest.mark.parametrize(
    "data", ["cpn:-1", "cpn:١", "cpn:²", "x" * 64, "gb:x:1", "mg:-99999999999999999999"]
)
async def test_a_tap_the_bot_never_built_is_answered_and_changes_nothing(bot: Harness, data):
    await bot.say(OWNER, "/broadcast\nHello")  # a bot message with buttons to forge on
    before = len(bot.world.calls)

    answer = await tap(bot, GROUP, ALICE, data)

    assert answer == NOT_HERE
    assert [c.method for c in bot.world.calls[before:]] == ["answerCallbackQuery"]


async def test_a_malformed_tap_is_refused_in_the_tappers_language_not_the_groups(
    bot: Harness,
):
    await bot.say(OWNER, "/broadcast\nHello")  # an English group, a bot message to forge on

    zh = await tap(bot, GROUP, BOB, "sv:1")  # Bob's Telegram is in Chinese
    en = await tap(bot, GROUP, ALICE, "sv:1")

    assert zh == "这个按钮不属于这条消息。请使用机器人原帖上的按钮。"
    assert en == NOT_HERE


async def test_an_out_of_range_group_on_the_manage_chooser_is_refused(bot: Harness):
    bot.world.start_private(OWNER)
    await bot.send(bot.world.message(OWNER, OWNER, "/manage"))

    answer = await tap(bot, OWNER, OWNER, "mg:-9223372036854775809")

    assert answer == NOT_HERE


@pytest.mark.parametrize(("typed", "refused"), [("٣", True), ("²", True), ("３", False)])
async def test_settings_read_only_the_digits_people_type(bot: Harness, typed, refused):
    [said] = await bot.say(OWNER, f"/set checkin_points {typed}")

    assert ("Cannot set" in said) is refused
    if not refused:
        assert "3" in (await bot.say(OWNER, "/settings"))[0]


async def test_a_setting_may_put_its_value_on_the_next_line(bot: Harness):
    [said] = await bot.say(OWNER, "/set milestones\n7:50")

    assert "Cannot set" not in said and "Usage" not in said


async def test_a_broadcast_without_text_is_told_how_to_write_one(bot: Harness):
    [said] = await bot.say(OWNER, "/broadcast joined<7d")

    assert "/broadcast" in said and "/schedule" not in said


async def test_discarding_a_broadcast_preview_says_so_on_the_preview(bot: Harness):
    await members_who_started(bot, ALICE)
    await bot.say(OWNER, "/broadcast\nFlash sale")
    _go, cancel = buttons(bot.world.sent(GROUP)[-1])

    await tap(bot, GROUP, OWNER, cancel["callback_data"])
    again = await tap(bot, GROUP, OWNER, cancel["callback_data"])

    edited = [c for c in bot.world.calls if c.method == "editMessageText"][-1]
    assert edited.text == "Broadcast #1 was not sent."
    assert "reply_markup" not in edited.params  # its buttons are gone
    assert again  # a second tap on a stale copy is still answered


async def test_a_name_no_database_could_store_is_stored_with_its_odd_characters_replaced(
    bot: Harness,
):
    from campaigns.services.profile import export_members
    from tests.handlers.conftest import MONDAY

    odd = 7_700_000_001
    bot.world.add_user(odd, "Eve\x00\udc00", username="eve\x00", language_code="en")
    bot.world.set_status(GROUP, odd, "member")
    await bot.send(bot.world.message(GROUP, odd, "hello", at=MONDAY))
    [said] = await bot.send(bot.world.message(GROUP, odd, "签到", at=MONDAY))
    await bot.flush()

    stats = await export_members(bot.app.bot_data.deps.uow(), chat_id=GROUP, at=MONDAY)
    eve = next(s for s in stats if s.user_id == odd)
    assert eve.messages == 2 and eve.checkins == 1
    assert "Eve\ufffd\ufffd" in said
