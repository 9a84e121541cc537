"""The join captcha through the real handlers: a newcomer restricted and prompted in the group,
a right answer lets them write and their invite confirm, a wrong one or silence removes them
for the ban minutes and rejects the invite; someone else's tap changes nothing; redelivered
joins and taps act once; a missing right is named to the admins."""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import re

from bot.app import stop_offline
from bot.double.world import BOT_ID
from campaigns.captcha import is_right
from campaigns.services.referral import sweep
from handlers.callbacks import CaptchaButton, build, parse
from handlers.captcha import sweep_captchas
from tests.handlers.conftest import ADMIN, BOB, GROUP, OWNER, Harness, make_harness, tap
from tests.handlers.test_moderation import member_status, started
from tests.handlers.test_referral import counts, friends, link_of

F1, F2 = 31, 32


async def captcha_on(bot: Harness, *settings: str) -> str:
    friends(bot)
    for setting in ("captcha on", *settings):
        await bot.say(OWNER, f"/set {setting}", at=bot.clock.now())
    for setting in ("hold 0", "activity off"):
        await bot.say(OWNER, f"/referral set {setting}", at=bot.clock.now())
    return await link_of(bot)


def prompt(bot: Harness) -> tuple[int, list[CaptchaButton], str]:
    """The newest prompt in the group: its message id, its buttons and its text."""
    for (chat, message_id), message in sorted(bot.world.messages.items(), reverse=True):
        rows = message.get("reply_markup", {}).get("inline_keyboard", [])
        found = [parse(b.get("callback_data")) for row in rows for b in row]
        buttons = [b for b in found if isinstance(b, CaptchaButton)]
        if chat == GROUP and buttons and not bot.world.is_deleted(GROUP, message_id):
            return message_id, buttons, str(message.get("text", ""))
    raise AssertionError("no captcha prompt in the group")


async def option(bot: Harness, captcha_id: int, right: bool) -> int:
    async with bot.app.bot_data.deps.uow() as uow:
        captcha = await uow.captchas.get(captcha_id)
    assert captcha is not None
    return next(i for i in range(4) if is_right(captcha.answer_hash, captcha.salt, i) is right)


async def confirm_sweep(bot: Harness) -> None:
    await sweep(bot.app.bot_data.deps.uow, now=bot.clock.now() + dt.timedelta(minutes=1))


async def test_a_right_answer_lets_the_newcomer_write_and_the_invite_confirm(bot: Harness):
    url = await captcha_on(bot, "captcha_kind sum")
    await bot.send(bot.world.join_via_link(GROUP, F1, url, at=bot.clock.now()))
    assert member_status(bot, F1) == "restricted"
    message_id, buttons, text = prompt(bot)
    assert "Fay" in text and "how much is" in text and len(buttons) == 4
    await confirm_sweep(bot)
    assert await counts(bot) == (0, 1, 0, 0)  # held while the captcha is pending

    captcha = buttons[0].captcha_id
    said = await tap(bot, GROUP, F1, CaptchaButton(captcha, await option(bot, captcha, True)))

    assert "welcome" in said
    assert member_status(bot, F1) == "member"
    assert bot.world.is_deleted(GROUP, message_id)  # its only captcha is solved
    await confirm_sweep(bot)
    assert await counts(bot) == (1, 0, 0, 0)


async def test_a_wrong_answer_bans_for_the_set_minutes_and_rejects_the_invite(bot: Harness):
    url = await captcha_on(bot, "captcha_kind emoji", "captcha_ban_minutes 10")
    await bot.send(bot.world.join_via_link(GROUP, F1, url, at=bot.clock.now()))
    _, buttons, _ = prompt(bot)
    captcha = buttons[0].captcha_id

    said = await tap(bot, GROUP, F1, CaptchaButton(captcha, await option(bot, captcha, False)))

    assert "not the right answer" in said and "10 min" in said
    assert member_status(bot, F1) == "kicked"
    until = bot.world.bans[(GROUP, F1)]
    assert until == int((bot.clock.now() + dt.timedelta(minutes=10)).timestamp())
    bot.clock.advance(11 * 60)
    assert member_status(bot, F1) == "left"  # the ban ran out: they may join again
    assert await counts(bot) == (0, 0, 0, 1)


