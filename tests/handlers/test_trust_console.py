"""Found by trying to break the private admin console (/manage), the claim post's buttons, the
bot's own membership notices, the private fallback and unknown join dates: each test failed
before its fix; the last ones are what held up, kept as regression tests."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from bot.app import stop_offline
from bot.double.world import BOT_ID
from campaigns.coupons import CouponKind, Template
from campaigns.services.calendar import group_posts, hand_over_due
from campaigns.services.coupons import create_offer
from handlers.callbacks import ClaimButton, GroupBuyButton, GroupBuyVerb, ManageButton, build
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
from tests.handlers.test_trust import deal_in, offer_in
from tests.handlers.test_trust_redteam import coupons_of

OTHER = -1001500000002
STRANGER = 62
GRACE = dt.timedelta(minutes=10)


async def manage(bot: Harness, user: int, chat_id: int = GROUP) -> str:
    """/manage in the user's private chat, then a tap on the button for `chat_id`."""
    bot.world.start_private(user)
    await bot.say(user, "/manage", chat=user)
    markup = bot.world.sent(user)[-1].params["reply_markup"]["inline_keyboard"]
    data = next(
        b["callback_data"]
        for row in markup
        for b in row
        if b["callback_data"] == build(ManageButton(chat_id))
    )
    await bot.send(bot.world.callback(user, user, data))
    return bot.world.sent(user)[-1].text


def chooser_labels(bot: Harness, user: int) -> list[str]:
    markup = bot.world.sent(user)[-1].params["reply_markup"]["inline_keyboard"]
    return [b["text"] for row in markup for b in row]


# 1. /coupon post and /groupbuy post sent from the private console put the post in the group in
#    the ADMIN's private language, not the group's (every in-group /coupon post uses the group's).
@pytest.mark.parametrize("kind", ["coupon", "groupbuy"])
async def test_a_post_sent_from_the_console_speaks_the_groups_language(bot: Harness, kind: str):
    await bot.say(OWNER, "/set language zh")
    object_id = await offer_in(bot) if kind == "coupon" else (await deal_in(bot))[0]
    await manage(bot, ADMIN)  # Adam's Telegram is in English
    await bot.say(ADMIN, f"/{kind} post {object_id}", chat=ADMIN)
    post = bot.world.sent(GROUP)[-1]
    labels = [b["text"] for row in post.params["reply_markup"]["inline_keyboard"] for b in row]
    # the group is Chinese: its members must not get an English post with English buttons
    assert not re.search(r"[A-Za-z]{4,}", " ".join(labels)), (labels, post.text)


# 2. /schedule (and /broadcast) from the console: the preview lands in the private chat but
#    says "start a private chat with me to preview privately" (preview() compares the target
#    with the *private* chat's id, which is the user's own).
@pytest.mark.parametrize("command", ["/schedule daily 09:00\nhello", "/broadcast\nhello"])
async def test_the_consoles_preview_does_not_ask_to_start_a_private_chat(
    bot: Harness, command: str
):
    await bot.say(ALICE, "hi")
    bot.world.start_private(ALICE)
    await bot.send(bot.world.message(ALICE, ALICE, "/start"))
    await bot.flush()
    await manage(bot, ADMIN)
    said = await bot.say(ADMIN, command, chat=ADMIN)
    assert any("Preview" in s for s in said), said
    assert not any("start a private chat" in s for s in said), said


# 3. /coupon grant in the console: the only messages one can reply to in a private chat are
#    one's own (and the bot's). Replying to a member's message the admin forwarded to the bot
#    grants the coupon to the ADMIN, and says so as if it were intended.
async def test_coupon_grant_in_the_console_never_grants_the_admin_himself(
    bot: Harness, database_url: str
):
    offer = await offer_in(bot)
    await manage(bot, ADMIN)
    forwarded = bot.world.message(
        ADMIN, ADMIN, "I want a coupon please",
        forward_origin={"type": "user", "sender_user": bot.world.users[ALICE], "date": 1},
    )["message"]  # fmt: skip
    said = await bot.send(
        bot.world.message(ADMIN, ADMIN, f"/coupon grant {offer}", reply_to_message=forwarded)
    )
    assert await coupons_of(database_url, ADMIN) == 0, said


