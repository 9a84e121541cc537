"""/survey through the real handlers, in English and Chinese: the question with its rating
buttons, answers (a second tap changes one), the results with CSAT and NPS privately, closing,
and forged taps that change nothing."""

from __future__ import annotations

import re
from typing import Any

from handlers.callbacks import SurveyButton
from tests.handlers.conftest import (
    ADMIN,
    ALICE,
    BOB,
    CAROL,
    GROUP,
    OWNER,
    Harness,
    say_many,
    tap,
)

STRANGER, OTHER, OTHER_OWNER = 62, -1001500000002, 60


def survey_post(bot: Harness, chat: int = GROUP) -> tuple[int, str, list[list[str]]]:
    """The newest survey question the bot posted: its id, text and button labels."""
    for call in reversed(bot.world.sent(chat)):
        rows = call.params.get("reply_markup", {}).get("inline_keyboard", [])
        data = [b.get("callback_data", "") for row in rows for b in row]
        if data and data[0].startswith("sv:"):
            survey_id = int(data[0].split(":")[1])
            return survey_id, call.text, [[b["text"] for b in row] for row in rows]
    raise AssertionError("no survey posted")


async def say(bot: Harness, user: int, text: str, **kw: Any) -> list[str]:
    """A command at the clock's time, after a pause: the group's budget is never the test."""
    bot.clock.advance(120)
    return await bot.say(user, text, at=bot.clock.now(), **kw)


async def test_members_rate_change_their_answer_and_the_admin_reads_csat(bot: Harness):
    await say(bot, ADMIN, "/survey csat How was your last delivery?")
    survey_id, question, labels = survey_post(bot)

    first = await tap(bot, GROUP, ALICE, SurveyButton(survey_id, 4))
    changed = await tap(bot, GROUP, ALICE, SurveyButton(survey_id, 2))
    bob = await tap(bot, GROUP, BOB, SurveyButton(survey_id, 5))  # his language: zh
    carol = await tap(bot, GROUP, CAROL, SurveyButton(survey_id, 5))
    bot.world.start_private(ADMIN)
    *_, note = await say(bot, ADMIN, "/survey results")
    report = bot.world.sent(ADMIN)[-1].text

    assert question.startswith("📋 <b>How was your last delivery?</b>")
    assert "1 = very unsatisfied, 5 = very satisfied" in question
    assert labels == [["1⭐", "2⭐", "3⭐", "4⭐", "5⭐"]]
    assert first == "Thank you! Your answer: 4⭐"
    assert changed == "Your answer is changed to 2⭐."
    assert bob == "谢谢！你的回答：5⭐"
    assert carol == "Thank you! Your answer: 5⭐"
    assert note == "📬 I sent you the survey results privately."
    assert f"#{survey_id} CSAT" in report and "· open" in report
    assert "<code> 2</code> █████ 1" in report and "<code> 5</code> ██████████ 2" in report
    assert "CSAT 67% (2 of 3 satisfied)" in report
    assert "<b>CSAT over time</b>" in report


async def test_nps_in_a_chinese_group_two_rows_closing_and_the_trend(bot: Harness):
    await say(bot, OWNER, "/set language zh")
    await say(bot, ADMIN, "/survey nps 你有多大可能把我们推荐给朋友？")
    survey_id, question, labels = survey_post(bot)
    for user, value in ((ALICE, 10), (BOB, 9), (CAROL, 3)):
        await tap(bot, GROUP, user, SurveyButton(survey_id, value))

    [closed] = await say(bot, ADMIN, f"/survey close {survey_id}")
    late_zh = await tap(bot, GROUP, BOB, SurveyButton(survey_id, 0))
    late_en = await tap(bot, GROUP, ALICE, SurveyButton(survey_id, 0))
    [again] = await say(bot, ADMIN, f"/survey close {survey_id}")
    *_, report = await say(bot, ADMIN, f"/survey results {survey_id}")  # never started me
    listing, _in_group = await say(bot, ADMIN, "/survey list")

    assert "0 = 完全不可能，10 = 极有可能" in question
    assert labels == [["0", "1", "2", "3", "4", "5"], ["6", "7", "8", "9", "10"]]
    assert closed == f"调查 #{survey_id} 已结束：其按钮不再接受回答。"
    assert late_zh == "该调查已结束，不再收集回答。"
    assert late_en == "This survey is closed: answers are no longer taken."
    assert again == "该调查已结束，不再收集回答。"
    assert "<b>调查结果</b>" in report and "已结束" in report
    assert "NPS +33（3 人中推荐者 2、贬损者 1）" in report  # (2 − 1) / 3
    assert "<b>NPS 走势</b>" in report
    assert listing.startswith("<b>调查</b>") and "你有多大可能把我们推荐给朋友？" in listing


