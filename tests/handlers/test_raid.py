"""Raid mode and join requests through the real handlers: a join burst switches raid mode on
(the admins told privately, the group once), everyone who joins then is held until an admin
lets them in or the hold runs out, referral rewards and welcome messages wait, and thirty calm
minutes switch it off; join requests get their question privately and are approved when it is
solved, declined when it is failed or left; a request during a raid waits for an admin."""

from __future__ import annotations

import asyncio
import itertools
from typing import Any

from bot.app import stop_offline
from bot.double.world import BOT_ID
from campaigns.services.calendar import enrol_due
from handlers.callbacks import CaptchaButton, parse
from handlers.captcha import sweep_captchas
from tests.handlers.conftest import ADMIN, BOB, GROUP, OWNER, Harness, make_harness, tap
from tests.handlers.test_captcha import confirm_sweep, option
from tests.handlers.test_moderation import member_status, started
from tests.handlers.test_referral import F1, admin_sets, counts, friends, link_of

NEW = list(range(1000, 1013))


async def ready(bot: Harness, *settings: str) -> str:
    """Admins reachable, newcomers known, invites confirmable at once; a member's link."""
    friends(bot)
    for uid in NEW:
        bot.world.add_user(uid, f"New {uid}", language_code="en")
    await started(bot, ADMIN)
    for setting in settings:
        await bot.say(OWNER, f"/set {setting}", at=bot.clock.now())
    await bot.say(OWNER, "/referral set hold 0", at=bot.clock.now())  # once they speak
    return await link_of(bot)


async def join(bot: Harness, uid: int, url: str | None = None) -> dict[str, Any]:
    """`uid` joins (through `url`, else by the service message); one second passes."""
    now = bot.clock.now()
    update = (
        bot.world.join_via_link(GROUP, uid, url, at=now)
        if url
        else bot.world.join_message(GROUP, [uid], at=now)
    )
    await bot.send(update)
    bot.clock.advance(1)
    return update


