"""@use_case: a redelivery does nothing, an unknown group hears the not-registered text."""

import pytest
from telegram import Update
from telegram.ext import CallbackContext

from campaigns.errors import DuplicateUpdate, UnknownChat
from campaigns.settings import language_for
from handlers.use_case import Call, use_case
from handlers.words import Words
from tests.handlers.conftest import ALICE, BOB, GROUP, Harness

NOT_REGISTERED = "This group has no activity yet. Send /checkin to start!"
OTHER = -1001500000009


async def test_a_command_in_a_group_the_bot_does_not_know_is_told_to_check_in(bot: Harness):
    bot.world.add_group(OTHER, "Unregistered Club")
    bot.world.set_status(OTHER, ALICE, "member")

    assert await bot.say(ALICE, "/top", chat=OTHER) == [NOT_REGISTERED]


async def _run(bot: Harness, raw: dict[str, object], error: Exception) -> None:
    @use_case(Words)
    async def callback(call: Call[Words]) -> None:
        raise error

    update = Update.de_json(raw, bot.app.bot)
    await callback(update, CallbackContext.from_update(update, bot.app))


async def test_a_tap_on_an_unknown_group_is_answered_in_an_alert(bot: Harness):
    before = len(bot.world.calls)

    await _run(bot, bot.world.callback(GROUP, ALICE, "x", fresh=True), UnknownChat(GROUP))

    [answer] = [c for c in bot.world.calls[before:] if c.method == "answerCallbackQuery"]
    assert answer.params.get("text") == NOT_REGISTERED
    assert answer.params.get("show_alert") is True


async def test_the_not_registered_reply_speaks_the_readers_language(bot: Harness):
    bot.world.start_private(BOB)
    before = len(bot.world.calls)

    await _run(bot, bot.world.message(BOB, BOB, "/top"), UnknownChat(GROUP))  # private: 中文

    [sent] = [c.text for c in bot.world.calls[before:] if c.method == "sendMessage"]
    assert sent == Words(language_for("zh-hans", "en")).not_registered() != NOT_REGISTERED


async def test_a_redelivery_says_nothing(bot: Harness):
    before = len(bot.world.calls)

    await _run(bot, bot.world.message(GROUP, ALICE, "/top"), DuplicateUpdate())

    assert bot.world.calls[before:] == []


async def test_an_error_the_texts_do_not_know_reaches_the_error_handler(bot: Harness):
    with pytest.raises(RuntimeError, match="a bug"):
        await _run(bot, bot.world.message(GROUP, ALICE, "/top"), RuntimeError("a bug"))


async def test_an_admin_command_from_a_member_is_refused_and_changes_nothing(bot: Harness):
    replies = await bot.say(ALICE, "/set language zh")

    assert replies == ["🙏 Sorry, only group admins can do that."]
    assert await bot.say(ALICE, "/me") and "签到" not in (await bot.say(ALICE, "/top"))[0]


async def test_a_member_command_in_private_asks_for_the_group(bot: Harness):
    bot.world.start_private(ALICE)

    assert await bot.say(ALICE, "/me", chat=ALICE) == [
        "This command works in your group: send it there (if I'm not in it yet, add me first)."
    ]
