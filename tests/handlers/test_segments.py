"""/segments: admins see members per stage, RFM segment and tier, privately, with lists."""

from __future__ import annotations

import datetime as dt

from handlers.callbacks import SegmentButton, SegmentPageButton, SegmentView
from tests.handlers.conftest import ADMIN, ALICE, BOB, CAROL, GROUP, NOW, OWNER, Harness, tap

DAY = dt.timedelta(days=1)


async def chatter(bot: Harness) -> None:
    """Alice spoke 12 days ago (silent), Bob yesterday (active), Carol 40 days ago
    (dormant); the admin speaks now."""
    await bot.say(CAROL, "hello", at=NOW - 40 * DAY)
    await bot.say(ALICE, "hello", at=NOW - 12 * DAY)
    await bot.say(BOB, "你好", at=NOW - DAY)
    await bot.say(ADMIN, "morning", at=NOW)


def private_texts(bot: Harness, user: int) -> list[str]:
    return bot.world.shown(user)


async def test_the_report_goes_privately_with_stages_and_a_button_per_stage(bot: Harness):
    await chatter(bot)
    bot.world.start_private(ADMIN)

    report, in_group = await bot.say(ADMIN, "/segments", at=NOW)

    assert "sent you the segments in a private chat" in in_group
    assert private_texts(bot, ADMIN) == [report]
    assert "Segments of <b>Sunny Tea Club</b>" in report
    assert "🔥 active: <b>2</b>" in report  # Bob and the admin
    assert "💤 silent: <b>1</b>" in report and "😴 dormant: <b>1</b>" in report
    assert "no orders yet: by activity" in report
    buttons = [
        b["text"]
        for row in bot.world.messages[(ADMIN, 1)]["reply_markup"]["inline_keyboard"]
        for b in row
    ]
    assert "💤 silent · 1" in buttons


async def test_a_stage_button_lists_its_members_and_pages_turn_in_place(bot: Harness):
    await chatter(bot)
    bot.world.start_private(ADMIN)
    await bot.say(ADMIN, "/segments", at=NOW)

    answer = await tap(bot, ADMIN, ADMIN, SegmentButton(SegmentView.ACTIVE, 0, GROUP))

    assert answer == ""
    listing = private_texts(bot, ADMIN)[-1]
    assert "active in <b>Sunny Tea Club</b>: 2 members (page 1 of 1)" in listing
    assert "鲍勃" in listing and "Adam" in listing and "Alice" not in listing


async def test_without_a_private_chat_the_group_gets_the_counts_but_no_names(bot: Harness):
    await chatter(bot)

    await bot.say(ADMIN, "/segments", at=NOW)

    [in_group] = bot.world.delivered(GROUP)[-1:]
    assert "🔥 active: <b>2</b>" in in_group
    shown = bot.world.messages[max(k for k in bot.world.messages if k[0] == GROUP)]
    assert "reply_markup" not in shown


async def test_members_and_forged_buttons_change_nothing_and_see_no_names(bot: Harness):
    await chatter(bot)
    bot.world.start_private(ALICE)

    [refused] = await bot.say(ALICE, "/segments", at=NOW)
    forged = await tap(bot, ALICE, ALICE, SegmentButton(SegmentView.ACTIVE, 0, GROUP), fresh=True)
    paged = await tap(
        bot, ALICE, ALICE, SegmentPageButton(SegmentView.SILENT, 0, GROUP), fresh=True
    )

    assert "only group admins" in refused
    assert "doesn't belong here" in forged and "doesn't belong here" in paged
    assert not any("Alice" in t for t in private_texts(bot, ALICE))


async def test_an_admin_of_the_group_only_can_use_a_list_sent_to_another_admin(bot: Harness):
    await chatter(bot)
    bot.world.start_private(ADMIN)
    await bot.say(ADMIN, "/segments", at=NOW)
    message_id = max(k[1] for k in bot.world.messages if k[0] == ADMIN)
    await bot.send(bot.world.member_update(GROUP, ADMIN, "member", actor=OWNER))  # demoted

    answer = await tap(
        bot, ADMIN, ADMIN, SegmentButton(SegmentView.ACTIVE, 0, GROUP), message_id=message_id
    )

    assert "Only the group's admins" in answer