# 4. Two groups with the same title: the chooser shows two identical buttons and "Managing
#    <b>Sunny Tea Club</b>" does not say which one (no chat id anywhere).
async def test_two_groups_with_one_title_can_be_told_apart_on_the_chooser(bot: Harness):
    bot.world.add_group(OTHER, "Sunny Tea Club", owner=STRANGER_USER(bot))
    bot.world.set_status(OTHER, ADMIN, "administrator")
    await bot.send(bot.world.add_bot(OTHER, by=STRANGER, at=MONDAY))
    bot.world.start_private(ADMIN)
    await bot.say(ADMIN, "/manage", chat=ADMIN)
    labels = chooser_labels(bot, ADMIN)
    assert len(labels) == 2 and len(set(labels)) == 2, labels


def STRANGER_USER(bot: Harness) -> int:
    if STRANGER not in bot.world.users:
        bot.world.add_user(STRANGER, "Stan", language_code="en")
    return STRANGER


# 5. An owner (BOT_OWNER_IDS) gets a button for every group anyone ever added the bot to,
#    including a stranger's lookalike; same finding as 4, worse reach.
async def test_an_owners_chooser_does_not_offer_a_strangers_lookalike_group_indistinguishably(
    database_url: str,
):
    bot, app = await make_harness(database_url, bot_owner_ids=str(CAROL))
    try:
        STRANGER_USER(bot)
        bot.world.add_group(OTHER, "Sunny Tea Club", owner=STRANGER)
        await bot.send(bot.world.add_bot(OTHER, by=STRANGER, at=MONDAY))
        bot.world.start_private(CAROL)
        await bot.say(CAROL, "/manage", chat=CAROL)
        labels = chooser_labels(bot, CAROL)
        assert len(set(labels)) == len(labels), labels
    finally:
        await stop_offline(app)


# 6. A claim that empties the stock (or finds it sold out) takes the WHOLE keyboard off the
#    tapped message: on a scheduled post that also has a group-buy Join button and a link,
#    those vanish for everyone in the group too.
async def test_a_sold_out_coupon_takes_only_its_own_button_off_a_post(bot: Harness):
    now = bot.clock.now()
    deps = bot.app.bot_data.deps
    offer = await create_offer(
        deps.uow(), chat_id=GROUP, name="last one", stock=1, per_member=1, at=now,
        template=Template(CouponKind.FIXED, value=500),
    )  # fmt: skip
    deal, _ = await deal_in(bot, hours=48)
    bot.world.start_private(OWNER)
    await bot.say(
        OWNER,
        "/schedule daily 09:00\nToday only\nbutton: Get 5 off | coupon "
        f"{offer.id}\nbutton: Team up | groupbuy {deal}\nbutton: Shop | https://shop.example",
        at=now,
    )
    ok = bot.world.sent(OWNER)[-1].params["reply_markup"]["inline_keyboard"][0][0]
    await tap(bot, OWNER, OWNER, ok["callback_data"])
    [post] = await group_posts(deps.uow(), chat_id=GROUP)
    assert post.next_run_at is not None
    await hand_over_due(deps.uow, now=post.next_run_at + dt.timedelta(minutes=1), grace=GRACE)
    await bot.drain(post.next_run_at + dt.timedelta(minutes=1))
    claimed = await tap(bot, GROUP, ALICE, ClaimButton(offer.id))
    edits = [c for c in bot.world.calls if c.method == "editMessageReplyMarkup"]

    assert "Claimed" in claimed
    assert edits, "the sold-out button was left on"
    left = edits[-1].params.get("reply_markup", {}).get("inline_keyboard", [])
    kept = [b["text"] for row in left for b in row]
    assert kept == ["Team up", "Shop"], kept


# 7. Anyone can add the bot to a group of theirs and remove it: every BOT_OWNER_IDS owner gets
#    a private warning with the stranger's group title in it, once per cycle (spam; the title
#    is attacker text shown as if it were one of the operator's groups). Also in the GROUP's
#    language, not the owner's.
async def test_a_strangers_add_and_remove_loop_does_not_spam_the_owners(database_url: str):
    bot, app = await make_harness(database_url, bot_owner_ids=str(BOB))
    try:
        STRANGER_USER(bot)
        bot.world.start_private(BOB)  # 鲍勃's Telegram is in Chinese
        bot.world.add_group(OTHER, "Support: send your token to @helpdesk", owner=STRANGER)
        for _ in range(3):
            await bot.send(bot.world.add_bot(OTHER, by=STRANGER, admin=False))
            await bot.send(bot.world.member_update(OTHER, BOT_ID, "left", actor=STRANGER))
        warnings = [s.text for s in bot.world.sent(BOB) if "⚠️" in s.text]
        assert len(warnings) <= 1, warnings
    finally:
        await stop_offline(app)