async def sweeps(bot: Harness, seconds: int) -> None:
    """The clock moves on in 10 s steps, the sweep running at each (as the job does)."""
    for _ in range(seconds // 10):
        bot.clock.advance(10)
        await sweep_captchas(bot.app.bot, bot.app.bot_data.deps)
        for _ in range(20):
            await asyncio.sleep(0)


async def right_answer(bot: Harness, sent: Any, row: int = 0) -> CaptchaButton:
    """The right option of the captcha on a row of a message the bot sent (a prompt or a
    join request's question), as its newcomer would tap it."""
    data = sent.params["reply_markup"]["inline_keyboard"][row][0]["callback_data"]
    captcha = parse(data).captcha_id  # type: ignore[union-attr]
    return CaptchaButton(captcha, await option(bot, captcha, True))


def group_notices(bot: Harness, words: str) -> list[str]:
    return [c.text for c in bot.world.sent(GROUP) if words in c.text]


async def test_a_burst_holds_newcomers_until_an_admin_lets_them_in_or_time_runs_out(
    bot: Harness,
):
    url = await ready(bot)
    for n, uid in enumerate(NEW[:12]):  # twelve joins in twelve seconds, five by Alice's link
        await join(bot, uid, url if n in {0, 1, 9, 10, 11} else None)

    assert [member_status(bot, uid) for uid in NEW[:9]] == ["member"] * 9
    assert [member_status(bot, uid) for uid in NEW[9:12]] == ["restricted"] * 3
    [told] = [t for t in bot.world.shown(ADMIN) if "Raid mode is on" in t]
    assert "10 or more joins within 60 s" in told and "Sunny Tea Club" in told
    assert len(group_notices(bot, "Raid mode is on")) == 1
    await bot.say(NEW[0], "hello!", at=bot.clock.now())  # Alice's friend speaks …
    await bot.flush()
    await confirm_sweep(bot)
    assert await counts(bot) == (0, 5, 0, 0)  # … but rewards wait while the raid lasts

    status = "\n".join(await bot.say(OWNER, "/raid status", at=bot.clock.now()))
    assert "Raid mode has been on since 11-30 " in status and "3 members held" in status
    assert "New 1009 (id 1009)" in status
    refused = await bot.say(BOB, "/raid approve 1009", at=bot.clock.now())
    assert member_status(bot, 1009) == "restricted" and "let in" not in "".join(refused)
    [let_in] = await bot.say(OWNER, "/raid approve 1009", at=bot.clock.now())
    assert "1 person let in" in let_in and member_status(bot, 1009) == "member"
    [again] = await bot.say(OWNER, "/raid approve 1009", at=bot.clock.now())
    assert "None of them is held" in again

    joined = await join(bot, NEW[12])  # by the service message: approved by reply to it
    assert member_status(bot, NEW[12]) == "restricted"
    reply = bot.world.message(
        GROUP, OWNER, "/raid approve", at=bot.clock.now(), reply_to_message=joined["message"]
    )
    [by_reply] = await bot.send(reply)
    assert "1 person let in" in by_reply and member_status(bot, NEW[12]) == "member"

    await sweeps(bot, 61 * 60)  # the hour's hold runs out; the raid has long been calm
    assert [member_status(bot, uid) for uid in NEW[10:12]] == ["kicked"] * 2
    [ended] = [t for t in bot.world.shown(ADMIN) if "Raid mode is off" in t]
    assert "30 minutes without a join" in ended
    assert len(group_notices(bot, "Raid mode is off")) == 1
    await confirm_sweep(bot)
    assert await counts(bot) == (1, 2, 0, 2)  # the reward comes once it is over


async def test_200_joins_in_20_seconds_one_notice_no_429_and_every_newcomer_held(
    database_url: str,
):
    harness, app = await make_harness(database_url, flood_limits=True)
    try:
        bot = harness
        await started(bot, ADMIN)
        bot.clock.advance(2)  # Adam's private second has passed
        newcomers = range(2000, 2200)
        for uid in newcomers:
            bot.world.add_user(uid, f"New {uid}", language_code="en")
        for uid in newcomers:
            await bot.send(bot.world.join_message(GROUP, [uid], at=bot.clock.now()))
            bot.clock.advance(0.1)
        await sweeps(bot, 65 * 60)

        assert bot.world.refused_429 == 0
        restricts = [c for c in bot.world.calls if c.method == "restrictChatMember"]
        assert len(restricts) == 191  # from the tenth join on
        bans = [c for c in bot.world.calls if c.method == "banChatMember"]
        assert {c.params["user_id"] for c in bans} == set(newcomers[9:])
        first_ban = min(c.at for c in bans)
        assert first_ban - restricts[0].at >= 60 * 60 - 1  # never before their hour (whole s)
        group = [c for c in bot.world.sent(GROUP) if "Raid mode" in c.text]
        assert len(bot.world.sent(GROUP)) == len(group) + 1  # and the bot's hello when added
        assert [("is on" in c.text, "is off" in c.text) for c in group] == [
            (True, False),
            (False, True),
        ]
        assert all(b.at - a.at >= 60 for a, b in itertools.pairwise(group))
        admin = [t for t in bot.world.shown(ADMIN) if "Raid mode" in t]
        assert len(admin) == 2
    finally:
        await stop_offline(app)


async def test_raid_on_and_off_by_hand_in_both_languages(bot: Harness):
    await ready(bot)
    on = (await bot.say(OWNER, "/raid on", at=bot.clock.now()))[0]  # then Adam's note
    assert "Raid mode is on" in on and "60 min" in on
    [again] = await bot.say(OWNER, "/raid on", at=bot.clock.now())
    assert "on already" in again
    await join(bot, NEW[0])
    assert member_status(bot, NEW[0]) == "restricted"
    [told] = [t for t in bot.world.shown(ADMIN) if "switched on by an admin" in t]
    assert "/raid approve" in told

    await bot.say(OWNER, "/set language zh", at=bot.clock.now())
    off = (await bot.say(OWNER, "/raid off", at=bot.clock.now()))[0]
    assert "防突袭模式已关闭" in off
    [told_off] = [t for t in bot.world.shown(ADMIN) if "switched off by an admin" in t]
    assert "1 member is still held" in told_off  # Adam reads English
    await join(bot, NEW[1])
    assert member_status(bot, NEW[1]) == "member"  # off: joins are free again
    assert member_status(bot, NEW[0]) == "restricted"  # still held until let in or removed


async def test_a_join_request_is_asked_privately_and_approved_when_solved(bot: Harness):
    url = await ready(bot, "captcha on", "captcha_kind sum")
    await admin_sets(bot, "approval", "on")
    url = await link_of(bot)

    await bot.send(bot.world.join_request(GROUP, F1, url, at=bot.clock.now()))

    [question] = bot.world.sent(F1)
    assert "You asked to join <b>Sunny Tea Club</b>" in question.text
    assert "how much is" in question.text.lower()
    buttons = [
        parse(b["callback_data"]) for b in question.params["reply_markup"]["inline_keyboard"][0]
    ]
    assert len(buttons) == 4 and all(isinstance(b, CaptchaButton) for b in buttons)
    captcha = buttons[0].captcha_id  # type: ignore[union-attr]
    right = CaptchaButton(captcha, await option(bot, captcha, True))
    assert "another newcomer" in await tap(bot, F1, NEW[5], right)
    assert bot.world.join_requests[(GROUP, F1)] == "pending"

    await tap(bot, F1, F1, right)

    assert bot.world.join_requests[(GROUP, F1)] == "approved"
    assert "is approved" in bot.world.shown(F1)[-1]
    await join(bot, F1, url)  # Telegram's join that follows the approval
    assert member_status(bot, F1) == "member"  # not asked again in the group
    await bot.say(F1, "thanks!", at=bot.clock.now())
    await bot.flush()
    await confirm_sweep(bot)
    assert await counts(bot) == (1, 0, 0, 0)


async def test_a_failed_or_unanswered_join_request_is_declined(bot: Harness):
    await ready(bot, "captcha on", "captcha_kind emoji")
    await admin_sets(bot, "approval", "on")
    url = await link_of(bot)
    await bot.send(bot.world.join_request(GROUP, F1, url, at=bot.clock.now()))
    [question] = bot.world.sent(F1)
    right = await right_answer(bot, question)

    await tap(bot, F1, F1, CaptchaButton(right.captcha_id, (right.option + 1) % 4))
    assert bot.world.join_requests[(GROUP, F1)] == "declined"
    assert "declined" in bot.world.shown(F1)[-1]

    await bot.send(bot.world.join_request(GROUP, NEW[0], url, at=bot.clock.now()))
    await sweeps(bot, 4 * 60)  # three minutes to answer
    assert bot.world.join_requests[(GROUP, NEW[0])] == "declined"
    assert "Time is up" in bot.world.shown(NEW[0])[-1]


async def test_a_join_request_during_a_raid_waits_for_an_admin(bot: Harness):
    await ready(bot, "captcha on")
    await bot.say(OWNER, "/raid on", at=bot.clock.now())

    await bot.send(bot.world.join_request(GROUP, F1, None, at=bot.clock.now()))
    assert "waits for an admin" in bot.world.shown(F1)[-1]
    assert bot.world.join_requests[(GROUP, F1)] == "pending"
    [let_in] = await bot.say(OWNER, f"/raid approve {F1}", at=bot.clock.now())

    assert "1 person let in" in let_in
    assert bot.world.join_requests[(GROUP, F1)] == "approved"
    assert "is approved" in bot.world.shown(F1)[-1]  # the waiting note, edited
    await bot.send(bot.world.member_update(GROUP, F1, "member", at=bot.clock.now()))
    assert member_status(bot, F1) == "member"  # let in by the request: not held again


async def test_welcome_messages_wait_for_the_raid_to_end_and_the_member_to_be_let_in(
    bot: Harness,
):
    await ready(bot)
    await bot.say(OWNER, "/sequence add 0 group\nWelcome {name}!", at=bot.clock.now())
    await bot.say(OWNER, "/raid on", at=bot.clock.now())
    await join(bot, NEW[0])
    await join(bot, NEW[1])
    deps = bot.app.bot_data.deps

    assert await enrol_due(deps.uow, now=bot.clock.now()) == 0  # a raid: nobody welcomed
    await bot.say(OWNER, f"/raid approve {NEW[0]}", at=bot.clock.now())
    assert await enrol_due(deps.uow, now=bot.clock.now()) == 0  # still a raid
    await bot.say(OWNER, "/raid off", at=bot.clock.now())
    assert await enrol_due(deps.uow, now=bot.clock.now()) == 1  # New 1000; New 1001 is held


# -- what a fresh pair of eyes found -------------------------------------------------------


async def test_leaving_closes_a_pending_captcha_so_a_rejoin_is_never_removed_by_the_old_one(
    bot: Harness,
):
    await ready(bot, "captcha on", "raid_joins 0")
    await join(bot, NEW[0])
    bot.clock.advance(30)
    await bot.send(bot.world.member_update(GROUP, NEW[0], "left", at=bot.clock.now()))
    bot.clock.advance(30)
    await join(bot, NEW[0])
    [*_, newest] = [c for c in bot.world.calls if c.method == "sendMessage" and "cap:" in str(c)]
    said = await tap(bot, GROUP, NEW[0], await right_answer(bot, newest, -1))

    assert "welcome" in said.lower()
    await sweeps(bot, 10 * 60)
    assert member_status(bot, NEW[0]) == "member"  # the first captcha closed when they left
    assert not [c for c in bot.world.calls if c.method == "banChatMember"]


async def test_an_admin_unmuting_in_telegram_or_by_undo_lets_the_newcomer_stay(bot: Harness):
    await ready(bot, "captcha on", "raid_joins 0")
    await join(bot, NEW[0])
    await join(bot, NEW[1])
    unmute = bot.world.member_update(GROUP, NEW[0], "member", at=bot.clock.now())
    unmute["chat_member"]["from"] = bot.world.users[OWNER]
    unmute["chat_member"]["old_chat_member"]["status"] = "restricted"
    await bot.send(unmute)
    [*_, modlog] = await bot.say(OWNER, "/modlog", at=bot.clock.now())
    assert "until the join captcha is answered" in modlog
    undo = next(
        b["callback_data"]
        for row in bot.world.sent(GROUP)[-1].params["reply_markup"]["inline_keyboard"]
        for b in row
        if "New 1001" in b["text"]
    )
    await tap(bot, GROUP, OWNER, undo)

    await sweeps(bot, 10 * 60)
    assert [member_status(bot, u) for u in NEW[:2]] == ["member", "member"]
    assert not [c for c in bot.world.calls if c.method == "banChatMember"]


async def test_one_account_joining_again_and_again_is_no_raid(bot: Harness):
    await ready(bot)
    for _ in range(12):
        await join(bot, NEW[0])
        await bot.send(bot.world.member_update(GROUP, NEW[0], "left", at=bot.clock.now()))
    assert not group_notices(bot, "Raid mode")
    for uid in NEW[1:10]:  # nine more different people within the minute: ten in all
        await join(bot, uid)
    assert len(group_notices(bot, "Raid mode is on")) == 1


async def test_long_names_keep_the_prompt_within_telegrams_limit(bot: Harness):
    await ready(bot, "captcha on", "raid_joins 0")
    for uid in range(3000, 3030):
        bot.world.add_user(uid, "😀" * 64, last_name="😀" * 64, language_code="en")
        await bot.send(bot.world.join_message(GROUP, [uid], at=bot.clock.now()))
    await sweeps(bot, 3 * 60)
    prompts = [c for c in bot.world.calls if "cap:" in str(c.params) and c.status == 200]
    assert prompts and all(c.status == 200 for c in bot.world.calls if "cap:" in str(c.params))
    assert bot.world.problems() == []


async def test_approve_by_reply_to_an_added_by_message_lets_in_the_added_member(bot: Harness):
    await ready(bot)
    await bot.say(OWNER, "/raid on", at=bot.clock.now())
    bot.world.set_status(GROUP, NEW[0], "member")  # Bob added them
    added = bot.world.message(
        GROUP, BOB, None, at=bot.clock.now(), new_chat_members=[bot.world.users[NEW[0]]]
    )
    await bot.send(added)
    assert member_status(bot, NEW[0]) == "restricted"
    reply = bot.world.message(
        GROUP, OWNER, "/raid approve", at=bot.clock.now(), reply_to_message=added["message"]
    )
    [said] = await bot.send(reply)
    assert "1 person let in" in said and member_status(bot, NEW[0]) == "member"
    [odd] = await bot.say(OWNER, "/raid approve ²", at=bot.clock.now())
    assert "/raid approve" in odd  # the usage, not a crash


async def test_a_late_right_answer_is_told_time_was_up_and_owners_are_never_asked(bot: Harness):
    await ready(bot, "captcha on", "raid_joins 0")
    bot.world.add_user(999, "Owner of the bot", language_code="en")
    await join(bot, 999)  # BOT_OWNER_IDS
    assert member_status(bot, 999) == "member"
    await join(bot, NEW[0])
    [*_, prompt] = [c for c in bot.world.calls if "cap:" in str(c.params)]
    right = await right_answer(bot, prompt)
    bot.clock.advance(3 * 60 + 5)  # before the sweep comes round
    said = await tap(bot, GROUP, NEW[0], right)
    assert said.startswith("⌛ Time was up")


async def test_a_solved_request_telegram_refused_is_not_called_approved(bot: Harness):
    await ready(bot, "captcha on")
    bot.world.set_rights(GROUP, BOT_ID, can_invite_users=False)
    await bot.send(bot.world.join_request(GROUP, F1, None, at=bot.clock.now()))
    [question] = bot.world.sent(F1)
    await tap(bot, F1, F1, await right_answer(bot, question))

    assert bot.world.join_requests[(GROUP, F1)] == "pending"
    assert "still has to approve" in bot.world.shown(F1)[-1]
    assert any("approve or decline join requests" in t for t in bot.world.shown(ADMIN))


async def test_modlog_counts_the_captchas_mutes_and_removals_and_set_warns_of_a_missing_right(
    bot: Harness,
):
    await ready(bot, "captcha on", "raid_joins 0")
    await join(bot, NEW[0])
    await join(bot, NEW[1])
    await sweeps(bot, 4 * 60)  # neither answered: both removed
    [*_, log] = await bot.say(OWNER, "/modlog", at=bot.clock.now())
    assert "mutes: 2, bans: 2" in log

    bot.world.set_rights(GROUP, BOT_ID, can_restrict_members=False)
    said = await bot.say(OWNER, "/set captcha on", at=bot.clock.now())
    assert any("I lack the admin right “Ban users”" in t for t in said)
    quiet = await bot.say(OWNER, "/set timezone Asia/Shanghai", at=bot.clock.now())
    assert not any("Ban users" in t for t in quiet)  # said where it matters, not every time
