"""Rushes in one group (check-ins, /invite, group-buy joins) through the real handlers,
against a double that refuses what Telegram would (20 messages and edits a minute in a
group, 1 a second in a private chat, 30 a second overall): every member is answered, in
order, and nothing is refused. Minutes pass on the fake clock."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import re
from collections.abc import AsyncIterator

import pytest

from bot.acks import GroupAcks
from bot.app import stop_offline
from campaigns.groupbuys import Deal
from campaigns.members import Person
from campaigns.services.groupbuys import create_deal
from campaigns.services.invite_links import mark_reachable
from handlers.callbacks import GroupBuyButton, GroupBuyVerb
from tests.handlers.conftest import GROUP, OWNER, Harness, make_harness, tap

MEMBERS = 400
FIRST = 70_000_000
RANK = re.compile(r"#(\d+)")
DM_EVERY = 3  # one member in three has started the bot


@pytest.fixture
async def rush(database_url: str) -> AsyncIterator[Harness]:
    harness, app = await make_harness(database_url, flood_limits=True, bot_owner_ids="999")
    for i in range(MEMBERS):
        uid = FIRST + i
        harness.world.add_user(uid, f"M{i:03d}", language_code="en")
        harness.world.set_status(GROUP, uid, "member")
        if i % DM_EVERY == 0:
            who = Person(uid, f"M{i:03d}", None, "en")
            await mark_reachable(harness.app.bot_data.deps.uow(), uid, True, who)
            harness.world.start_private(uid)
    yield harness
    await harness.clock.run(stop_offline(app))
    assert harness.world.problems() == []


def acks_of(bot: Harness) -> GroupAcks:
    acks = bot.app.bot_data.deps.acks
    assert isinstance(acks, GroupAcks)
    return acks


async def wait(bot: Harness, seconds: float) -> None:
    """Time passes; what the clock woke finishes sending."""
    bot.clock.advance(seconds)
    await acks_of(bot).settled()


def group_texts(bot: Harness) -> list[str]:
    """Each check-in acknowledgement in the group as members read it now."""
    return [t for t in bot.world.shown(GROUP) if "checked in" in t or "✅ #" in t]


async def test_a_rush_of_hundreds_is_answered_in_order_without_a_single_429(rush: Harness):
    bot, acks = rush, acks_of(rush)
    began = bot.clock.monotonic()

    for i in range(MEMBERS):  # 300 check-ins in 15 seconds, then 100 more in a minute
        await bot.send(bot.world.message(GROUP, FIRST + i, "签到", at=bot.clock.now()))
        await wait(bot, 0.05 if i < 300 else 0.6)
    await bot.send(bot.world.message(GROUP, FIRST, "签到", at=bot.clock.now()))  # again
    while acks.waiting():
        await wait(bot, 1.0)
    took = bot.clock.monotonic() - began

    texts = group_texts(bot)
    ranks = [int(r) for text in texts for r in RANK.findall(text)]
    edits = [c for c in bot.world.calls if c.method == "editMessageText" and c.status == 200]
    sent = [c for c in bot.world.calls if c.method == "sendMessage" and c.status == 200]
    in_group = [c for c in sent if int(c.params["chat_id"]) == GROUP]
    private = [c for c in sent if int(c.params["chat_id"]) >= FIRST]
    print(
        f"\nrush: {MEMBERS} members, {len(texts)} group messages, {len(edits)} edits, "
        f"{len(private)} private details, {bot.world.refused_429} x 429, "
        f"{took:.0f} s of virtual time"
    )
    assert bot.world.refused_429 == 0
    assert ranks == list(range(1, MEMBERS + 1))  # everyone, once, in order
    assert "M000" in texts[-1] and "already checked in" in texts[-1]
    assert len(in_group) + len(edits) < 80  # a few minutes of the group's 20 a minute
    assert took < 5 * 60
    reachable = {FIRST + i for i in range(0, MEMBERS, DM_EVERY)}
    told = {int(c.params["chat_id"]) for c in private}
    alone = [text for text in texts if "today!" in text]  # quiet at first
    answered_alone = {FIRST + int(RANK.findall(text)[0]) - 1 for text in alone}
    assert told == reachable - answered_alone  # the rest saw their line only
    uow = bot.app.bot_data.deps.uow()
    async with uow:
        record = await uow.chats.get(GROUP)
        assert record is not None
        for i in range(MEMBERS):
            stats = await uow.members.stats(record.pk, FIRST + i)
            assert stats is not None and stats.checkins == 1


async def test_a_stop_sends_the_answers_still_waiting(
    rush: Harness, caplog: pytest.LogCaptureFixture
):
    bot, acks = rush, acks_of(rush)
    for i in range(60):
        await bot.send(bot.world.message(GROUP, FIRST + i, "签到", at=bot.clock.now()))
    owed = acks.waiting()
    assert owed > 0

    with caplog.at_level(logging.INFO, logger="bot.acks"):
        await bot.clock.run(acks.stop())

    ranks = [int(r) for text in group_texts(bot) for r in RANK.findall(text)]
    assert ranks == list(range(1, 61))
    assert acks.waiting() == 0 and bot.world.refused_429 == 0
    assert f"stopping: the {owed} acknowledgements still owed were sent" in caplog.text


async def test_a_stop_cut_off_by_its_time_limit_says_how_many_were_not_answered(
    rush: Harness, caplog: pytest.LogCaptureFixture
):
    bot, acks = rush, acks_of(rush)
    for i in range(300):
        await bot.send(bot.world.message(GROUP, FIRST + i, "签到", at=bot.clock.now()))
    stopping = asyncio.ensure_future(acks.stop())
    for _ in range(200):  # the stop sends what the group's minute has room for, then waits
        await asyncio.sleep(0)

    stopping.cancel()  # what the stop's time limit does
    with contextlib.suppress(asyncio.CancelledError):
        await stopping

    answered = {int(r) for text in group_texts(bot) for r in RANK.findall(text)}
    left = 300 - len(answered)
    assert left > 0 and acks.waiting() == left
    assert f"{left} acknowledgements could not be sent before the stop" in caplog.text
    # The full details owed privately to members who started the bot: sent, or counted
    # (how many were queued by then depends on the database's pace).
    told = sum(len(bot.world.sent(FIRST + i)) for i in range(0, 300, DM_EVERY))
    counted = re.search(r"(\d+) private details could not be sent", caplog.text)
    assert told + (int(counted.group(1)) if counted else 0) == acks.queued_privately


async def test_a_stop_in_the_middle_of_a_rush_answers_everyone_in_few_messages_and_soon(
    rush: Harness,
):
    bot, acks = rush, acks_of(rush)
    for i in range(300):
        await bot.send(bot.world.message(GROUP, FIRST + i, "签到", at=bot.clock.now()))
    waiting, before = acks.waiting(), len(bot.world.calls)
    began = bot.clock.monotonic()

    await bot.clock.run(acks.stop())

    group_calls = [
        c.method
        for c in bot.world.calls[before:]
        if c.params.get("chat_id") == GROUP and c.method in ("sendMessage", "editMessageText")
    ]
    ranks = [int(r) for text in group_texts(bot) for r in RANK.findall(text)]
    assert waiting > 250 and ranks == list(range(1, 301))
    assert len(group_calls) <= 6, group_calls  # each as full as Telegram's 4,096 characters allow
    assert bot.clock.monotonic() - began < 30  # well inside the stop's time limit
    assert bot.world.refused_429 == 0


async def test_another_reply_in_the_group_still_has_room_during_a_rush(rush: Harness):
    bot = rush
    for i in range(200):
        await bot.send(bot.world.message(GROUP, FIRST + i, "签到", at=bot.clock.now()))
        await wait(bot, 0.1)

    before = len(bot.world.calls)
    await bot.say(FIRST + 300, "/me", at=bot.clock.now())  # answered at once, in the group

    [me] = [c for c in bot.world.calls[before:] if c.method == "sendMessage"]
    assert me.status == 200 and int(me.params["chat_id"]) == GROUP and "M300" in me.text
    assert bot.world.refused_429 == 0


async def test_a_quiet_group_gets_one_reply_per_check_in_as_before(rush: Harness):
    bot = rush
    for i in range(3):
        [reply] = await bot.say(FIRST + i, "/checkin", at=bot.clock.now())
        assert f"M{i:03d}</b> checked in — #{i + 1} today!" in reply
        await wait(bot, 30)
    assert bot.world.refused_429 == 0


async def test_a_rush_of_invite_requests_shows_every_member_their_link(rush: Harness):
    bot, acks = rush, acks_of(rush)
    asking = range(120)

    for i in asking:  # 120 members ask for their link in 12 seconds
        await bot.send(bot.world.message(GROUP, FIRST + i, "/invite", at=bot.clock.now()))
        await wait(bot, 0.1)
    while acks.waiting():
        await wait(bot, 1.0)

    shown = "\n".join(bot.world.shown(GROUP))
    links = re.findall(r"(M\d{3})</b>.*?(https://t\.me/\+[\w-]+)", shown, re.S)
    assert [name for name, _ in links] == [f"M{i:03d}" for i in asking]  # each once, in order
    assert len({link for _, link in links}) == len(asking)
    assert bot.world.refused_429 == 0


async def test_a_rush_of_team_joins_keeps_the_cards_true_without_a_429(rush: Harness):
    bot = rush
    now = bot.clock.now()
    deal = await create_deal(
        bot.app.bot_data.deps.uow(),
        chat_id=GROUP,
        deal=Deal("Milk tea", 3000, 1990, 20, 60, now + dt.timedelta(days=1), None),
        description="Brown sugar boba",
        at=now,
    )
    await bot.say(OWNER, f"/groupbuy post {deal.id}")
    joining = range(100)

    # 100 taps on "join any team" in 20 seconds: five teams of 20, each team's coupons sent
    # privately as it completes (20 at once stay under the overall 30 a second)
    for i in joining:
        alert = await tap(bot, GROUP, FIRST + i, GroupBuyButton(GroupBuyVerb.JOIN_ANY, deal.id))
        if "start one" in alert:  # every team is full: this member starts the next
            alert = await tap(bot, GROUP, FIRST + i, GroupBuyButton(GroupBuyVerb.START, deal.id))
        assert "/20" in alert, alert  # each tapper is answered at once, in an alert
        await wait(bot, 0.2)
    await wait(bot, 120)

    cards = [text for text in bot.world.shown(GROUP) if "Team for" in text]
    assert len(cards) == 5 and all("is complete" in card for card in cards)
    assert bot.world.refused_429 == 0


async def test_a_429_from_elsewhere_mid_rush_is_waited_out_and_nobody_is_lost(rush: Harness):
    bot, acks = rush, acks_of(rush)
    for i in range(150):
        if i == 100:  # another process used up the group's minute: Telegram says wait 20 s
            bot.world.fail_next("sendMessage", 429, "Too Many Requests: retry after 20", 20)
        await bot.send(bot.world.message(GROUP, FIRST + i, "签到", at=bot.clock.now()))
        await wait(bot, 0.1)
    while acks.waiting():
        await wait(bot, 1.0)

    ranks = [int(r) for text in group_texts(bot) for r in RANK.findall(text)]
    assert ranks == list(range(1, 151))
    assert bot.world.refused_429 == 0  # besides the one injected, none


async def check_in_all_then_stop(bot: Harness, app: object, members: int) -> None:
    """`members` check in 50 ms apart; their answers are all sent, then the bot stops."""
    try:
        for i in range(members):
            await bot.send(bot.world.message(GROUP, FIRST + i, "签到", at=bot.clock.now()))
            await wait(bot, 0.05)
        while acks_of(bot).waiting():
            await wait(bot, 1.0)
    finally:
        await bot.clock.run(stop_offline(app))  # type: ignore[arg-type]


async def test_a_rush_of_members_with_emoji_names_is_answered_whole(database_url: str):
    """Telegram counts a message's 4096 in UTF-16 units: a name of 𝔸 and 😀 is twice as long
    there as in Python. Lists measured in Python characters came out too long, Telegram
    refused them, and those members were never answered."""
    bot, app = await make_harness(database_url, flood_limits=True, bot_owner_ids="999")
    members = 60
    for i in range(members):  # within Telegram's 64-character name fields
        bot.world.add_user(FIRST + i, "𝔸" * 32, last_name="😀" * 32, language_code="en")
        bot.world.set_status(GROUP, FIRST + i, "member")
    await check_in_all_then_stop(bot, app, members)

    ranks = sorted(int(r) for text in group_texts(bot) for r in RANK.findall(text))
    assert ranks == list(range(1, members + 1))
    assert bot.world.problems() == []  # nothing Telegram would refuse was sent


async def test_a_list_telegram_finds_too_long_is_sent_in_smaller_ones(database_url: str):
    """Whatever the measure, a list Telegram refuses as too long is never dropped: the
    same members go in lists of half as many lines."""
    bot, app = await make_harness(database_url, flood_limits=True, bot_owner_ids="999")
    members = 40
    for i in range(members):
        bot.world.add_user(FIRST + i, f"M{i:03d}", language_code="en")
        bot.world.set_status(GROUP, FIRST + i, "member")
    too_long = "Bad Request: message is too long"
    bot.world.fail_next("sendMessage", 400, too_long, after=7)  # 7 alone, then a list
    await check_in_all_then_stop(bot, app, members)

    refused = [c for c in bot.world.calls if c.method == "sendMessage" and c.status == 400]
    ranks = sorted(int(r) for text in group_texts(bot) for r in RANK.findall(text))
    assert len(refused) == 1 and len(RANK.findall(refused[0].params["text"])) > 1  # a list
    assert ranks == list(range(1, members + 1))