async def test_silence_expires_the_captcha_in_the_sweep_and_rejects_the_invite(bot: Harness):
    url = await captcha_on(bot)
    await bot.send(bot.world.join_via_link(GROUP, F1, url, at=bot.clock.now()))
    message_id, _, _ = prompt(bot)
    deps = bot.app.bot_data.deps

    bot.clock.advance(60)
    await sweep_captchas(bot.app.bot, deps)
    assert member_status(bot, F1) == "restricted"  # still within its 3 minutes
    bot.clock.advance(2 * 60)
    await sweep_captchas(bot.app.bot, deps)
    await sweep_captchas(bot.app.bot, deps)

    assert member_status(bot, F1) == "kicked"
    assert sum(c.method == "banChatMember" for c in bot.world.calls) == 1
    assert bot.world.is_deleted(GROUP, message_id)
    assert await counts(bot) == (0, 0, 0, 1)


async def test_anothers_tap_is_refused_in_their_language_and_changes_nothing(bot: Harness):
    url = await captcha_on(bot)
    await bot.send(bot.world.join_via_link(GROUP, F1, url, at=bot.clock.now()))
    _, [button], _ = prompt(bot)

    said = await tap(bot, GROUP, BOB, button)  # 鲍勃 reads Chinese

    assert said == "🙏 这道题是给另一位新成员的。"
    assert member_status(bot, F1) == "restricted"
    forged = await tap(bot, GROUP, F1, button, fresh=True)  # the same data on another message
    assert "doesn't belong here" in forged
    assert member_status(bot, F1) == "restricted"


async def test_joins_within_a_minute_share_one_prompt_and_redeliveries_act_once(bot: Harness):
    url = await captcha_on(bot)
    join = bot.world.join_via_link(GROUP, F1, url, at=bot.clock.now())
    await bot.send(join)
    await bot.send(join)  # redelivered
    await bot.send(bot.world.join_message(GROUP, [F1], at=bot.clock.now()))  # the same join
    bot.clock.advance(20)
    await bot.send(bot.world.join_via_link(GROUP, F2, url, at=bot.clock.now()))

    message_id, buttons, text = prompt(bot)
    assert "Fay" in text and "Gus" in text and len(buttons) == 2
    prompts = [c for c in bot.world.calls if c.method == "sendMessage" and "cap:" in str(c.params)]
    assert len(prompts) == 1
    restricts = [c for c in bot.world.calls if c.method == "restrictChatMember"]
    assert len(restricts) == 2

    fay = next(b for b in buttons if b.captcha_id == min(x.captcha_id for x in buttons))
    tap_update = bot.world.callback(GROUP, F1, build(fay))
    await bot.send(tap_update)
    await bot.send(tap_update)  # redelivered
    lifts = [c for c in bot.world.calls if c.method == "restrictChatMember"]
    assert len(lifts) == 3  # one lift
    assert not bot.world.is_deleted(GROUP, message_id)  # Gus still has to answer
    _, left, text = prompt(bot)
    assert "Fay" not in text and "Gus" in text and len(left) == 1


async def test_without_the_right_to_restrict_the_admins_are_told_which(bot: Harness):
    url = await captcha_on(bot)
    await started(bot, ADMIN)
    bot.world.set_rights(GROUP, BOT_ID, can_restrict_members=False)
    await bot.send(bot.world.join_via_link(GROUP, F1, url, at=bot.clock.now()))

    notes = [t for t in bot.world.shown(ADMIN) if "“Ban users”" in t]
    assert len(notes) == 1


