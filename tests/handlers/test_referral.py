"""Invite-referral through the real handlers: links, attribution, fraud, confirmation, tiers."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from campaigns.services.referral import sweep
from campaigns.services.referral_reports import invite_columns
from handlers.callbacks import ChooserButton, ChooserVerb
from tests.handlers.conftest import ADMIN, ALICE, BOB, GROUP, MONDAY, OWNER, Harness, tap

F1, F2, F3, F4 = 31, 32, 33, 34
LATER = MONDAY + dt.timedelta(minutes=30)


def friends(bot: Harness) -> None:
    for uid, name in ((F1, "Fay"), (F2, "Gus"), (F3, "Hana"), (F4, "Ivo")):
        bot.world.add_user(uid, name, language_code="en")


async def link_of(bot: Harness, user: int = ALICE) -> str:
    """The member's personal link, read from the /invite reply like a member would."""
    [text] = await bot.say(user, "/invite")
    return re.search(r"https://t\.me/\+\S+", text).group(0)  # type: ignore[union-attr]


async def code_of(bot: Harness, user: int = ALICE) -> str:
    [text] = await bot.say(user, "/invite")
    return re.search(r"start=(ref_\w+)", text).group(1)  # type: ignore[union-attr]


async def admin_sets(bot: Harness, key: str, value: str) -> str:
    [text] = await bot.say(OWNER, f"/referral set {key} {value}")
    return text


async def invites(bot: Harness, user: int = ALICE) -> str:
    [text] = await bot.say(user, "/invites", at=LATER)
    return text


async def counts(bot: Harness, user: int = ALICE) -> tuple[int, int, int, int]:
    columns = await invite_columns(bot.app.bot_data.deps.uow(), chat_id=GROUP)
    _, c = columns.get(user, (None, None))
    return (c.confirmed, c.pending, c.left, c.rejected) if c else (0, 0, 0, 0)


async def test_invite_gives_one_named_personal_link_and_reuses_it(bot: Harness):
    first = await link_of(bot)
    second = await link_of(bot)

    creates = [c for c in bot.world.calls if c.method == "createChatInviteLink"]
    assert first == second
    assert len(creates) == 1
    assert creates[0].params["name"].startswith(f"r{ALICE} Alice")
    assert len(creates[0].params["name"]) <= 32


async def test_an_honest_invite_is_pending_then_confirmed_after_the_hold_and_activity(
    bot: Harness,
):
    friends(bot)
    url = await link_of(bot)
    await bot.send(bot.world.join_via_link(GROUP, F1, url, at=MONDAY))
    await bot.say(F1, "hi everyone", at=MONDAY + dt.timedelta(minutes=5))
    await bot.flush()

    assert await counts(bot) == (0, 1, 0, 0)
    pending_text = await invites(bot)
    assert "pending 1" in pending_text

    deps = bot.app.bot_data.deps
    early = await sweep(deps.uow, now=MONDAY + dt.timedelta(hours=23))
    notices = await sweep(deps.uow, now=MONDAY + dt.timedelta(hours=24, minutes=1))

    assert early == []
    assert [n.kind for n in notices] == ["confirmed"]
    assert await counts(bot) == (1, 0, 0, 0)


async def test_a_silent_invitee_is_not_confirmed_until_they_speak(bot: Harness):
    friends(bot)
    url = await link_of(bot)
    await bot.send(bot.world.join_via_link(GROUP, F1, url, at=MONDAY))
    deps = bot.app.bot_data.deps

    assert await sweep(deps.uow, now=MONDAY + dt.timedelta(days=2)) == []
    await bot.say(F1, "finally saying hi", at=MONDAY + dt.timedelta(days=2))
    await bot.flush()

    assert await counts(bot) == (1, 0, 0, 0)


