"""/stats: admins get the group's KPI card, privately where possible, in their language."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from handlers.callbacks import ShopButton
from tests.handlers.conftest import ADMIN, ALICE, BOB, CAROL, GROUP, NOW, OWNER, Harness, tap

DAY = dt.timedelta(days=1)


async def a_month(bot: Harness) -> None:
    """Carol joined 40 days ago (the period before the one before); Alice 5 days ago;
    Bob 3 days ago, then left; chatter today and 20 days ago; Alice checks in today."""
    await bot.send(bot.world.join_message(GROUP, [CAROL], at=NOW - 40 * DAY))
    await bot.send(bot.world.join_message(GROUP, [ALICE], at=NOW - 5 * DAY))
    await bot.send(bot.world.join_message(GROUP, [BOB], at=NOW - 3 * DAY))
    await bot.send(bot.world.leave_message(GROUP, BOB, at=NOW - 2 * DAY))
    await bot.say(CAROL, "hello", at=NOW - 20 * DAY)
    await bot.say(ALICE, "hi", at=NOW - DAY)
    await bot.say(ALICE, "签到", at=NOW)
    await bot.say(CAROL, "morning", at=NOW)


def photos(bot: Harness, chat: int) -> list[tuple[str, int]]:
    """The charts sent to `chat`, as one album: each caption and the uploaded PNG's size."""
    albums = bot.world.albums(chat)
    assert len(albums) <= 1 and not [c for c in bot.world.calls if c.method == "sendPhoto"]
    return albums[0] if albums else []


async def test_the_card_goes_privately_with_each_kpi_and_its_change(bot: Harness):
    await a_month(bot)
    bot.world.start_private(ADMIN)

    card, in_group = await bot.say(ADMIN, "/stats 7d", at=NOW)

    assert "sent you the stats in a private chat" in in_group
    shown, charts = bot.world.shown(ADMIN), photos(bot, ADMIN)
    assert shown[0] == card and shown[1:] == [caption for caption, _ in charts]
    assert [caption for caption, _ in charts][:2] == [
        "Growth: joins and leaves per day", "Activity per day",
    ]  # fmt: skip
    assert "3 new members in 8 weekly cohorts" in charts[2][0]  # Carol, Alice, Bob
    assert charts[3][0] == "Funnels, last 7 days"
    assert all(size > 10_000 for _, size in charts)  # real PNGs, not placeholders
    assert "📊 <b>Sunny Tea Club</b> · 7 days, 11-24 – 11-30" in card
    assert "Joins <b>2</b> (+2)" in card  # Alice, Bob; nobody the week before
    assert "Leaves <b>1</b> (+1)" in card and "Net growth <b>+1</b> (+1)" in card
    assert "Messages <b>3</b> (+3)" in card  # hi, 签到, morning: the admin's /stats is none
    assert "Check-in rate <b>25.0%</b> (–)" in card  # 1 check-in in 4 active member-days
    # Alice yesterday; Alice, Carol and the admin (asking /stats is activity) today: 4 / 7
    assert "DAU (daily average) <b>0.6</b> (+0.6)" in card
    assert "WAU (last 7 days) <b>3</b> (+3)" in card
    assert "MAU (last 30 days) <b>3</b> (+2, +200%)" in card  # Carol spoke on the 10th
    assert "Members <b>3</b> (+1, +50%)" in card  # the admin (there before the bot), Carol, Alice
    assert "Average order <b>–</b>" in card  # no orders: nothing to divide
    assert "Change against 11-17 – 11-23" in card and "Asia/Shanghai" in card


async def test_a_makeup_card_shows_apart_and_the_check_in_rate_stays_a_share(bot: Harness):
    """Alice checks in on the 28th, misses the 29th, checks in today and restores the 29th
    with a 补签卡; everything said is a command, so there are no messages at all."""
    bot.world.start_private(ADMIN)
    [added] = await bot.say(ADMIN, "/shop add makeup 5 7", at=NOW)
    card_id = int(re.search(r"#(\d+)", added)[1])  # type: ignore[index]
    await bot.say(ALICE, "/checkin", at=NOW - 2 * DAY)
    await bot.say(ALICE, "/checkin", at=NOW)
    await bot.say(ALICE, "/shop", at=NOW)
    restored = await tap(bot, GROUP, ALICE, ShopButton(card_id))

    card, _in_group = await bot.say(ADMIN, "/stats 7d", at=NOW)

    assert "Yesterday's check-in is restored" in restored
    assert "Messages <b>0</b>" in card  # /shop, /checkin, /stats: commands, no messages
    # Alice on the 28th; Alice and the admin today: 2 check-ins on their day of 3 active
    # member-days (counted with the make-up: 3 of 3, and the 29th 1 of 0)
    assert "Check-in rate <b>66.7%</b>" in card
    assert "Make-up check-ins (not in the rate) <b>1</b> (+1)" in card


