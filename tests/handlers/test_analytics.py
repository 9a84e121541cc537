"""/funnels and /cohorts: admins get the numbers and a chart, privately where possible."""

from __future__ import annotations

import datetime as dt
import re

from tests.handlers.conftest import ADMIN, ALICE, BOB, CAROL, GROUP, NOW, OWNER, Harness

DAY = dt.timedelta(days=1)
HOUR = dt.timedelta(hours=1)


async def newcomers(bot: Harness) -> None:
    """Bob and Carol join in the last week; Carol speaks and checks in, Bob stays silent."""
    for member, joined in ((BOB, NOW - 3 * DAY), (CAROL, NOW - 2 * DAY)):
        bot.world.set_status(GROUP, member, "left")
        await bot.send(bot.world.member_update(GROUP, member, "member", at=joined))
    await bot.say(CAROL, "hello all", at=NOW - 2 * DAY + dt.timedelta(hours=1))
    await bot.say(CAROL, "/checkin", at=NOW - DAY)


def photos(bot: Harness, chat: int) -> list[dict]:
    return [
        c.params
        for c in bot.world.calls
        if c.method == "sendPhoto" and c.status == 200 and int(c.params["chat_id"]) == chat
    ]


def uploaded_bytes(photo: dict) -> int:
    """The double records an upload as `<upload NAME, N bytes>`."""
    marker = str(photo["photo"])
    assert marker.startswith("<upload")
    return int(marker.rsplit(", ", 1)[1].split()[0])


async def test_funnels_go_privately_with_counts_conversions_and_a_chart(bot: Harness):
    await newcomers(bot)
    bot.world.start_private(ADMIN)

    report, in_group = await bot.say(ADMIN, "/funnels", at=NOW)

    assert "sent you the report in a private chat" in in_group
    assert bot.world.delivered(ADMIN)[0] == report
    assert "Funnels of <b>Sunny Tea Club</b>, last 7 days" in report
    assert "<b>New members</b>\njoined: <b>2</b>" in report
    assert "first message: <b>1</b> (50% of the step before, 50% of the first)" in report
    assert "first check-in: <b>1</b> (100% of the step before, 50% of the first)" in report
    assert "first order: <b>0</b> (0% of the step before, 0% of the first)" in report
    [chart] = photos(bot, ADMIN)
    assert chart["caption"] == "Funnels, last 7 days"
    assert uploaded_bytes(chart) > 10_000
    assert photos(bot, GROUP) == []


async def test_without_a_private_chat_the_funnels_come_in_the_group_in_chinese(bot: Harness):
    await bot.say(OWNER, "/set language zh", at=NOW)
    await newcomers(bot)

    report, *_ = await bot.say(ADMIN, "/funnels 30d", at=NOW)

    assert "📊 <b>Sunny Tea Club</b> 的转化漏斗，最近 30 天" in report
    assert "<b>新成员</b>\n入群：<b>2</b>" in report  # full-width, no space before （
    assert "首次发言：<b>1</b>（占上一步 50%，占第一步 50%）" in report
    [chart] = photos(bot, GROUP)
    assert chart["caption"] == "转化漏斗，最近 30 天"


async def test_a_bad_period_is_refused_and_nothing_is_drawn(bot: Harness):
    [en] = await bot.say(ADMIN, "/funnels 1y", at=NOW)
    await bot.say(OWNER, "/set language zh", at=NOW)
    [zh] = await bot.say(ADMIN, "/funnels 7d 30d", at=NOW)

    assert "can't read <code>1y</code> as a period. Usage: /funnels [7d|30d|90d]" in en
    assert "无法把 <code>7d 30d</code> 识别为时间段" in zh
    assert photos(bot, GROUP) == [] and photos(bot, ADMIN) == []


async def test_members_get_no_numbers(bot: Harness):
    [funnels] = await bot.say(ALICE, "/funnels", at=NOW)
    [cohorts] = await bot.say(ALICE, "/cohorts", at=NOW)

    assert "only group admins" in funnels and "only group admins" in cohorts
    assert photos(bot, GROUP) == []


async def test_cohorts_come_as_a_heatmap_with_a_one_line_summary(bot: Harness):
    await newcomers(bot)
    bot.world.start_private(ADMIN)

    summary, in_group = await bot.say(ADMIN, "/cohorts 4", at=NOW)

    assert "sent you the report" in in_group
    assert summary.startswith("👥 Retention of <b>Sunny Tea Club</b>: 2 new members in 4")
    [chart] = photos(bot, ADMIN)
    assert chart["caption"] == "Weekly retention by join week"  # the summary is said once
    assert uploaded_bytes(chart) > 10_000
    assert [m for m in bot.world.delivered(ADMIN) if "Retention of" in m] == [summary]


async def test_cohorts_in_chinese_and_a_bad_number_of_weeks(bot: Harness):
    await bot.say(OWNER, "/set language zh", at=NOW)
    await newcomers(bot)

    summary, *_ = await bot.say(ADMIN, "/cohorts", at=NOW)
    [refused] = await bot.say(ADMIN, "/cohorts 99", at=NOW)

    assert summary.startswith("👥 <b>Sunny Tea Club</b> 的留存：8 个周同期群共 2 名新成员")
    assert "无法把 <code>99</code> 识别为周数" in refused and "2-12" in refused
    assert len(photos(bot, GROUP)) == 1


async def test_funnels_7d_and_stats_7d_count_the_same_days(bot: Harness):
    """A join 6 days 16 hours ago is 18:00 local on the day before /stats 7d's first day:
    neither /funnels 7d nor /stats 7d counts it (both read whole local days)."""
    bot.world.start_private(ADMIN)
    bot.world.set_status(GROUP, BOB, "left")
    await bot.send(bot.world.member_update(GROUP, BOB, "member", at=NOW - 6 * DAY - 16 * HOUR))

    funnels, _ = await bot.say(ADMIN, "/funnels 7d", at=NOW)
    bot.clock.advance(120)  # the group's minute has room again
    card, _ = await bot.say(ADMIN, "/stats 7d", at=NOW)

    joined = re.search(r"<b>New members</b>\njoined: <b>(\d+)</b>", funnels)
    joins = re.search(r"Joins <b>(\d+)</b>", card)
    assert joined is not None and joins is not None
    assert joined[1] == joins[1] == "0"