async def test_tiers_are_granted_once_with_a_private_notice_and_a_group_announcement(
    bot: Harness,
):
    friends(bot)
    assert "now" in await admin_sets(bot, "hold", "0")
    await admin_sets(bot, "tiers", "2:50:Ambassador")
    bot.world.start_private(ALICE)
    await bot.send(bot.world.message(ALICE, ALICE, "/start"))
    url = await link_of(bot)
    for friend in (F1, F2):
        await bot.send(bot.world.join_via_link(GROUP, friend, url, at=MONDAY))
        await bot.say(friend, "hello!", at=MONDAY + dt.timedelta(minutes=1))
    await bot.flush()
    await bot.send(bot.world.join_via_link(GROUP, F3, url, at=MONDAY))
    await bot.say(F3, "hey", at=MONDAY + dt.timedelta(minutes=2))
    await bot.flush()

    private = [c.text for c in bot.world.sent(ALICE)]
    group = [c.text for c in bot.world.sent(GROUP)]
    # Fay and Gus were confirmed in one flush: one message names both; Hana's came later.
    assert any("2 friends you invited" in t and "Fay" in t and "Gus" in t for t in private)
    assert sum("Hana</b> joined" in t for t in private) == 1
    assert sum("You reached 2 confirmed invites" in t for t in private) == 1
    assert sum("has brought 2 friends" in t and "50 points" in t for t in group) == 1
    [me] = await bot.say(ALICE, "/me", at=LATER)
    assert "Ambassador" in me
    assert "Points: 50" in me


async def test_fraud_cases_are_rejected_with_reasons_the_inviter_can_read(bot: Harness):
    friends(bot)
    bot.world.add_user(88, "Spam Bot", is_bot=True)
    url = await link_of(bot)
    # Bob was in the group before and left; coming back through Alice's link is a re-join.
    await bot.send(bot.world.member_update(GROUP, BOB, "member", at=MONDAY - dt.timedelta(days=9)))
    await bot.send(bot.world.member_update(GROUP, BOB, "left", at=MONDAY - dt.timedelta(days=2)))
    await bot.send(bot.world.join_via_link(GROUP, BOB, url, at=MONDAY))
    # Alice leaves and comes back through her own link.
    await bot.send(bot.world.member_update(GROUP, ALICE, "left", at=MONDAY))
    await bot.send(bot.world.join_via_link(GROUP, ALICE, url, at=MONDAY + dt.timedelta(minutes=1)))
    await bot.send(bot.world.join_via_link(GROUP, 88, url, at=MONDAY))

    text = await invites(bot)

    assert await counts(bot) == (0, 0, 0, 3)
    assert "had been in the group before" in text
    assert "used their own link" in text
    assert "is a bot" in text


async def test_a_burst_of_joins_through_one_link_stops_counting(bot: Harness):
    friends(bot)
    await admin_sets(bot, "burst", "2")
    url = await link_of(bot)
    for i, friend in enumerate((F1, F2, F3)):
        await bot.send(
            bot.world.join_via_link(GROUP, friend, url, at=MONDAY + dt.timedelta(minutes=i))
        )
    await bot.send(bot.world.join_via_link(GROUP, F4, url, at=MONDAY + dt.timedelta(minutes=30)))

    assert await counts(bot) == (0, 3, 0, 1)
    assert "burst" in await invites(bot)


async def test_leaving_before_confirmation_is_left_and_after_it_the_tier_stays(bot: Harness):
    friends(bot)
    await admin_sets(bot, "tiers", "1:30")
    await admin_sets(bot, "hold", "1")
    url = await link_of(bot)
    await bot.send(bot.world.join_via_link(GROUP, F1, url, at=MONDAY))
    await bot.send(bot.world.member_update(GROUP, F1, "left", at=MONDAY + dt.timedelta(minutes=9)))
    assert await counts(bot) == (0, 0, 1, 0)

    await admin_sets(bot, "hold", "0")
    await bot.send(bot.world.join_via_link(GROUP, F2, url, at=MONDAY))
    await bot.say(F2, "hi", at=MONDAY + dt.timedelta(minutes=1))
    await bot.flush()
    await bot.send(bot.world.member_update(GROUP, F2, "left", at=MONDAY + dt.timedelta(hours=2)))

    assert await counts(bot) == (1, 0, 1, 0)
    [me] = await bot.say(ALICE, "/me", at=LATER)
    assert "Points: 30" in me