async def test_thresholds_move_members_between_stages(bot: Harness):
    await chatter(bot)

    [done] = await bot.say(ADMIN, "/segments set silent 14", at=NOW)
    await bot.say(ADMIN, "/segments", at=NOW)

    report = bot.world.delivered(GROUP)[-1]
    assert "silent is now 14 days" in done
    assert "🔥 active: <b>3</b>" in report  # Alice's 12 days are no longer silence
    assert "silent after 14, dormant after 30" in report


async def test_bad_thresholds_are_refused_with_the_current_values(bot: Harness):
    for command in ("/segments set dormant 3", "/segments set colour 7", "/segments set silent x7"):
        [refused] = await bot.say(ADMIN, command, at=NOW)
        assert "Can't set" in refused and "Now: new 7, silent 7, dormant 30, window 365" in refused
    [usage] = await bot.say(ADMIN, "/segments frobnicate", at=NOW)
    assert "Usage: /segments" in usage


async def test_a_list_by_command_and_an_unknown_list(bot: Harness):
    await chatter(bot)
    bot.world.start_private(ADMIN)
    await bot.say(ADMIN, "/manage", at=NOW, chat=ADMIN)
    await tap(bot, ADMIN, ADMIN, f"mg:{GROUP}")

    [listing] = await bot.say(ADMIN, "/segments list dormant", at=NOW, chat=ADMIN)
    [unknown] = await bot.say(ADMIN, "/segments list sleepy", at=NOW, chat=ADMIN)

    assert (
        "dormant in <b>Sunny Tea Club</b>: 1 member (page 1 of 1)" in listing and "Carol" in listing
    )
    assert "Which list?" in unknown and "at_risk" in unknown


async def test_the_report_in_chinese(bot: Harness):
    await chatter(bot)
    await bot.say(OWNER, "/set language zh", at=NOW)

    await bot.say(ADMIN, "/segments", at=NOW)

    report = bot.world.delivered(GROUP)[-1]
    assert "用户分层" in report and "🔥 活跃: " not in report  # Chinese punctuation
    assert "🔥 活跃：<b>3</b>" in report and "沉睡" in report  # the owner spoke too
    assert "尚无订单：按活跃度" in report


async def test_a_list_by_the_name_the_report_shows_in_either_language_or_a_tier_name(bot: Harness):
    await chatter(bot)
    bot.world.start_private(ADMIN)
    await bot.say(OWNER, "/set language zh", at=NOW)

    for word, shown in (
        ("沉睡", "沉睡"),
        ("dormant", "沉睡"),
        ("已流失", "已流失"),
        ("普通", "普通"),
        ("Premium", "高级"),  # the default tiers' English name, in a Chinese group
    ):
        await bot.say(ADMIN, f"/segments list {word}", at=NOW)
        listing = bot.world.delivered(ADMIN)[-1]
        assert shown in listing and "Sunny Tea Club" in listing, (word, listing)


async def test_tier_without_a_check_in_knows_a_member_who_just_spoke(bot: Harness):
    await bot.say(BOB, "你好", at=NOW)

    [card] = await bot.say(BOB, "/tier", at=NOW)

    assert "no activity" not in card and "Regular" in card


async def test_a_claim_is_activity_a_dormant_member_who_claims_is_active_again(bot: Harness):
    from tests.handlers.test_coupons import claim_on_post, offer

    await chatter(bot)  # Carol spoke 40 days ago: dormant
    await claim_on_post(bot, CAROL, await offer(bot))
    bot.world.start_private(ADMIN)
    await bot.say(ADMIN, "/manage", at=NOW, chat=ADMIN)
    await tap(bot, ADMIN, ADMIN, f"mg:{GROUP}")

    [dormant] = await bot.say(ADMIN, "/segments list dormant", at=NOW, chat=ADMIN)
    [active] = await bot.say(ADMIN, "/segments list active", at=NOW, chat=ADMIN)

    assert "Carol" not in dormant
    assert "Carol" in active
