"""Watch words (舆情) and FAQ auto-replies (客服话术) as admins and members meet them, through
the real Application and the Bot API double."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import event, select

from bot.acks import GroupAcks
from bot.app import stop_offline
from campaigns.members import EventKind
from storage.models import EventRow
from tests.handlers.conftest import (
    ADMIN,
    ALICE,
    BOB,
    CAROL,
    GROUP,
    MONDAY,
    OWNER,
    Harness,
    make_harness,
    say_many,
)

MINUTE, HOUR = dt.timedelta(minutes=1), dt.timedelta(hours=1)
OTHER, OTHER_OWNER = -1001500000002, 31
LINK = "https://t.me/c/1500000001/"


async def started(bot: Harness, *users: int) -> None:
    """The users opened a private chat with the bot: it may message them."""
    for user in users:
        bot.world.start_private(user)
        await bot.say(user, "/start", chat=user)


def alerts(bot: Harness, user: int) -> list[str]:
    return [t for t in bot.world.delivered(user) if t.startswith("👀 <b>")]


async def say(
    bot: Harness, user: int, text: str, at: dt.datetime, **extra: Any
) -> tuple[int, list[str]]:
    """A member's message; its id (for the link) and what the bot said in reply."""
    update = bot.world.message(GROUP, user, text, at=at, **extra)
    return update["message"]["message_id"], await bot.send(update)


async def in_group(bot: Harness, update: dict[str, Any]) -> list[str]:
    """What the bot said in the group while handling the update (alerts go privately)."""
    before = len(bot.world.sent(GROUP))
    await bot.send(update)
    return [c.text for c in bot.world.sent(GROUP)[before:]]


async def logged(bot: Harness, kind: EventKind) -> list[tuple[int, int | None, dict[str, str]]]:
    uow: Any = bot.app.bot_data.deps.uow()
    async with uow:
        rows = await uow.session.execute(
            select(EventRow.user_id, EventRow.value, EventRow.meta)
            .where(EventRow.kind == kind)
            .order_by(EventRow.id)
        )
        return [tuple(row) for row in rows]


async def test_a_watch_word_alerts_the_admins_once_per_member_an_hour_with_a_link(bot: Harness):
    await started(bot, ADMIN)
    [added] = await bot.say(ADMIN, "/watch add 投诉, 退款, refund")
    in_group = len(bot.world.sent(GROUP))

    first, _ = await say(bot, ALICE, "I want a Refund <b>now</b>, or I post a scam alert", MONDAY)
    await say(bot, ALICE, "退款！退款！", MONDAY + 30 * MINUTE)  # within her hour
    bobs, _ = await say(bot, BOB, "我要投诉", MONDAY + 40 * MINUTE)  # another member
    await say(bot, ALICE, "scampi, anyone?", MONDAY + 61 * MINUTE)  # no word
    again, _ = await say(bot, ALICE, "still no refund", MONDAY + 62 * MINUTE)

    assert "👀 Now watching: <code>投诉</code>, <code>退款</code>, <code>refund</code>." in added
    assert len(bot.world.sent(GROUP)) == in_group  # nothing is said in the group
    to_admin = alerts(bot, ADMIN)
    assert len(to_admin) == 3
    assert to_admin[0].split("\n") == [
        "👀 <b>Watch word</b> <code>refund</code> in Sunny Tea Club",
        '<a href="tg://user?id=5000000123">Alice Liu</a>: '
        "“I want a Refund &lt;b&gt;now&lt;/b&gt;, or I post a scam alert”",
        f'<a href="{LINK}{first}">Open the message</a>',
        "<i>At most one alert per member an hour. /watch list shows the words.</i>",
    ]
    assert f'<a href="{LINK}{bobs}">' in to_admin[1] and "<code>投诉</code>" in to_admin[1]
    assert f'<a href="{LINK}{again}">' in to_admin[2]
    assert alerts(bot, OWNER) == []  # an admin who never started the bot
    assert [(u, m["word"]) for u, _, m in await logged(bot, EventKind.WATCH_ALERT)] == [
        (ALICE, "refund"), (BOB, "投诉"), (ALICE, "refund"),
    ]  # fmt: skip