async def test_clawback_takes_back_a_tier_when_the_invitee_leaves_soon(bot: Harness):
    friends(bot)
    for key, value in (("hold", "0"), ("tiers", "1:30"), ("clawback", "7")):
        await admin_sets(bot, key, value)
    url = await link_of(bot)
    await bot.send(bot.world.join_via_link(GROUP, F1, url, at=MONDAY))
    await bot.say(F1, "hi", at=MONDAY + dt.timedelta(minutes=1))
    await bot.flush()
    await bot.send(bot.world.member_update(GROUP, F1, "left", at=MONDAY + dt.timedelta(days=1)))

    assert await counts(bot) == (0, 0, 1, 0)
    [me] = await bot.say(ALICE, "/me", at=LATER)
    assert "Points: 0" in me


async def test_replayed_join_updates_count_once(bot: Harness):
    friends(bot)
    url = await link_of(bot)
    join = bot.world.join_via_link(GROUP, F1, url, at=MONDAY)
    await bot.send(join)
    await bot.send(join)
    await bot.send(bot.world.join_message(GROUP, [F1], at=MONDAY))

    assert await counts(bot) == (0, 1, 0, 0)


async def test_a_link_arriving_after_the_service_message_still_credits_the_inviter(bot: Harness):
    friends(bot)
    url = await link_of(bot)
    await bot.send(bot.world.join_message(GROUP, [F1], at=MONDAY))
    await bot.send(bot.world.join_via_link(GROUP, F1, url, at=MONDAY))

    assert await counts(bot) == (0, 1, 0, 0)


async def test_attribution_falls_back_to_the_link_name(bot: Harness):
    friends(bot)
    link = {
        "invite_link": "https://t.me/+ForgottenLink",
        "creator": bot.world.bot,
        "creates_join_request": False,
        "is_primary": False,
        "is_revoked": False,
        "name": f"r{ALICE} Alice Liu",
    }
    await bot.send(bot.world.member_update(GROUP, F1, "member", at=MONDAY, invite_link=link))

    assert await counts(bot) == (0, 1, 0, 0)


async def test_other_links_and_plain_joins_credit_nobody(bot: Harness):
    friends(bot)
    admin_link = bot.world.admin_link(GROUP, ADMIN, name=f"r{ALICE} fake")
    await bot.send(bot.world.member_update(GROUP, F1, "member", at=MONDAY, invite_link=admin_link))
    await bot.send(bot.world.member_update(GROUP, F2, "member", at=MONDAY))

    assert await counts(bot) == (0, 0, 0, 0)
    [report] = await bot.say(OWNER, "/referral report 7", at=LATER)
    assert "Joins: 2" in report and "new members: 2" in report
    assert "Referral share of new members: 0%" in report


async def test_a_deep_link_visit_hands_out_a_one_use_link_credited_to_the_inviter(bot: Harness):
    friends(bot)
    code = await code_of(bot)
    bot.world.start_private(F1)

    [welcome] = await bot.send(bot.world.message(F1, F1, f"/start {code}", at=MONDAY))
    url = re.search(r"https://t\.me/\+\S+", welcome).group(0)  # type: ignore[union-attr]
    create = [c for c in bot.world.calls if c.method == "createChatInviteLink"][-1]
    await bot.send(bot.world.join_via_link(GROUP, F1, url, at=MONDAY + dt.timedelta(minutes=2)))

    assert "Alice Liu" in welcome and "invited you" in welcome
    assert create.params["member_limit"] == 1
    assert await counts(bot) == (0, 1, 0, 0)