async def run_for(bot: Harness, seconds: int) -> None:
    """The clock moves on in 10 s steps, the sweep running at each (as the job does)."""
    for _ in range(seconds // 10):
        bot.clock.advance(10)
        await sweep_captchas(bot.app.bot, bot.app.bot_data.deps)
        for _ in range(20):
            await asyncio.sleep(0)


async def test_raid_status_counts_newcomers_waiting_for_a_question_and_pending(bot: Harness):
    await captcha_on(bot, "raid_joins 0")  # no raid mode: every newcomer gets a question
    bot.clock.advance(60)  # the set-up's replies have left the group's minute
    for uid in range(1000, 1030):  # 30 joins at once: more than the group's budget can show
        bot.world.add_user(uid, f"New {uid}", language_code="en")
        await bot.send(bot.world.join_message(GROUP, [uid], at=bot.clock.now()))
    _, _, text = prompt(bot)
    asked = len(re.findall(r"New \d+", text))
    assert 0 < asked < 30

    said = "\n".join(await bot.say(OWNER, "/raid status", at=bot.clock.now()))
    assert f"{30 - asked} newcomers wait for their question" in said
    assert "30 captchas pending" in said
    await run_for(bot, 70)  # the next prompt asks the rest; nobody has expired yet
    await bot.say(OWNER, "/set language zh", at=bot.clock.now())
    said = "\n".join(await bot.say(OWNER, "/raid status", at=bot.clock.now()))
    assert "0 位新成员在等待题目" in said and "共有 30 个验证待完成" in said
    assert "防突袭模式未开启，也不会自动开启" in said
    usage = "\n".join(await bot.say(OWNER, "/raid maybe", at=bot.clock.now()))
    assert "/raid approve" in usage
    refused = "\n".join(await bot.say(BOB, "/raid status", at=bot.clock.now()))
    assert "验证待完成" not in refused  # admins only


async def test_200_joins_in_20_seconds_meet_no_429_a_prompt_a_minute_and_nobody_removed_unasked(
    database_url: str,
):
    harness, app = await make_harness(database_url, flood_limits=True)
    try:
        bot = harness
        await captcha_on(bot, "raid_joins 0")  # the captcha alone (raid mode: test_raid.py)
        newcomers = range(1000, 1200)
        for uid in newcomers:
            bot.world.add_user(uid, f"New {uid}", language_code="en")
        for uid in newcomers:  # 200 joins in 20 seconds
            await bot.send(bot.world.join_message(GROUP, [uid], at=bot.clock.now()))
            bot.clock.advance(0.1)
        for _ in range(6 * 15):  # fifteen minutes: a prompt a minute for 8 pages, then 3 more
            bot.clock.advance(10)
            await sweep_captchas(bot.app.bot, bot.app.bot_data.deps)
            for _ in range(20):
                await asyncio.sleep(0)

        assert bot.world.refused_429 == 0
        assert sum(c.method == "restrictChatMember" for c in bot.world.calls) == 200
        calls = [c for c in bot.world.calls if "cap:" in str(c.params)]
        sends = [c for c in calls if c.method == "sendMessage"]
        assert 8 <= len(sends) <= 16  # at most one new prompt a minute
        assert all(b.at - a.at >= 60 for a, b in itertools.pairwise(sends))
        # At most 25 newcomers (100 buttons) on a prompt at a time; each minute a fresh
        # prompt takes the next ones, until everyone was asked.
        shown = [(c.at, re.findall(r"New (\d+)", str(c.params["text"]))) for c in calls]
        assert max(len(names) for _, names in shown) == 25
        first_shown: dict[int, float] = {}
        for at, names in shown:
            for name in names:
                first_shown.setdefault(int(name), at)
        assert set(first_shown) == set(newcomers)  # everyone eventually asked
        edits = [
            (c.params["message_id"], c.params["text"]) for c in calls if "message_id" in c.params
        ]
        assert len(edits) == len(set(edits))  # never the same prompt edited to the same text
        # Nobody answered: all 200 removed, but each only 3 minutes after a prompt first
        # showed them their question, never while they waited for one.
        bans = [c for c in bot.world.calls if c.method == "banChatMember"]
        assert len(bans) == 200
        assert {c.params["user_id"] for c in bans} == set(newcomers)
        assert all(c.at - first_shown[c.params["user_id"]] >= 3 * 60 for c in bans)
        # The last ones were asked long after a 3-minute count from their join would have run
        # out: counted from the join, they would have been removed unasked.
        assert max(first_shown.values()) - min(first_shown.values()) > 3 * 60
    finally:
        await stop_offline(app)
