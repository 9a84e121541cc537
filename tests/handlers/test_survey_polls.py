"""/survey poll through the real handlers and the Bot API double: a native, non-anonymous
poll in the group, votes counted per member from poll_answer (changed, taken back), none
from outside the group, results per option in English and Chinese, and closing stops it."""

from __future__ import annotations

from typing import Any

from tests.handlers.conftest import ADMIN, ALICE, BOB, CAROL, GROUP, OWNER, Harness
from tests.handlers.test_surveys import STRANGER, say


def sent_poll(bot: Harness) -> dict[str, Any]:
    """The poll the bot sent last in the group, as members see it now."""
    poll = bot.world.poll(GROUP)
    assert poll is not None
    return poll


async def vote(bot: Harness, user: int, options: list[int]) -> list[str]:
    """`user` votes (empty: takes the vote back); what the bot said in reply (nothing)."""
    return await bot.send(bot.world.poll_answer(sent_poll(bot)["id"], user, options))


async def a_flavour_poll(bot: Harness) -> int:
    await say(bot, ADMIN, "/survey poll Which flavour next? | Mango | Lychee | Peach & <b>")
    [request] = [c for c in bot.world.calls if c.method == "sendPoll"]
    assert request.params["is_anonymous"] is False
    assert request.params["question"] == "Which flavour next?"
    assert [o["text"] for o in request.params["options"]] == ["Mango", "Lychee", "Peach & <b>"]
    assert not {"parse_mode", "question_parse_mode"} & request.params.keys()  # plain text
    assert not any("text_parse_mode" in o for o in request.params["options"])  # each option too
    [line] = [x for x in (await say(bot, ADMIN, "/survey list"))[0].splitlines() if "#" in x]
    return int(line.split()[0].removeprefix("#"))


async def test_members_vote_change_and_take_back_and_the_admin_reads_each_option(bot: Harness):
    w = bot.world
    w.add_user(STRANGER, "Stan", language_code="en")  # saw the poll forwarded elsewhere
    survey_id = await a_flavour_poll(bot)

    replies = [
        await vote(bot, ALICE, [0]),
        await vote(bot, BOB, [1]),
        await vote(bot, CAROL, [0]),
        await vote(bot, CAROL, [2]),  # changed
        await vote(bot, BOB, []),  # taken back
        await vote(bot, STRANGER, [1]),  # not a member: not counted
    ]
    w.start_private(ADMIN)
    *_, note = await say(bot, ADMIN, f"/survey results {survey_id}")
    report = w.sent(ADMIN)[-1].text

    assert replies == [[]] * 6  # Telegram expects no answer to a vote
    assert sent_poll(bot)["total_voter_count"] == 3  # Telegram counts Stan; the bot does not
    assert note == "📬 I sent you the survey results privately."
    assert f"#{survey_id} Poll · " in report and "· open" in report
    assert "Which flavour next?" in report
    assert "<code> 1</code> Mango ██████████ 1 (50%)" in report
    assert "<code> 2</code> Lychee  0" in report
    assert "<code> 3</code> Peach &amp; &lt;b&gt; ██████████ 1 (50%)" in report
    assert "\n2 votes" in report
    assert "over time" not in report  # a poll has no score to trend


async def test_closing_stops_the_poll_and_later_votes_count_not(bot: Harness):
    survey_id = await a_flavour_poll(bot)
    await vote(bot, ALICE, [1])

    [closed] = await say(bot, ADMIN, f"/survey close {survey_id}")
    [again] = await say(bot, ADMIN, f"/survey close {survey_id}")
    listing, _in_group = await say(bot, ADMIN, "/survey list")

    assert closed == f"Poll #{survey_id} is closed and stopped: it takes no more votes."
    assert again == "This survey is closed: answers are no longer taken."
    [poll_message] = [m for (chat, _), m in bot.world.messages.items() if "poll" in m]
    stopped = [c.params for c in bot.world.calls if c.method == "stopPoll"]
    assert stopped == [{"chat_id": GROUP, "message_id": poll_message["message_id"]}]
    assert sent_poll(bot)["is_closed"] is True
    assert f"#{survey_id} Poll · " in listing and "· closed · 1 vote" in listing