async def test_a_deep_link_visitor_who_joins_without_the_link_is_still_credited(bot: Harness):
    friends(bot)
    code = await code_of(bot)
    bot.world.start_private(F1)
    await bot.send(bot.world.message(F1, F1, f"/start {code}", at=MONDAY))
    await bot.send(bot.world.join_message(GROUP, [F1], at=MONDAY + dt.timedelta(hours=1)))

    assert await counts(bot) == (0, 1, 0, 0)


async def test_deep_link_edge_cases_get_clear_answers(bot: Harness):
    code = await code_of(bot)
    bot.world.start_private(ALICE)
    bot.world.start_private(BOB)
    await bot.say(BOB, "I am here")
    await bot.flush()

    [own] = await bot.send(bot.world.message(ALICE, ALICE, f"/start {code}"))
    [member] = await bot.send(bot.world.message(BOB, BOB, f"/start {code}"))
    [unknown] = await bot.send(bot.world.message(BOB, BOB, "/start ref_zzzzzzzz"))

    assert "your own invite link" in own
    assert "已经在" in member  # Bob's Telegram is in Chinese
    assert "不" in unknown or "失效" in unknown


async def test_join_requests_through_a_member_link_are_approved_and_credited(bot: Harness):
    friends(bot)
    await admin_sets(bot, "approval", "on")
    url = await link_of(bot)
    create = [c for c in bot.world.calls if c.method == "createChatInviteLink"][-1]

    await bot.send(bot.world.join_request(GROUP, F1, url, at=MONDAY))
    await bot.send(
        bot.world.member_update(GROUP, F1, "member", at=MONDAY + dt.timedelta(seconds=5))
    )

    assert create.params["creates_join_request"] is True
    assert bot.world.join_requests[(GROUP, F1)] == "approved"
    assert any("Alice Liu</b> invited you" in c.text for c in bot.world.sent(F1))
    assert await counts(bot) == (0, 1, 0, 0)


async def test_join_requests_through_other_links_are_left_to_admins(bot: Harness):
    friends(bot)
    await bot.send(bot.world.join_request(GROUP, F1, None, at=MONDAY))

    assert bot.world.join_requests[(GROUP, F1)] == "pending"


async def test_without_the_invite_right_members_are_told_which_right_to_grant(bot: Harness):
    bot.world.set_status(GROUP, bot.world.bot["id"], "member")

    [text] = await bot.say(ALICE, "/invite")

    assert "Invite users via link" in text


async def test_private_invite_uses_the_members_group_and_tells_admins_if_it_cannot(bot: Harness):
    await bot.say(ALICE, "hello")
    await bot.flush()
    bot.world.start_private(ALICE)
    [private] = await bot.send(bot.world.message(ALICE, ALICE, "/invite"))
    assert "Sunny Tea Club" in private and "https://t.me/+" in private

    bot.world.set_status(GROUP, bot.world.bot["id"], "member")
    bot.world.start_private(BOB)
    await bot.say(BOB, "hi")
    await bot.flush()
    await bot.send(bot.world.message(BOB, BOB, "/invite"))
    [refusal] = [c.text for c in bot.world.sent(BOB)]
    assert "通过链接邀请用户" in refusal
    assert any("Admins:" in c.text for c in bot.world.sent(GROUP))


async def test_admins_revoke_a_members_link_and_the_next_invite_makes_a_new_one(bot: Harness):
    old = await link_of(bot)
    reply_to = bot.world.message(GROUP, ALICE, "my link", at=MONDAY)["message"]

    [refused] = await bot.send(
        bot.world.message(GROUP, BOB, "/invite revoke", at=MONDAY, reply_to_message=reply_to)
    )
    [done] = await bot.send(
        bot.world.message(GROUP, OWNER, "/invite revoke", at=MONDAY, reply_to_message=reply_to)
    )
    new = await link_of(bot)

    assert "only group admins" in refused or "管理员" in refused
    assert "was revoked" in done
    assert new != old
    assert bot.world.links[old]["is_revoked"] is True