async def test_admins_bots_commands_edits_and_private_chats_are_not_heard(bot: Harness):
    await started(bot, ADMIN, ALICE)
    await bot.say(ADMIN, "/watch add refund")
    await bot.say(ADMIN, "/faq add refund | Refunds within 7 days.")
    bot.world.add_user(77, "Spam Bot", is_bot=True)
    bot.world.set_status(GROUP, 77, "member")
    original = bot.world.message(GROUP, BOB, "hello", at=MONDAY)
    await bot.send(original)

    said = [
        *await bot.say(ADMIN, "refund?", at=MONDAY),
        *await bot.say(OWNER, "refund?", at=MONDAY),
        *await bot.say(77, "refund?", at=MONDAY),
        *await bot.send(bot.world.anonymous_admin_message(GROUP, "refund?", at=MONDAY)),
        *await bot.say(BOB, "/me refund", at=MONDAY),
        *await bot.send(bot.world.edited(original, "refund?")),
        *await bot.say(ALICE, "refund?", at=MONDAY, chat=ALICE),
    ]

    assert all("Refunds within" not in s for s in said)
    assert alerts(bot, ADMIN) == []
    [answer] = await in_group(bot, bot.world.message(GROUP, CAROL, "Refund?", at=MONDAY))
    assert answer == "Refunds within 7 days." and len(alerts(bot, ADMIN)) == 1


async def test_a_redelivered_update_alerts_and_answers_once(bot: Harness):
    await started(bot, ADMIN)
    await bot.say(ADMIN, "/watch add 退款")
    await bot.say(ADMIN, "/faq add 退款 | 7 天无理由退款")
    update = bot.world.message(GROUP, ALICE, "怎么退款", at=MONDAY)

    first = await in_group(bot, update)
    again = await bot.send(update)
    bot.app.bot_data.deps.books.forget(GROUP)  # a restart: only the database remembers
    after_restart = await bot.send(update)

    assert first == ["7 天无理由退款"] and again == [] and after_restart == []
    assert len(alerts(bot, ADMIN)) == 1
    assert len(await logged(bot, EventKind.FAQ_ANSWER)) == 1


async def test_switched_off_alerts_and_answers_are_not_sent(bot: Harness):
    await started(bot, ADMIN)
    await bot.say(ADMIN, "/watch add 退款")
    await bot.say(ADMIN, "/faq add 退款 | 7 天")
    await bot.say(ADMIN, "/set watch_alerts off")
    [paused] = await bot.say(ADMIN, "/set faq_replies off")

    silent = await bot.say(ALICE, "退款", at=MONDAY)
    [listed] = await bot.say(ADMIN, "/watch list")
    await bot.say(ADMIN, "/set watch_alerts on")
    await bot.say(ADMIN, "/set faq_replies on")
    bot.clock.advance(120)  # the group's minute is full of the admin's replies
    heard = await in_group(bot, bot.world.message(GROUP, ALICE, "退款", at=MONDAY + MINUTE))

    assert "<code>faq_replies</code> is now <code>off</code>" in paused
    assert silent == [] and "Alerts are paused" in listed
    assert heard == ["7 天"] and len(alerts(bot, ADMIN)) == 1