async def test_a_vote_that_reaches_the_bot_after_closing_is_not_counted(bot: Harness):
    survey_id = await a_flavour_poll(bot)
    bot.world.fail_next("stopPoll", 400, "Bad Request: message with poll to stop not found")

    [closed] = await say(bot, ADMIN, f"/survey close {survey_id}")  # closed here regardless
    await vote(bot, ALICE, [0])  # Telegram's poll still open: the bot refuses the vote
    listing, _in_group = await say(bot, ADMIN, "/survey list")

    assert closed.startswith(f"Poll #{survey_id} is closed")
    assert "no votes yet" in listing


async def test_a_poll_in_chinese_with_full_width_bars(bot: Harness):
    await say(bot, OWNER, "/set language zh")
    await say(bot, ADMIN, "/survey poll 下次出什么口味？｜芒果｜荔枝")
    await vote(bot, BOB, [1])
    *_, report = await say(bot, ADMIN, "/survey results")
    listing, _in_group = await say(bot, ADMIN, "/survey list")

    assert [o["text"] for o in sent_poll(bot)["options"]] == ["芒果", "荔枝"]
    assert "<b>调查结果</b>" in report and " 投票 · " in report and "进行中" in report
    assert "<code> 2</code> 荔枝 ██████████ 1 (100%)" in report
    assert "1 票" in report
    assert "下次出什么口味？" in listing


async def test_bad_polls_and_unknown_votes_change_nothing(bot: Harness):
    thirteen = " ".join(f"| {i}" for i in range(13))
    replies = [
        await say(bot, ADMIN, "/survey poll Which? | Only one"),
        await say(bot, ADMIN, f"/survey poll Which? {thirteen}"),
        await say(bot, ADMIN, "/survey poll Which? | Mango | mango"),
        await say(bot, ADMIN, f"/survey poll Which? | Mango | {'x' * 101}"),
        await say(bot, ADMIN, "/survey poll @vip Which? | Mango | Lychee"),
        await say(bot, ALICE, "/survey poll Mine? | a | b"),
    ]
    unknown = {
        "update_id": 999_999,
        "poll_answer": {"poll_id": "42", "user": bot.world.users[ALICE], "option_ids": [0],
                        "option_persistent_ids": ["0"]},
    }  # fmt: skip
    said = await bot.send(unknown)
    listing, _in_group = await say(bot, ADMIN, "/survey list")

    [few], [many], [twice], [long], [audience], [member] = replies
    assert few.startswith("A poll has 2 to 12 options, each after a <code>|</code>")
    assert many == few
    assert twice == "The option <code>mango</code> is given twice."
    assert long.startswith("An option is 1 to 100 characters on one line: <code>xxx")
    assert audience.startswith("A poll is posted in the group only.")
    assert "only group admins" in member
    assert said == []
    assert [c for c in bot.world.calls if c.method == "sendPoll"] == []
    assert listing.startswith("No surveys yet.")


async def test_an_option_with_markup_characters_is_posted_as_plain_text(bot: Harness):
    """Telegram parses an option sent with text_parse_mode HTML: "<b>" never closed would be
    refused. Sent plain, it is posted as typed."""
    await say(bot, ADMIN, "/survey poll Which? | 1 < 2 | Peach & <b>")

    assert [o["text"] for o in sent_poll(bot)["options"]] == ["1 < 2", "Peach & <b>"]


async def test_a_poll_telegram_refuses_is_reported_and_leaves_no_survey(bot: Harness):
    bot.world.fail_next("sendPoll", 400, "Bad Request: POLL_OPTION_INVALID")

    [reply] = await say(bot, ADMIN, "/survey poll Which flavour next? | Mango | Lychee")
    listing, _in_group = await say(bot, ADMIN, "/survey list")

    assert reply == (
        "⚠️ Telegram refused the poll, so nothing was posted and no survey was made: "
        "Poll_option_invalid"  # as PTB words Telegram's description
    )
    assert "Which flavour next?" not in listing and "#1 " not in listing
    assert bot.world.poll(GROUP) is None


async def test_a_refused_poll_is_reported_in_chinese(bot: Harness):
    await say(bot, OWNER, "/set language zh")
    bot.world.fail_next("sendPoll", 400, "Bad Request: POLL_OPTION_INVALID")

    [reply] = await say(bot, ADMIN, "/survey poll 下次出什么口味？｜芒果｜荔枝")

    assert reply.startswith("⚠️ Telegram 拒绝了这个投票，群里没有发出，也没有创建调查")
