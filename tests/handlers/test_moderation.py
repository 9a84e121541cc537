"""Order keeping (保持社群秩序) as members and admins live it: spam removed and warned, admins
untouched, a missing right named to the admins, redeliveries acting once, flood control,
/warn to the limit, /modlog's undo and a forged undo refused."""

from __future__ import annotations

import datetime as dt
from typing import Any

from bot.double.world import BOT_ID
from handlers.callbacks import ModLogButton, build
from tests.handlers.conftest import ADMIN, ALICE, BOB, CAROL, GROUP, NOW, OWNER, Harness, tap

OTHER, OTTO = -1001500000077, 77
SECOND = dt.timedelta(seconds=1)


async def antispam(bot: Harness, *settings: str) -> None:
    for setting in ("antispam on", *settings):
        await bot.say(OWNER, f"/set {setting}", at=NOW)


async def said(bot: Harness, user: int, text: str | None, at: dt.datetime = NOW, **extra: Any):
    """A member's message; returns it (as Telegram sent it) for replies and deletions."""
    update = bot.world.message(GROUP, user, text, at=at, **extra)
    await bot.send(update)
    return update


def deleted(bot: Harness, update: dict) -> bool:
    return bot.world.is_deleted(GROUP, update["message"]["message_id"])


async def started(bot: Harness, user: int) -> None:
    bot.world.start_private(user)
    await bot.say(user, "/start", at=NOW, chat=user)


def member_status(bot: Harness, user: int, chat: int = GROUP) -> str:
    _, body = bot.world.call("getChatMember", {"chat_id": chat, "user_id": user})
    return str(body["result"]["status"])


async def test_a_spammers_link_in_their_first_message_is_deleted_and_warned(bot: Harness):
    await antispam(bot)
    await started(bot, BOB)
    await said(bot, ALICE, "hello everyone, happy to be here")
    bot.clock.advance(120)

    spam = await said(bot, BOB, "cheap followers 👉 t.me/+CheapFollowers", at=NOW + SECOND)
    honest = await said(bot, ALICE, "does anyone know a good tea shop?", at=NOW + 2 * SECOND)

    assert deleted(bot, spam) and not deleted(bot, honest)
    notice = bot.world.shown(GROUP)[-1]
    assert "鲍勃" in notice and "message removed (a link from a new member)" in notice
    assert "Warning 1/3." in notice
    [private] = [t for t in bot.world.shown(BOB) if "🧹" in t]
    assert "你在 <b>Sunny Tea Club</b> 的消息已被删除：新成员发的链接" in private
    assert "警告 1/3" in private and "30 天后失效" in private


async def test_an_admins_link_is_untouched(bot: Harness):
    await antispam(bot)
    before = len(bot.world.shown(GROUP))

    promo = await said(bot, ADMIN, "Our new shop: t.me/+SunnyTeaShop", at=NOW + SECOND)
    command = await said(bot, ADMIN, "/settings t.me/+SunnyTeaShop", at=NOW + 2 * SECOND)

    assert not deleted(bot, promo) and not deleted(bot, command)
    assert "⚙️ Settings for Sunny Tea Club" in bot.world.shown(GROUP)[-1]  # it went on
    assert len(bot.world.shown(GROUP)) == before + 1  # the settings, no notice
    assert not [c for c in bot.world.calls if c.method == "deleteMessage"]


async def test_members_past_their_first_messages_may_share_links(bot: Harness):
    await antispam(bot, "newcomer_messages 2")
    for i in range(2):
        await said(bot, CAROL, f"hello number {i}", at=NOW + i * SECOND)
    await bot.flush()

    link = await said(bot, CAROL, "the recipe: https://example.com/tea", at=NOW + 5 * SECOND,
                      entities=[{"type": "url", "offset": 12, "length": 24}])  # fmt: skip

    assert not deleted(bot, link)


async def test_without_the_right_to_delete_the_admins_are_told_which_right_once(bot: Harness):
    await antispam(bot)
    await started(bot, ADMIN)
    bot.world.set_rights(GROUP, BOT_ID, can_delete_messages=False)

    first = await said(bot, BOB, "t.me/+spam1", at=NOW + SECOND)
    bot.clock.advance(120)
    second = await said(bot, BOB, "t.me/+spam2", at=NOW + 2 * SECOND)

    assert not deleted(bot, first) and not deleted(bot, second)
    notes = [t for t in bot.world.shown(ADMIN) if "lack the admin right" in t]
    assert len(notes) == 1
    assert "“Delete messages”" in notes[0] and "<b>Sunny Tea Club</b>" in notes[0]
    assert "I could not delete spam" in notes[0]
    assert "Warning 2/3." in bot.world.shown(GROUP)[-1]  # the warnings still stand