async def test_forged_taps_change_nothing(bot: Harness):
    w = bot.world
    w.add_user(STRANGER, "Stan", language_code="en")
    w.set_status(GROUP, STRANGER, "left")
    w.add_user(OTHER_OWNER, "Otto", language_code="en")
    w.add_group(OTHER, "Other Club", owner=OTHER_OWNER)
    await bot.send(w.add_bot(OTHER, by=OTHER_OWNER, at=bot.clock.now()))
    await say(bot, OTHER_OWNER, "/survey nps Theirs?", chat=OTHER)
    theirs, _, _ = survey_post(bot, OTHER)
    await say(bot, ADMIN, "/survey csat Ours?")
    ours, _, _ = survey_post(bot)
    ours_message = w.button_message(GROUP, f"sv:{ours}:1")
    assert ours_message is not None
    on_ours = {"message_id": ours_message["message_id"]}
    await say(bot, ADMIN, "/survey csat Closed one?")
    closed, _, _ = survey_post(bot)
    await tap(bot, GROUP, ALICE, SurveyButton(closed, 5))
    await say(bot, ADMIN, f"/survey close {closed}")

    refusals = [
        await tap(bot, GROUP, ALICE, SurveyButton(theirs, 10), **on_ours),  # another group's id
        await tap(bot, GROUP, STRANGER, SurveyButton(ours, 5)),  # not a member now
        await tap(bot, GROUP, ALICE, f"sv:{ours}:9", **on_ours),  # off the 1-5 scale
        await tap(bot, GROUP, ALICE, f"sv:{ours}:0", **on_ours),
        await tap(bot, GROUP, ALICE, SurveyButton(closed, 1)),  # closed
        await tap(bot, GROUP, ALICE, SurveyButton(ours, 5), fresh=True),  # not the survey's
        await tap(bot, STRANGER, STRANGER, SurveyButton(ours, 5), fresh=True),
    ]
    w.start_private(ADMIN)
    await say(bot, ADMIN, f"/survey results {ours}")
    ours_report = w.sent(ADMIN)[-1].text
    await say(bot, ADMIN, f"/survey results {closed}")
    closed_report = w.sent(ADMIN)[-1].text
    [foreign] = await say(bot, ADMIN, f"/survey results {theirs}")
    [member] = await say(bot, ALICE, "/survey csat Mine?")

    assert refusals[0] == "This button doesn't belong here. Use the button on the bot's own post."
    assert refusals[1].startswith("🙏 This is for members of the group.")
    assert refusals[2] == refusals[3] == "That is not an answer to this survey."
    assert refusals[4] == "This survey is closed: answers are no longer taken."
    assert refusals[5] == refusals[6] == refusals[0]
    assert "no answers yet" in ours_report
    assert "CSAT 100% (1 of 1 satisfied)" in closed_report
    assert foreign == f"There is no survey #{theirs} in this group."
    assert "only group admins" in member
    assert not re.search(r"sv:", str(w.sent(GROUP)[-1].params))  # no new survey was posted


async def test_the_trend_shows_each_score_with_its_change_since_the_one_before(bot: Harness):
    scores = []
    for question, values in (("First?", (5, 5, 4)), ("Second?", (5, 2, 1)), ("Third?", (4,))):
        await say(bot, ADMIN, f"/survey csat {question}")
        survey_id, _, _ = survey_post(bot)
        for user, value in zip((ALICE, BOB, CAROL), values, strict=False):
            await tap(bot, GROUP, user, SurveyButton(survey_id, value))
        scores.append(survey_id)
    await say(bot, ADMIN, "/survey nps Unanswered?")
    bot.world.start_private(ADMIN)
    await say(bot, ADMIN, f"/survey results {scores[1]}")
    report = bot.world.sent(ADMIN)[-1].text
    first, second, third = scores

    assert f"#{second} CSAT" in report and "Second?" in report
    assert f"#{first} · CSAT 100% (3 of 3 satisfied)\n" in report
    assert f"#{second} · CSAT 33% (1 of 3 satisfied) ↓ -67\n" in report
    assert f"#{third} · CSAT 100% (1 of 1 satisfied) ↑ +67\n" in report
    assert "<b>NPS over time</b>" in report and "· no answers yet" in report
    assert report.endswith("<i>Oldest first; ↑ ↓ the change since the survey before "
                           "(CSAT in percentage points).</i>")  # fmt: skip


async def test_survey_list_of_20_long_questions_fits_one_message(bot: Harness):
    await say_many(bot, ADMIN, 20, "/survey csat " + "问" * 290 + "{i}")

    listed = await bot.say(ADMIN, "/survey list", at=bot.clock.now())

    assert bot.world.problems() == []
    # The admin never started the bot: the private try is refused (403), so the list
    # comes in the group, as one message.
    assert listed[0] == listed[1] and listed[0].count("…") >= 1
    assert [c.status for c in bot.world.calls if c.method == "sendMessage"][-2:] == [403, 200]