async def test_referral_settings_are_for_admins_and_validated(bot: Harness):
    [program] = await bot.say(ALICE, "/referral")
    [refused] = await bot.say(ALICE, "/referral set hold 1")
    bad = await admin_sets(bot, "tiers", "three:fifty")
    ok = await admin_sets(bot, "tiers", "3:50,5:200:推广大使")
    [after] = await bot.say(ALICE, "/referral")

    assert "3 confirmed invites → 50 points" in program
    assert "only group admins" in refused
    assert "invites:points[:title]" in bad and "/referral set tiers" in bad
    assert "3:50,5:200:推广大使" in ok
    assert "the title «推广大使»" in after


async def test_invite_leaderboard_shows_the_period_and_the_callers_place(bot: Harness):
    friends(bot)
    await admin_sets(bot, "hold", "0")
    await admin_sets(bot, "activity", "off")
    url = await link_of(bot)
    for friend in (F1, F2):
        await bot.send(bot.world.join_via_link(GROUP, friend, url, at=MONDAY))

    [week] = await bot.say(ALICE, "/top invites week", at=LATER)
    [mine] = await bot.say(BOB, "/top invites", at=LATER)
    [bad] = await bot.say(BOB, "/top invites year", at=LATER)

    assert "this week" in week and "Alice Liu" in week and "2 invites" in week
    assert "总榜" in mine or "all time" in mine
    assert "/top invites [week|month|all]" in bad


async def test_the_report_counts_sources_share_confirmation_and_k_factor(bot: Harness):
    friends(bot)
    for member in (ALICE, BOB):
        await bot.send(
            bot.world.member_update(GROUP, member, "member", at=MONDAY - dt.timedelta(days=30))
        )
    await admin_sets(bot, "hold", "0")
    await admin_sets(bot, "activity", "off")
    url = await link_of(bot)
    await bot.send(bot.world.join_via_link(GROUP, F1, url, at=MONDAY))
    await bot.send(bot.world.join_via_link(GROUP, F2, url, at=MONDAY))
    await bot.send(bot.world.member_update(GROUP, F3, "member", at=MONDAY))

    # Telegram stamps whole seconds: joins in the report's own second are in the report.
    [report] = await bot.say(OWNER, "/referral report 7", at=MONDAY)

    assert "Joins: 3" in report and "new members: 3" in report
    assert "member links 2" in report and "no link 1" in report
    assert "Referral share of new members: 67%" in report
    assert "Confirmation rate: 100%" in report
    assert "Estimated K-factor: 1.00" in report  # 2 confirmed ÷ 2 members a week ago
    assert "1. <b>Alice Liu</b> — 2" in report


async def test_chinese_groups_get_chinese_referral_texts(bot: Harness):
    await bot.say(OWNER, "/set language zh")

    [card] = await bot.say(ALICE, "/invite")
    [program] = await bot.say(ALICE, "/referral")

    assert "专属邀请链接" in card
    assert "老带新活动" in program


async def test_notices_to_members_who_blocked_the_bot_mark_them_unreachable(bot: Harness):
    friends(bot)
    await admin_sets(bot, "hold", "0")
    await admin_sets(bot, "activity", "off")
    bot.world.start_private(ALICE)
    await bot.send(bot.world.message(ALICE, ALICE, "/start"))
    url = await link_of(bot)
    bot.world.fail_next("sendMessage", 403, "Forbidden: bot was blocked by the user")
    await bot.send(bot.world.join_via_link(GROUP, F1, url, at=MONDAY))
    before = len(bot.world.sent(ALICE))
    await bot.send(bot.world.join_via_link(GROUP, F2, url, at=MONDAY))

    assert len(bot.world.sent(ALICE)) == before  # not tried again after the 403
    assert await counts(bot) == (2, 0, 0, 0)