async def test_a_redelivered_spam_update_acts_once(bot: Harness):
    await antispam(bot)
    update = bot.world.message(GROUP, BOB, "join t.me/+spam", at=NOW)

    await bot.send(update)
    notices = len(bot.world.shown(GROUP))
    bot.clock.advance(120)
    await bot.send(update)

    assert [c.method for c in bot.world.calls].count("deleteMessage") == 1
    assert len(bot.world.shown(GROUP)) == notices
    bot.clock.advance(120)
    [warns] = await bot.send(bot.world.message(GROUP, BOB, "/warns", at=NOW + SECOND))
    assert "1 of 3 warnings" in warns


async def test_more_than_n_messages_in_m_seconds_mutes_for_the_set_minutes(bot: Harness):
    await antispam(bot, "flood_messages 3", "flood_seconds 10", "flood_mute_minutes 15")

    for i in range(4):
        await said(bot, CAROL, f"message {i}", at=NOW + i * SECOND)

    assert member_status(bot, CAROL) == "restricted"
    _, body = bot.world.call("getChatMember", {"chat_id": GROUP, "user_id": CAROL})
    assert body["result"]["until_date"] == int((NOW + dt.timedelta(minutes=15)).timestamp())
    assert "too many messages at once" in bot.world.shown(GROUP)[-1]


async def test_stop_words_and_repeats_catch_everyone(bot: Harness):
    await antispam(bot, "stop_words 加微信, casino")
    bot.clock.advance(120)

    word = await said(bot, ALICE, "想要优惠 加 微 信 abc", at=NOW + SECOND)
    repeats = [await said(bot, CAROL, "Anyone selling oolong?", at=NOW + i * 60 * SECOND)
               for i in range(3)]  # fmt: skip

    assert deleted(bot, word)
    assert [deleted(bot, r) for r in repeats] == [False, False, True]


async def reply_to(bot: Harness, user: int, text: str, message: dict, at=NOW) -> list[str]:
    return await bot.send(
        bot.world.message(GROUP, user, text, at=at, reply_to_message=message["message"])
    )


async def test_warn_by_reply_up_to_the_limit_mutes(bot: Harness):
    await bot.say(OWNER, "/set warn_limit 2", at=NOW)
    rude = await said(bot, BOB, "you are all idiots")

    [first] = await reply_to(bot, ADMIN, "/warn be kind", rude)
    [second] = await reply_to(bot, ADMIN, "/warn   second   time", rude, at=NOW + SECOND)

    assert "has been warned (1/2)" in first and "Reason: be kind" in first
    assert "has been warned (2/2)" in second and "Reason: second time" in second
    assert "🔇 Muted until 2026-12-01 10:00" in second  # 24 h, in Shanghai time
    assert member_status(bot, BOB) == "restricted"


async def test_warn_is_for_admins_only_and_never_on_an_admin(bot: Harness):
    hello = await said(bot, ALICE, "hello")
    boss = await said(bot, ADMIN, "welcome")

    [by_member] = await reply_to(bot, BOB, "/warn", hello)
    [on_admin] = await reply_to(bot, OWNER, "/warn", boss)
    [no_reply] = await bot.say(OWNER, "/warn spam", at=NOW)

    assert "only group admins" in by_member
    assert "never warned, muted or banned" in on_admin
    assert "Reply to the member's message" in no_reply


async def test_warns_and_unwarn(bot: Harness):
    rude = await said(bot, BOB, "rude")
    await reply_to(bot, ADMIN, "/warn rude", rude)
    await reply_to(bot, ADMIN, "/warn again", rude, at=NOW + SECOND)

    [own] = await bot.send(bot.world.message(GROUP, BOB, "/warns", at=NOW))
    [others] = await reply_to(bot, ALICE, "/warns", rude)
    [by_admin] = await reply_to(bot, ADMIN, "/warns", rude)
    [taken] = await reply_to(bot, ADMIN, "/unwarn", rude)
    [clean] = await bot.send(bot.world.message(GROUP, ALICE, "/warns", at=NOW))

    assert "2 of 3 warnings" in own and "rude (expires 2026-12-30 10:00)" in own
    assert "Only admins can see another member's warnings" in others
    assert by_admin == own
    assert "taken back: 1/3 now" in taken
    assert "Alice Liu</b> has no warnings" in clean


async def muted_bob(bot: Harness) -> None:
    await bot.say(OWNER, "/set warn_limit 1", at=NOW)
    rude = await said(bot, BOB, "rude")
    await reply_to(bot, ADMIN, "/warn", rude)
    assert member_status(bot, BOB) == "restricted"


def undo_buttons(bot: Harness, chat: int) -> dict[str, str]:
    """The newest message's buttons in `chat`: text -> callback_data."""
    message = bot.world.messages[max(k for k in bot.world.messages if k[0] == chat)]
    rows = message.get("reply_markup", {}).get("inline_keyboard", [])
    return {b["text"]: b["callback_data"] for row in rows for b in row}


