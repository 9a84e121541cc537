"""/survey csat|nps @audience through the real handlers and the outbox: the question goes
privately, through the outbox at Telegram's pace, to the saved audience's members who
started the bot, each with the survey's buttons; a tap counts only on the message sent to
that member and only while they are a present member of the survey's group."""

from __future__ import annotations

import datetime as dt

from bot.app import stop_offline
from campaigns.members import Person
from campaigns.services.invite_links import mark_reachable
from handlers.callbacks import SurveyButton
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
    tap,
)
from tests.handlers.test_broadcasts import members_who_started
from tests.handlers.test_surveys import say


def survey_buttons(bot: Harness, chat: int) -> list[list[str]]:
    """The callback data under the newest message the bot sent to `chat`."""
    rows = bot.world.sent(chat)[-1].params.get("reply_markup", {}).get("inline_keyboard", [])
    return [[b["callback_data"] for b in row] for row in rows]


async def fans_asked(bot: Harness) -> tuple[int, str]:
    """Alice (en) and Bob (zh) are @fans; Carol started the bot but is not one."""
    await members_who_started(bot, ALICE, BOB, CAROL)
    await say(bot, OWNER, "/audience save fans lang=en or lang=zh")
    [asked] = await say(bot, ADMIN, "/survey nps @fans Would you recommend Sunny Tea?")
    survey_id = int(asked.split("#")[1].split()[0])
    return survey_id, asked


async def test_the_audience_is_asked_privately_and_answers_on_its_own_messages(bot: Harness):
    survey_id, asked = await fans_asked(bot)
    before = [len(bot.world.delivered(uid)) for uid in (ALICE, BOB, CAROL)]
    await bot.drain()

    question = bot.world.sent(ALICE)[-1].text
    alice = await tap(bot, ALICE, ALICE, SurveyButton(survey_id, 10))
    bob = await tap(bot, BOB, BOB, SurveyButton(survey_id, 3))
    bob_again = await tap(bot, BOB, BOB, SurveyButton(survey_id, 6))
    bot.world.start_private(ADMIN)
    await say(bot, ADMIN, f"/survey results {survey_id}")
    report = bot.world.sent(ADMIN)[-1].text

    assert asked.startswith(f"📬 Survey #{survey_id} goes privately to 2 members of "
                            "<code>@fans</code> who started me")  # fmt: skip
    assert before == [1, 1, 1]  # only their /start replies: nothing before the outbox sends
    assert question.startswith("📋 <b>Sunny Tea Club</b> asks for your feedback:\n"
                               "<b>Would you recommend Sunny Tea?</b>")  # fmt: skip
    assert survey_buttons(bot, ALICE)[1][-1] == f"sv:{survey_id}:10"
    assert len(bot.world.delivered(BOB)) == 2 and len(bot.world.delivered(CAROL)) == 1
    assert "sv:" not in str(bot.world.sent(GROUP)[-1].params)  # nothing posted in the group
    assert alice == "Thank you! Your answer: 10"
    assert bob == "谢谢！你的回答：3"
    assert bob_again == "你的回答已改为 6。"
    assert f"#{survey_id} NPS · " in report and "privately to <code>@fans</code>" in report
    assert "Sent privately to 2 of 2 members so far." in report
    assert "NPS +0 (1 promoters, 1 detractors of 2)" in report


async def test_a_tap_elsewhere_or_after_leaving_the_group_changes_nothing(bot: Harness):
    survey_id, _ = await fans_asked(bot)
    await bot.drain()
    sent = bot.world.button_message(ALICE, f"sv:{survey_id}:10")
    assert sent is not None
    on_alices = {"message_id": sent["message_id"]}

    refusals = [
        await tap(bot, CAROL, CAROL, SurveyButton(survey_id, 9), **on_alices),  # not hers
        await tap(bot, CAROL, CAROL, SurveyButton(survey_id, 9), fresh=True),
        await tap(bot, ALICE, ALICE, f"sv:{survey_id}:11", **on_alices),  # off the 0-10 scale
    ]
    await bot.send(bot.world.member_update(GROUP, ALICE, "left", at=bot.clock.now()))
    gone = await tap(bot, ALICE, ALICE, SurveyButton(survey_id, 10))
    bot.world.start_private(ADMIN)
    await say(bot, ADMIN, f"/survey results {survey_id}")
    report = bot.world.sent(ADMIN)[-1].text

    wrong = "This button doesn't belong here. Use the button on the bot's own post."
    assert refusals == [wrong, wrong, "That is not an answer to this survey."]
    assert gone.startswith("🙏 This is for members of the group.")
    assert "no answers yet" in report