@pytest.mark.parametrize(
    "command", ["/invite", "/invites", "/top invites", "/referral report", "/referral set hold 2"]
)
async def test_a_redelivered_referral_command_answers_once(bot: Harness, command: str):
    update = bot.world.message(GROUP, OWNER, command, at=MONDAY)

    first = await bot.send(update)
    second = await bot.send(update)

    assert len(first) == 1
    assert second == []


async def test_private_invite_offers_a_button_per_group_and_answers_for_the_chosen_one(
    bot: Harness,
):
    other = -1001500000002
    bot.world.add_group(other, "Second Club", owner=OWNER)
    await bot.send(bot.world.add_bot(other, by=OWNER, at=MONDAY))
    await bot.say(ALICE, "hi")
    await bot.say(ALICE, "hi", chat=other)
    await bot.flush()
    bot.world.start_private(ALICE)

    await bot.send(bot.world.message(ALICE, ALICE, "/invite"))
    chooser = bot.world.sent(ALICE)[-1]
    buttons = [b for row in chooser.params["reply_markup"]["inline_keyboard"] for b in row]
    second = next(b for b in buttons if b["text"] == "Second Club")
    [card] = await bot.send(bot.world.callback(ALICE, ALICE, second["callback_data"]))
    on_chooser = bot.world.button_message(ALICE, second["callback_data"])
    assert on_chooser is not None
    not_theirs = ChooserButton(ChooserVerb.INVITE, -100999)
    # answered in an alert on the tap
    stranger = await tap(bot, ALICE, ALICE, not_theirs, message_id=on_chooser["message_id"])

    assert [b["text"] for b in buttons] == ["Second Club", "Sunny Tea Club"]
    assert "Second Club" in card and "https://t.me/+" in card
    assert "for members of the group" in stranger  # a group that is not theirs: refused
    assert any(c.method == "answerCallbackQuery" for c in bot.world.calls)


async def test_a_pick_without_the_invite_right_is_answered_by_a_message_and_asks_the_admins(
    bot: Harness,
):
    other = -1001500000002
    bot.world.add_group(other, "Second Club", owner=OWNER)
    await bot.send(bot.world.add_bot(other, by=OWNER, at=MONDAY))
    await bot.say(ALICE, "hi")
    await bot.say(ALICE, "hi", chat=other)
    await bot.flush()
    bot.world.start_private(ALICE)
    await bot.send(bot.world.message(ALICE, ALICE, "/invite"))
    bot.world.set_status(other, bot.world.bot["id"], "member")
    chooser = bot.world.sent(ALICE)[-1]
    buttons = [b for row in chooser.params["reply_markup"]["inline_keyboard"] for b in row]
    second = next(b for b in buttons if b["text"] == "Second Club")

    answer = await tap(bot, ALICE, ALICE, second["callback_data"])

    assert answer == ""  # the tap is answered silently; the refusal is a message
    assert "Invite users via link" in bot.world.sent(ALICE)[-1].text
    assert any("Admins:" in c.text for c in bot.world.sent(other))


async def test_a_member_named_in_emoji_gets_a_link_and_so_does_an_emoji_channel(bot: Harness):
    """Telegram counts a link name's 32 in UTF-16 units (an emoji is two): cut by Python
    characters the member was refused a link and told the bot lacked a right."""
    bot.world.users[ALICE]["first_name"] = "🌸 Alice 🌸 Tea 🌸 Lover 🌸"

    invited = await bot.say(ALICE, "/invite", at=MONDAY)
    too_long = await bot.say(OWNER, "/link new " + "🎁" * 20, at=MONDAY)

    assert any("t.me/+" in reply for reply in invited), invited
    assert too_long and "t.me/+" not in too_long[0]  # told the name is too long
    assert [c.method for c in bot.world.calls if c.status != 200] == []