async def test_watch_words_are_admins_only_checked_and_capped(bot: Harness):
    [member] = await bot.say(ALICE, "/watch add 退款")
    [long] = await bot.say(ADMIN, "/watch add ok, " + "x" * 33)
    [none] = await bot.say(ADMIN, "/watch add , ，")
    await bot.say(ADMIN, "/watch add " + ", ".join(f"w{i}" for i in range(50)))
    [full] = await bot.say(ADMIN, "/watch add one more")
    [removed] = await bot.say(ADMIN, "/watch remove w1, nope")
    [listed] = await bot.say(ADMIN, "/watch")
    [usage] = await bot.say(ADMIN, "/watch what")

    assert member == "🙏 Sorry, only group admins can do that."
    assert "is longer than 32 characters" in long and "Nothing was changed" in long
    assert "Which words?" in none
    assert "at most 50 words" in full
    assert removed.split("\n") == [
        "🗑 No longer watching: <code>w1</code>.",
        "Not watched: <code>nope</code>.",
        "The group watches 49 words of at most 50.",
    ]
    assert listed.startswith("👀 Watch words (49):") and "<code>ok</code>" not in listed
    assert "/watch add 投诉, 退款, refund" in usage


async def test_a_saved_question_is_answered_once_per_cooldown_quoting_the_member(bot: Harness):
    command = "/faq add 发货/快递 | 下单后 48 小时内发货"
    bold = {"type": "bold", "offset": command.index("48"), "length": 2}
    entities = [{"type": "bot_command", "offset": 0, "length": 4}, bold]
    [saved] = await bot.send(bot.world.message(GROUP, ADMIN, command, entities=entities))

    asked, [answer] = await say(bot, ALICE, "请问什么时候发货？", MONDAY)
    _, soon = await say(bot, BOB, "快递到哪了", MONDAY + 4 * MINUTE)
    _, later = await say(bot, BOB, "快递到哪了", MONDAY + 5 * MINUTE)
    [listed] = await bot.say(ADMIN, "/faq list")

    assert saved.startswith("💬 FAQ #") and "a member asking <code>发货/快递</code>" in saved
    assert answer == "下单后 <b>48</b> 小时内发货"
    reply = next(c for c in bot.world.sent(GROUP) if c.text == answer)
    assert reply.params["reply_parameters"]["message_id"] == asked
    assert soon == [] and later == [answer]
    assert "one answer per question every 5 min" in listed
    assert "<code>发货/快递</code> → 下单后 48 小时内发货 <i>(answered 2 times)</i>" in listed
    faq_id = int(saved.split("#")[1].split(" ")[0])
    assert [(u, v) for u, v, _ in await logged(bot, EventKind.FAQ_ANSWER)] == [
        (ALICE, faq_id),
        (BOB, faq_id),
    ]


async def test_the_most_specific_question_is_answered_and_the_cooldown_is_a_setting(bot: Harness):
    await bot.say(ADMIN, "/faq add 退款 | 联系客服退款")
    await bot.say(ADMIN, "/faq add 怎么+退款 | 订单页点「申请退款」")
    [changed] = await bot.say(ADMIN, "/set faq_cooldown 1")
    [refused] = await bot.say(ADMIN, "/set faq_cooldown 0")

    [specific] = await bot.say(ALICE, "退款怎么弄", at=MONDAY)
    [general] = await bot.say(ALICE, "我要退款", at=MONDAY)
    [after_a_minute] = await bot.say(BOB, "怎么退款？", at=MONDAY + MINUTE)

    assert "<code>faq_cooldown</code> is now <code>1</code>" in changed
    assert "out of range" in refused
    assert specific == "订单页点「申请退款」" and general == "联系客服退款"
    assert after_a_minute == specific


async def test_faqs_are_checked_replaced_removed_and_admins_only(bot: Harness):
    [member] = await bot.say(ALICE, "/faq add 发货 | 明天")
    [no_answer] = await bot.say(ADMIN, "/faq add 发货")
    [replied] = await bot.send(
        bot.world.message(
            GROUP, ADMIN, "/faq add 发货", reply_to_message=bot.world.message(
                GROUP, ADMIN, "顺丰包邮，48 小时内发出"
            )["message"],
        )
    )  # fmt: skip
    [replaced] = await bot.say(ADMIN, "/faq add 发货 | 24 小时内发出")
    [long] = await bot.say(ADMIN, "/faq add 介绍 | " + "长" * 1001)
    [removed] = await bot.say(ADMIN, "/faq remove 发货")
    [again] = await bot.say(ADMIN, "/faq remove 发货")
    [empty] = await bot.say(ADMIN, "/faq")

    assert member == "🙏 Sorry, only group admins can do that."
    assert "What is the answer?" in no_answer
    assert "saved" in replied and "its answer is replaced" in replaced
    assert "The answer is too long (1001 characters, at most 1000)" in long
    assert "is removed" in removed
    assert again == "❌ This group has no FAQ <code>发货</code>. /faq list shows its questions."
    assert "No FAQs yet" in empty