async def test_the_owners_removal_warning_is_in_the_owners_language(database_url: str):
    bot, app = await make_harness(database_url, bot_owner_ids=str(BOB))
    try:
        bot.world.start_private(BOB)  # 鲍勃's Telegram is in Chinese, the group is English
        await bot.send(bot.world.message(BOB, BOB, "/start"))  # so the bot knows his language
        await bot.send(bot.world.member_update(GROUP, BOT_ID, "left", actor=OWNER))
        [warning] = [s.text for s in bot.world.sent(BOB) if "⚠️" in s.text]
        assert "I was removed" not in warning, warning
    finally:
        await stop_offline(app)


# 8. The private fallback matches command names case-sensitively while PTB's CommandHandler
#    does not: "/Start", "/MyCoupons", "/Manage" get their answer AND "I don't know that
#    command".
@pytest.mark.parametrize("text", ["/Start", "/MyCoupons", "/Manage", "/HELP"])
async def test_a_capitalised_command_in_private_is_answered_once(bot: Harness, text: str):
    bot.world.start_private(ADMIN)
    said = await bot.say(ADMIN, text, chat=ADMIN)
    assert len(said) == 1, said


# 9. Members first seen by a message have an unknown join date; a `joined>30d` broadcast (the
#    group's long-standing members) leaves every one of them out.
async def test_members_from_before_the_bot_are_not_dropped_from_a_joined_over_30d_audience(
    bot: Harness,
):
    for uid in (ALICE, BOB, CAROL):
        await bot.say(uid, "hi", at=MONDAY)
        bot.world.start_private(uid)
        await bot.send(bot.world.message(uid, uid, "/start", at=MONDAY))
    await bot.flush()
    said = await bot.say(
        OWNER, "/broadcast joined>30d\nThanks, old friends", at=MONDAY + dt.timedelta(days=40)
    )
    assert "to 3 members who started me" in said[-1], said


# 10. The console's focus group where one is no longer an admin: "Only the group's admins can
#     do this." - it names no group and does not point to /manage, though the admin may manage
#     others.
async def test_a_console_refusal_after_demotion_says_which_group_and_how_to_switch(bot: Harness):
    STRANGER_USER(bot)
    bot.world.add_group(OTHER, "Other Club", owner=STRANGER)
    bot.world.set_status(OTHER, ADMIN, "administrator")
    await bot.send(bot.world.add_bot(OTHER, by=STRANGER, at=MONDAY))
    await manage(bot, ADMIN, GROUP)
    await bot.send(bot.world.member_update(GROUP, ADMIN, "member", actor=OWNER))
    [refused] = await bot.say(ADMIN, "/posts", chat=ADMIN)
    assert "/manage" in refused, refused


# 11. "/start@some_other_bot" in the private chat: CommandHandler ignores it (not addressed to
#     us) and the fallback's `(@\w+)?` treats it as known: no answer at all.
async def test_a_command_for_another_bot_in_private_is_not_met_with_silence(bot: Harness):
    bot.world.start_private(CAROL)
    said = await bot.say(CAROL, "/start@some_other_bot", chat=CAROL)
    assert said


# 12. New-member offers: a long-standing member (first seen by a message, join date unknown)
#     leaves and comes back and is "new" (joined just now): the new-members-only coupon is hers.
async def test_leaving_and_rejoining_does_not_make_an_old_member_new(
    bot: Harness, database_url: str
):
    now = bot.clock.now()
    deps = bot.app.bot_data.deps
    offer = await create_offer(
        deps.uow(), chat_id=GROUP, name="welcome", stock=None, per_member=1, at=now,
        template=Template(CouponKind.FIXED, value=500), audience_joined_days=7,
    )  # fmt: skip
    await bot.say(ALICE, "I've been here for years", at=now - dt.timedelta(days=1))
    await bot.flush()
    await bot.say(OWNER, f"/coupon post {offer.id}", at=now)
    before = await tap(bot, GROUP, ALICE, ClaimButton(offer.id))
    await bot.send(bot.world.member_update(GROUP, ALICE, "left", at=now))
    await bot.send(
        bot.world.member_update(GROUP, ALICE, "member", at=now + dt.timedelta(seconds=5))
    )
    after = await tap(bot, GROUP, ALICE, ClaimButton(offer.id))
    assert "Claimed" not in before
    assert await coupons_of(database_url, ALICE) == 0, after