async def test_without_a_private_chat_the_group_gets_the_card(bot: Harness):
    await a_month(bot)
    bot.clock.advance(120)  # the group's minute starts afresh
    budget = bot.app.bot.rate_limiter.budget  # type: ignore[union-attr]

    await bot.say(ADMIN, "/stats", at=NOW)  # a private message is tried first, and refused

    card = next(text for text in bot.world.delivered(GROUP) if "📊" in text)
    assert "30 days, 11-01 – 11-30" in card
    assert len(photos(bot, GROUP)) == 4  # the charts follow where the card went, one album
    assert budget.used(GROUP) == 1 + 4  # the card, and the album's 4 of the group's 20
    assert "Members <b>3</b> (+1, +50%)" in card  # the admin and Carol on 1 November


async def test_a_second_stats_within_a_minute_is_told_when_and_draws_nothing(bot: Harness):
    """One admin asks, another asks 45 s later (the charts are the same, and drawing them
    costs every member's replies CPU): told to wait 15 s. After the minute, it works."""
    await a_month(bot)
    bot.world.start_private(ADMIN)
    await bot.say(ADMIN, "/stats", at=NOW)
    albums = len(bot.world.albums(ADMIN))

    bot.clock.advance(45)
    [again] = await bot.say(OWNER, "/stats 7d", at=bot.clock.now())
    bot.clock.advance(15)
    later, _in_group = await bot.say(ADMIN, "/stats 7d", at=bot.clock.now())

    assert again == (
        "⏳ This group's stats were drawn less than a minute ago: ask again in 15 seconds."
    )
    assert "📊 <b>Sunny Tea Club</b> · 7 days" in later
    assert len(bot.world.albums(ADMIN)) == albums + 1  # nothing drawn for the second


async def test_the_wait_is_said_in_chinese_in_a_chinese_group(bot: Harness):
    await bot.say(ADMIN, "/set language zh", at=NOW)
    await bot.say(ADMIN, "/stats", at=NOW)  # no private chat: the card goes to the group
    bot.clock.advance(59)

    [again] = await bot.say(ADMIN, "/stats", at=bot.clock.now())

    assert again == "⏳ 本群数据一分钟内刚生成过，请 1 秒后再查询。"


async def test_members_are_refused_and_see_no_figures(bot: Harness):
    await a_month(bot)
    bot.world.start_private(ALICE)

    [refused] = await bot.say(ALICE, "/stats", at=NOW)

    assert "only group admins" in refused
    assert bot.world.shown(ALICE) == []


@pytest.mark.parametrize("argument", ["14d", "7d 30d", "-7d", "999999999999d", "７d", "7dd"])
async def test_a_bad_period_gets_the_usage_and_no_card(bot: Harness, argument: str):
    bot.world.start_private(ADMIN)

    [usage] = await bot.say(ADMIN, f"/stats {argument}", at=NOW)

    assert "Usage: <code>/stats</code>" in usage
    assert bot.world.shown(ADMIN) == []


async def test_in_chinese_the_card_and_the_usage_speak_chinese(bot: Harness):
    await a_month(bot)
    await bot.say(ADMIN, "/set language zh", at=NOW)

    bot.world.start_private(ADMIN)

    card, _in_group = await bot.say(ADMIN, "/stats 90天", at=NOW)
    [usage] = await bot.say(ADMIN, "/stats 一周", at=NOW)

    assert "近 90 天" in card
    for name in ("成员", "新增", "退群", "净增长", "日活（日均）", "周活（近 7 天）",
                 "月活（近 30 天）", "黏性（近 30 天日活/月活）", "消息", "签到率",
                 "补签（不计入签到率）",
                 "邀请确认", "裂变占比", "领券", "核销", "核销率", "订单", "GMV", "客单价",
                 "ARPU", "复购率", "新人首单转化"):  # fmt: skip
        assert f"{name} <b>" in card
    assert "用法" in usage


async def test_from_a_private_chat_the_managed_group_is_shown_there(bot: Harness):
    await a_month(bot)
    bot.world.start_private(ADMIN)
    await bot.say(ADMIN, "/manage", at=NOW, chat=ADMIN)
    await tap(bot, ADMIN, ADMIN, f"mg:{GROUP}")

    [card] = await bot.say(ADMIN, "/stats 30d", at=NOW, chat=ADMIN)

    assert "📊 <b>Sunny Tea Club</b> · 30 days" in card
    assert len(photos(bot, ADMIN)) == 4
    assert "Joins <b>2</b>" in card


def test_a_period_across_new_year_shows_the_years():
    from handlers.stats_texts import short_day

    new_year = dt.date(2027, 1, 30)
    assert short_day(dt.date(2026, 11, 2), new_year) == "2026-11-02"
    assert short_day(new_year, dt.date(2026, 11, 2)) == "2027-01-30"
    assert short_day(dt.date(2026, 11, 2), dt.date(2026, 11, 30)) == "11-02"