async def test_an_admin_of_another_group_cannot_remove_or_see_this_groups_faq(bot: Harness):
    [saved] = await bot.say(ADMIN, "/faq add 发货 | 48 小时内")
    faq_id = saved.split("#")[1].split(" ")[0]
    bot.world.add_user(OTHER_OWNER, "Otto", language_code="en")
    bot.world.add_group(OTHER, "Other Club", owner=OTHER_OWNER)
    await bot.send(bot.world.add_bot(OTHER, by=OTHER_OWNER, at=MONDAY - dt.timedelta(days=1)))

    [refused] = await bot.say(OTHER_OWNER, f"/faq remove {faq_id}", chat=OTHER)
    [theirs] = await bot.say(OTHER_OWNER, "/faq list", chat=OTHER)
    not_answered = await bot.say(OTHER_OWNER, "发货?", chat=OTHER)
    [still] = await bot.say(ADMIN, "/faq list")

    assert (
        refused
        == f"❌ This group has no FAQ <code>#{faq_id}</code>. /faq list shows its questions."
    )
    assert "No FAQs yet" in theirs and not_answered == []
    assert f"#{faq_id} <code>发货</code>" in still


async def test_texts_are_in_chinese_for_a_chinese_group_and_each_admins_own_language(bot: Harness):
    bot.world.set_status(GROUP, BOB, "administrator")  # 鲍勃 reads Chinese
    bot.app.bot_data.deps.admins.forget(GROUP)
    await started(bot, ADMIN, BOB)
    await bot.say(OWNER, "/set language zh")

    [added] = await bot.say(ADMIN, "/watch add 退款")
    [saved] = await bot.say(ADMIN, "/faq add 退款 | 7 天无理由")
    [usage] = await bot.say(ADMIN, "/faq help")
    [settings] = await bot.say(ADMIN, "/settings")
    [bad] = await bot.say(ADMIN, "/set watch_alerts maybe")
    [answer] = await in_group(bot, bot.world.message(GROUP, ALICE, "我要退款", at=MONDAY))

    assert added.startswith("👀 已开始监控：<code>退款</code>。")
    assert saved.startswith("💬 话术 #") and "成员问到 <code>退款</code> 时会收到答案" in saved
    assert usage.startswith("💬 客服话术（FAQ 自动回复）")
    for key in ("watch_alerts", "faq_replies", "faq_cooldown"):
        assert f"<code>{key}</code>" in settings
    assert "只能是 on 或 off" in bad
    assert answer == "7 天无理由"
    [zh] = alerts(bot, BOB)
    [en] = alerts(bot, ADMIN)
    assert zh.startswith("👀 <b>舆情提醒</b>：Sunny Tea Club 中出现 <code>退款</code>")
    assert "查看消息" in zh and "Open the message" in en


async def test_an_ordinary_message_costs_no_database_statement(bot: Harness):
    await bot.say(ADMIN, "/watch add 退款")
    await bot.say(ALICE, "hello", at=MONDAY)  # the book is read once
    engine = bot.app.bot_data.deps.uow()._sessions.kw["bind"]  # type: ignore[attr-defined]
    statements: list[str] = []

    def count(*args: Any) -> None:
        statements.append(args[2])

    event.listen(engine.sync_engine, "before_cursor_execute", count)
    try:
        for i in range(20):
            await bot.say(BOB, f"chatter {i}", at=MONDAY + i * MINUTE)
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", count)
    await bot.say(ADMIN, "/watch add 投诉")  # a change is heard at once
    await started(bot, ADMIN)
    await bot.say(ALICE, "我要投诉", at=MONDAY + HOUR)

    assert statements == []
    assert len(alerts(bot, ADMIN)) == 1