async def test_modlog_goes_privately_and_its_undo_unmutes(bot: Harness):
    await muted_bob(bot)
    await started(bot, ADMIN)

    [note] = [t for t in await bot.say(ADMIN, "/modlog", at=NOW) if "📬" in t]
    log = bot.world.shown(ADMIN)[-1]
    buttons = undo_buttons(bot, ADMIN)
    [mute] = [data for text, data in buttons.items() if "muted · 鲍勃" in text]
    answer = await tap(bot, ADMIN, ADMIN, mute)
    again = await tap(bot, ADMIN, ADMIN, mute)

    assert "sent you the mod log in a private chat" in note
    assert "Last 30 days — messages removed: 0, warnings: 1, mutes: 1, bans: 0." in log
    assert "鲍勃</b> muted (too many warnings)" in log and "鲍勃</b> warned (by an admin)" in log
    assert len(buttons) == 2  # the mute and the warning; nothing to undo otherwise
    assert "鲍勃 can write again" in answer and member_status(bot, BOB) == "member"
    assert "undone already" in again
    assert "— undone" in bot.world.shown(ADMIN)[-1]  # the log, shown again


async def test_a_forged_undo_from_another_groups_admin_is_refused(bot: Harness):
    await muted_bob(bot)
    bot.world.add_user(OTTO, "Otto", language_code="en")
    bot.world.add_group(OTHER, "Other Club", owner=OTTO)
    await bot.send(bot.world.add_bot(OTHER, by=OTTO, at=NOW))
    bot.world.set_status(GROUP, OTTO, "member")
    await bot.say(ADMIN, "/modlog", at=NOW)  # nobody started the bot: shown in the group
    [data] = [d for text, d in undo_buttons(bot, GROUP).items() if "muted" in text]
    action = int(data.split(":")[1])

    forged = await tap(bot, OTTO, OTTO, ModLogButton(action), fresh=True)
    in_other = await tap(bot, OTHER, OTTO, ModLogButton(action), fresh=True)
    on_the_log = await tap(bot, GROUP, OTTO, build(ModLogButton(action)))

    assert "doesn't belong here" in forged and "doesn't belong here" in in_other
    assert "Only the group's admins can do this" in on_the_log
    assert member_status(bot, BOB) == "restricted"
    assert not [c for c in bot.world.calls if c.method == "restrictChatMember"
                and c.params.get("permissions", {}).get("can_send_messages")]  # fmt: skip


async def test_in_chinese_the_group_hears_chinese(bot: Harness):
    await antispam(bot, "language zh")

    await said(bot, BOB, "https://t.me/joinchat/spam", at=NOW + SECOND)

    assert "消息已删除（新成员发的链接）。警告 1/3。" in bot.world.shown(GROUP)[-1]


async def test_settings_show_and_refuse_moderation_keys(bot: Harness):
    [shown] = await bot.say(OWNER, "/settings", at=NOW)
    [refused] = await bot.say(OWNER, "/set spam_links delete", at=NOW)
    [changed] = await bot.say(OWNER, "/set spam_links mute all", at=NOW)

    assert "<code>antispam</code> = <code>off</code>" in shown
    assert "<code>warn_expiry_days</code> = <code>30</code>" in shown
    assert "use warn, mute or off" in refused
    assert "<code>spam_links</code> is now <code>mute all</code>" in changed


async def test_a_deleted_message_goes_no_further(bot: Harness):
    await antispam(bot)

    spam = await said(bot, BOB, "/checkin t.me/+spam", at=NOW + SECOND)
    await bot.flush()

    assert deleted(bot, spam)
    bot.clock.advance(120)
    [me] = await bot.send(bot.world.message(GROUP, BOB, "/me", at=NOW + 2 * SECOND))
    # The spam was never counted, and /me is a command to the bot, not a message.
    assert "Check-ins: 0 · 💬 messages: 0" in me


async def test_a_link_edited_into_a_newcomers_message_is_deleted_and_an_edit_is_no_flood(
    bot: Harness,
):
    await antispam(bot, "flood_messages 3")
    innocent = await said(bot, BOB, "hi all, nice group", at=NOW + SECOND)
    honest = await said(bot, ALICE, "welcome!", at=NOW + 2 * SECOND)
    for n in range(3):  # Alice edits her message three times within the flood window
        await bot.send(bot.world.edited(honest, f"welcome! (edit {n})"))
    await bot.send(bot.world.edited(innocent, "hi all 👉 t.me/+CheapFollowers"))

    assert deleted(bot, innocent) and not deleted(bot, honest)
    assert "message removed (a link from a new member)" in bot.world.shown(GROUP)[-1]
    assert not [c for c in bot.world.calls if c.method == "restrictChatMember"]  # no flood