async def test_a_429_is_waited_out_and_closing_stops_the_rest(bot: Harness):
    survey_id, _ = await fans_asked(bot)
    bot.world.fail_next("sendMessage", 429, "Too Many Requests: retry after 3", retry_after=3)
    await bot.drain()
    first_round = [len(bot.world.delivered(uid)) for uid in (ALICE, BOB)]
    bot.clock.advance(5)
    await bot.drain()

    assert sorted(first_round) == [1, 2]  # one refused: back in the queue for 3 s
    assert [len(bot.world.delivered(uid)) for uid in (ALICE, BOB)] == [2, 2]
    assert await tap(bot, ALICE, ALICE, SurveyButton(survey_id, 9)) == "Thank you! Your answer: 9"

    [later] = await say(bot, ADMIN, "/survey csat @fans And the delivery?")
    later_id = int(later.split("#")[1].split()[0])
    [closed] = await say(bot, ADMIN, f"/survey close {later_id}")
    await bot.drain()

    assert closed == f"Survey #{later_id} is closed: its buttons take no more answers."
    assert [len(bot.world.delivered(uid)) for uid in (ALICE, BOB)] == [2, 2]  # never sent


async def test_unknown_or_empty_audiences_and_members_are_refused(bot: Harness):
    await members_who_started(bot, ALICE)
    await say(bot, OWNER, "/audience save nobody lang=fr")

    [unknown] = await say(bot, ADMIN, "/survey csat @ghosts How was it?")
    [empty] = await say(bot, ADMIN, "/survey csat @nobody How was it?")
    [bad] = await say(bot, ADMIN, "/survey nps @a.b How was it?")
    [member] = await say(bot, ALICE, "/survey csat @nobody Mine?")
    listing, _in_group = await say(bot, ADMIN, "/survey list")
    await bot.drain()

    assert "No saved audience named <code>ghosts</code>" in unknown
    assert empty == (
        "Nobody <code>@nobody</code> selects has started me, so nobody can be asked "
        "privately. Nothing was sent."
    )
    assert bad.startswith("❌ Not an audience name: <code>@a.b</code>.")
    assert "only group admins" in member
    assert listing.startswith("No surveys yet.")
    assert len(bot.world.delivered(ALICE)) == 1  # /start's reply only


async def test_many_members_are_asked_within_telegrams_limits(database_url: str):
    bot, app = await make_harness(database_url, flood_limits=True, bot_owner_ids="999")
    members = list(range(700, 745))
    for uid in members:
        bot.world.add_user(uid, f"M{uid}", language_code="en")
        bot.world.set_status(GROUP, uid, "member")
        await bot.say(uid, "hi", at=MONDAY + dt.timedelta(seconds=uid))
        bot.world.start_private(uid)
        who = Person(uid, f"M{uid}", None, "en")
        await mark_reachable(bot.app.bot_data.deps.uow(), uid, True, who)
    await bot.flush()
    await bot.clock.run(say(bot, OWNER, "/audience save everyone_en lang=en"))
    await bot.clock.run(say(bot, ADMIN, "/survey csat @everyone_en How was your order?"))
    began = bot.clock.monotonic()

    await bot.drain()

    sends = [c for c in bot.world.calls if c.method == "sendMessage" and c.at >= began
             and int(c.params["chat_id"]) in members]  # fmt: skip
    assert bot.world.refused_429 == 0
    assert all(bot.world.delivered(uid)[-1].startswith("📋 <b>Sunny Tea Club</b>")
               for uid in members)  # fmt: skip
    assert len(sends) == len(members)  # one each, none refused and resent
    assert max(c.at for c in sends) - min(c.at for c in sends) >= (len(members) - 1) / 30
    await bot.clock.run(stop_offline(app))
    assert bot.world.problems() == []