@pytest.fixture
async def limited(database_url: str) -> AsyncIterator[Harness]:
    """The group with 30 more members, and a double that refuses what Telegram would."""
    harness, app = await make_harness(database_url, flood_limits=True, bot_owner_ids="999")
    for i in range(30):
        harness.world.add_user(1000 + i, f"M{i:02d}", language_code="en")
        harness.world.set_status(GROUP, 1000 + i, "member")
    yield harness
    await harness.clock.run(stop_offline(app))
    assert harness.world.problems() == []


async def test_thirty_members_asking_at_once_get_one_answer_within_telegrams_limits(
    limited: Harness,
):
    bot = limited
    acks = bot.app.bot_data.deps.acks
    assert isinstance(acks, GroupAcks)
    await bot.say(ADMIN, "/faq add 发货 | 48 小时内发货", at=bot.clock.now())
    bot.clock.advance(120)

    for i in range(30):  # a check-in rush: the group's minute is soon busy
        await bot.send(bot.world.message(GROUP, 1000 + i, "签到", at=bot.clock.now()))
        bot.clock.advance(0.1)
        await acks.settled()
    for i in range(30):  # then everyone asks the same question
        await bot.send(bot.world.message(GROUP, 1000 + i, "什么时候发货?", at=bot.clock.now()))
        bot.clock.advance(0.1)
        await acks.settled()
    while acks.waiting():
        bot.clock.advance(1.0)
        await acks.settled()
    bot.clock.advance(5 * 60)
    [alone] = await in_group(bot, bot.world.message(GROUP, BOB, "发货了吗", at=bot.clock.now()))

    lines = [line for text in bot.world.shown(GROUP) for line in text.split("\n")]
    assert [line for line in lines if "48 小时内发货" in line] == [
        "💬 <b>M00</b>, about 发货: 48 小时内发货",  # a line in the rush's shared message
        "48 小时内发货",  # alone, quoting Bob, after the cooldown
    ]
    assert alone == "48 小时内发货"
    assert len([line for line in lines if "checked in" in line or "✅ #" in line]) == 30
    assert bot.world.refused_429 == 0


@pytest.mark.parametrize("ref", ["99999999999999999999", "٣", "-1", "#0", "<b>x</b>", "发货x"])
async def test_odd_faq_references_are_answered_and_change_nothing(bot: Harness, ref: str):
    await bot.say(ADMIN, "/faq add 发货 | 48 小时内")

    [said] = await bot.say(ADMIN, f"/faq remove {ref}")
    [nothing] = await bot.say(ADMIN, "/faq remove")
    [listed] = await bot.say(ADMIN, "/faq list")

    assert said.startswith("❌ This group has no FAQ <code>")
    assert nothing.startswith("❌ Which one?")
    assert "<code>发货</code> → 48 小时内" in listed


async def test_a_word_no_database_could_store_is_stored_with_its_odd_characters_replaced(
    bot: Harness,
):
    [added] = await bot.say(ADMIN, "/watch add bad\x00word, 退\udc00款")
    [listed] = await bot.say(ADMIN, "/watch list")

    assert "bad\ufffdword" in added and "\x00" not in listed and "退\ufffd款" in listed


async def test_faq_list_at_the_50_cap_with_long_answers_fits_one_message(bot: Harness):
    await say_many(bot, ADMIN, 50, "/faq add 问题{i} | " + "下单后 48 小时内发货" * 6)

    listed = await bot.say(ADMIN, "/faq list", at=bot.clock.now())

    assert bot.world.problems() == []  # 4,581 characters were refused by Telegram
    assert len(listed) == 1 and "问题0" in listed[0]