# --- what held up (kept as regression tests) ---------------------------------------------------


async def test_a_demoted_admin_loses_the_console_at_once_when_the_bot_sees_it(bot: Harness):
    await manage(bot, ADMIN)
    await bot.send(bot.world.member_update(GROUP, ADMIN, "member", actor=OWNER))
    [refused] = await bot.say(ADMIN, "/set checkin_points 99", chat=ADMIN)
    assert "no longer an admin of <b>Sunny Tea Club</b>" in refused


async def test_a_group_the_bot_left_is_not_managed_any_more(bot: Harness):
    await manage(bot, ADMIN)
    await bot.send(bot.world.member_update(GROUP, BOT_ID, "left", actor=OWNER))
    [after] = await bot.say(ADMIN, "/coupon list", chat=ADMIN)
    again = await tap(bot, ADMIN, ADMIN, ManageButton(GROUP))  # the old chooser's button
    assert "Send /manage" in after and again, (after, again)
    # the old chooser's button answers "This group has no activity yet. Send /checkin to start!"
    assert "/checkin" not in again, again


async def test_help_in_a_group_where_one_is_only_a_member_lists_no_admin_commands(bot: Harness):
    STRANGER_USER(bot)
    bot.world.add_group(OTHER, "Other Club", owner=STRANGER)
    bot.world.set_status(OTHER, ADMIN, "member")
    await bot.send(bot.world.add_bot(OTHER, by=STRANGER, at=MONDAY))
    [said] = await bot.say(ADMIN, "/help", chat=OTHER)
    assert "/redeem" not in said


async def test_redeem_from_the_console_refuses_another_groups_coupon(bot: Harness):
    STRANGER_USER(bot)
    bot.world.add_group(OTHER, "Other Club", owner=STRANGER)
    bot.world.set_status(OTHER, ALICE, "member")
    await bot.send(bot.world.add_bot(OTHER, by=STRANGER, at=MONDAY))
    other = await offer_in(bot, chat=OTHER)
    await bot.say(STRANGER, f"/coupon post {other}", chat=OTHER)
    await tap(bot, OTHER, ALICE, ClaimButton(other))
    bot.world.start_private(ALICE)
    await bot.say(ALICE, "/mycoupons", chat=ALICE)
    code = re.search(r"<code>([A-Z0-9-]+)</code>", bot.world.sent(ALICE)[-1].text)
    assert code
    await manage(bot, ADMIN)
    [said] = await bot.say(ADMIN, f"/redeem {code.group(1)} 300", chat=ADMIN)
    assert "Redeemed" not in said and "✅" not in said, said


async def test_groupbuy_end_from_the_console_marks_the_group_post(bot: Harness):
    deal, _ = await deal_in(bot)
    await manage(bot, ADMIN)
    await bot.say(ADMIN, f"/groupbuy post {deal}", chat=ADMIN)
    [ended] = await bot.say(ADMIN, f"/groupbuy end {deal}", chat=ADMIN)
    late = await tap(bot, GROUP, ALICE, GroupBuyButton(GroupBuyVerb.START, deal))
    [listing] = await bot.say(ADMIN, "/groupbuy list", chat=ADMIN)
    assert "has ended" in ended and "ended" in listing and "Team" not in late, (late, listing)


# 13. Console ✅ on a /schedule preview: the question came in the admin's language, the
#     confirmation that replaces it is in the group's (the tap handler uses the group's).
async def test_the_consoles_schedule_confirmation_keeps_the_admins_language(bot: Harness):
    await bot.say(OWNER, "/set language zh")
    await manage(bot, ADMIN)
    await bot.say(ADMIN, "/schedule daily 09:00\nhello", chat=ADMIN)
    ok = bot.world.sent(ADMIN)[-1].params["reply_markup"]["inline_keyboard"][0][0]
    await tap(bot, ADMIN, ADMIN, ok["callback_data"])
    confirmed = [c for c in bot.world.calls if c.method == "editMessageText"][-1].text
    assert "已" not in confirmed and "帖" not in confirmed, confirmed
