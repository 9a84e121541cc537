"""/campaign through the real handlers: admins create, target, attach and read the 复盘 (in
private where possible); when a campaign ends its admins who started the bot get it once."""

from __future__ import annotations

import datetime as dt
import re

from bot.jobs import Jobs
from tests.handlers.conftest import ADMIN, ALICE, GROUP, NOW, OWNER, Harness
from tests.handlers.test_coupons import claim_on_post, offer

DAY, HOUR = dt.timedelta(days=1), dt.timedelta(hours=1)
DEC1 = dt.datetime(2026, 12, 1, 2, 0, tzinfo=dt.UTC)  # 10:00 in Shanghai, the first day


def jobs_of(bot: Harness) -> Jobs:
    return Jobs(bot.app.bot, bot.app.bot_data.deps, bot.outbox, None)  # type: ignore[arg-type]


async def a_campaign_with_a_sale(bot: Harness) -> None:
    """双12 (1–3 December) with its offer; Alice claims a coupon and pays with it."""
    [made] = await bot.say(
        ADMIN, "/campaign new 双12 12-01 12-03 新增=3 gmv=500 budget=100 phases=1/1/1", at=NOW
    )
    assert "✅ Campaign #1 <b>双12</b> created: 2026-12-01 – 2026-12-03 (3 days)" in made
    assert "Phases: 预热 warm-up 12-01–12-01 · 爆发 peak 12-02–12-02" in made
    offer_id = await offer(bot)
    [attached] = await bot.say(ADMIN, f"/campaign attach 1 offer {offer_id}", at=NOW + HOUR)
    assert attached == f"📎 Attached: offer {offer_id}"
    bot.clock.advance((DEC1 - NOW).total_seconds())
    await claim_on_post(bot, ALICE, offer_id)
    code = re.search(r"[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{2}", bot.world.calls[-1].params["text"])
    assert code is not None
    await bot.say(ADMIN, f"/redeem {code.group(0)} 250", at=DEC1 + HOUR)


async def test_an_admin_reads_the_retro_privately_with_targets_cost_and_gmv(bot: Harness):
    await a_campaign_with_a_sale(bot)
    bot.world.start_private(ADMIN)

    report, in_group = await bot.say(ADMIN, "/campaign report 1", at=DEC1 + 2 * HOUR)

    assert "sent you the campaign report in a private chat" in in_group
    assert bot.world.shown(ADMIN) == [report]
    assert "📋 <b>复盘 · 双12</b> (#1)" in report and "running, day 1 of 3" in report
    assert "GMV ¥500.00 → <b>¥220.00</b> (44%) · ahead of pace (¥166.67 by now)" in report
    assert "coupon discounts ¥30.00 + 0 referral points × ¥0.01" in report
    assert "Budget ¥100.00, 30% used" in report
    assert "<b>Attributed GMV</b> ¥220.00 (1 order): with its coupons ¥220.00" in report
    assert "<b>ROI</b> 633%" in report  # (220 - 30) / 30


async def test_members_are_refused_and_bad_input_changes_nothing(bot: Harness):
    await a_campaign_with_a_sale(bot)

    [member] = await bot.say(ALICE, "/campaign list", at=DEC1 + 2 * HOUR)
    [backwards] = await bot.say(ADMIN, "/campaign new x 2026-12-05 2026-12-01", at=DEC1 + 3 * HOUR)
    [foreign] = await bot.say(ADMIN, "/campaign report 99", at=DEC1 + 4 * HOUR)
    [no_kpi] = await bot.say(ADMIN, "/campaign target 1 vibes 3", at=DEC1 + 5 * HOUR)
    [twice] = await bot.say(ADMIN, "/campaign attach 1 offer 1", at=DEC1 + 6 * HOUR)
    [listing] = await bot.say(ADMIN, "/campaign list", at=DEC1 + 7 * HOUR)

    assert "only group admins" in member
    assert "ends before it starts" in backwards and "<b>Campaigns</b>" in backwards
    assert "This group has no campaign #99" in foreign
    assert "<code>vibes</code> is not a KPI I count" in no_kpi
    assert "attached to this campaign already" in twice
    assert listing.splitlines()[1:] == [
        "#1 <b>双12</b> · 2026-12-01 – 2026-12-03 (3 days) · running"
    ]


async def test_when_it_ends_admins_who_started_the_bot_get_the_retro_once_in_chinese(
    bot: Harness,
):
    await a_campaign_with_a_sale(bot)
    bot.world.start_private(ADMIN)
    await bot.say(ADMIN, "/start", at=DEC1 + 2 * HOUR, chat=ADMIN)
    await bot.say(ADMIN, "/set language zh", at=DEC1 + 3 * HOUR)
    before, in_group = len(bot.world.delivered(ADMIN)), len(bot.world.delivered(GROUP))
    jobs = jobs_of(bot)

    bot.clock.advance((DEC1 + 2 * DAY + 13 * HOUR - bot.clock.now()).total_seconds())
    await jobs.finish_campaigns()  # 3 December, 23:00 in Shanghai: not over yet
    bot.clock.advance(2 * 3600)
    await jobs.finish_campaigns()
    await jobs.finish_campaigns()

    sent = bot.world.delivered(ADMIN)[before:]
    assert len(sent) == 1 and bot.world.delivered(OWNER) == []
    [retro] = sent
    assert retro.startswith("🏁 活动已结束。📋 <b>复盘 · 双12</b>（#1）")
    assert "🎯 <b>目标 → 实际（达成率）</b>" in retro
    assert "新增 3 → <b>0</b> (0%)" in retro  # Alice was there before the campaign
    assert "💰 <b>成本</b> ¥30.00" in retro and "<b>归因GMV</b> ¥220.00（1 单）" in retro
    assert "已结束" in retro and "12-10 前的订单仍可能计入归因" in retro
    assert len(bot.world.delivered(GROUP)) == in_group  # nothing said in the group
