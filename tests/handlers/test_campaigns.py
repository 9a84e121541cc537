"""/campaign through the real handlers: admins create, target, attach and read the 复盘 (in
private where possible); when a campaign ends its admins who started the bot get it once;
CSAT and NPS targets scored on the answers to its attached surveys, in English and Chinese."""

from __future__ import annotations

import datetime as dt
import re

from bot.jobs import Jobs
from handlers.callbacks import SurveyButton
from tests.handlers.conftest import (
    ADMIN,
    ALICE,
    BOB,
    CAROL,
    GROUP,
    NOW,
    OWNER,
    Harness,
    say_many,
    tap,
)
from tests.handlers.test_coupons import claim_on_post, offer
from tests.handlers.test_surveys import say as survey_say
from tests.handlers.test_surveys import survey_post

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
    assert "📋 <b>Review · 双12</b> (#1)" in report and "running, day 1 of 3" in report
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
    [slash] = await bot.say(ADMIN, "/campaign new a/b 2026-12-05 2026-12-06", at=DEC1 + 8 * HOUR)

    assert "only group admins" in member
    assert "ends before it starts" in backwards and "<b>Campaigns</b>" in backwards
    assert "This group has no campaign #99" in foreign
    assert "<code>vibes</code> is not a KPI I count" in no_kpi
    assert "attached to this campaign already" in twice
    assert "one word (letters, digits, . : # &amp; + - _)" in slash  # valid HTML, so sent
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


async def a_campaign_with_a_survey(bot: Harness) -> int:
    """满意度周 from today with CSAT and NPS targets; a CSAT survey rated 5, 4 and 2."""
    await survey_say(bot, ADMIN, "/campaign new 满意度周 11-30 12-06 csat=80 nps=30")
    await survey_say(bot, ADMIN, "/survey csat How was your order?")
    survey_id, _, _ = survey_post(bot)
    for user, value in ((ALICE, 5), (BOB, 4), (CAROL, 2)):
        await tap(bot, GROUP, user, SurveyButton(survey_id, value))
    [attached] = await survey_say(bot, ADMIN, f"/campaign attach 1 survey {survey_id}")
    assert attached == f"📎 Attached: survey {survey_id}"
    return survey_id


async def test_csat_and_nps_targets_read_the_answers_to_its_attached_surveys(bot: Harness):
    survey_id = await a_campaign_with_a_survey(bot)
    bot.world.start_private(ADMIN)

    await survey_say(bot, ADMIN, "/campaign report 1")
    report = bot.world.sent(ADMIN)[-1].text

    assert "Targets: CSAT (satisfied) 80.0%, NPS (net promoters) +30" in report
    assert (
        "CSAT (satisfied) 80.0% → <b>66.7%</b> (83%) · 3 answers to its surveys" in report
    )  # 2 of 3 satisfied
    assert (
        "NPS (net promoters) +30 → <b>–</b> (–) · attach a survey: <code>/campaign attach "
        "&lt;id&gt; survey &lt;survey id&gt;</code>"
    ) in report
    assert "📋 <b>Surveys</b> (attached; CSAT and NPS above pool their answers)" in report
    assert f"#{survey_id} CSAT · 2026-11-30 · open · CSAT 67% (2 of 3 satisfied)" in report
    assert "ahead of pace" not in report and "behind pace" not in report  # a score has no pace


async def test_the_survey_kpis_in_chinese_and_bad_targets_or_foreign_surveys(bot: Harness):
    await a_campaign_with_a_survey(bot)
    bot.world.start_private(ADMIN)
    await survey_say(bot, OWNER, "/set language zh")
    await survey_say(bot, ADMIN, "/survey nps 你会推荐我们吗？")
    nps_id, _, _ = survey_post(bot)
    for user, value in ((ALICE, 10), (BOB, 6)):
        await tap(bot, GROUP, user, SurveyButton(nps_id, value))

    [too_high] = await survey_say(bot, ADMIN, "/campaign target 1 净推荐值 150")
    [negative] = await survey_say(bot, ADMIN, "/campaign target 1 nps −20")
    [unknown] = await survey_say(bot, ADMIN, "/campaign attach 1 survey 99")
    await survey_say(bot, ADMIN, f"/campaign attach 1 survey {nps_id}")
    await survey_say(bot, ADMIN, "/campaign report 1")
    report = bot.world.sent(ADMIN)[-1].text

    assert too_high.startswith("<code>150</code> 不是有效的调查目标")
    assert "净推荐值 NPS -20" in negative
    assert unknown == "本群没有可关联的此对象：<code>99</code>。"
    assert "满意度 CSAT 80.0% → <b>66.7%</b> (83%) · 基于其调查的 3 条回答" in report
    assert "净推荐值 NPS -20 → <b>0</b> (–) · 基于其调查的 2 条回答" in report  # 1 − 1 of 2
    assert "📋 <b>调查</b>（已关联" in report
    assert "CSAT 67%（3 人中 2 人满意）" in report
    [targets] = [line for line in report.splitlines() if line.startswith("目标：")]
    assert "、" in targets and ", " not in targets  # a Chinese list
    assert "（=（归因GMV − 成本）/ 成本）" in report


async def test_redelivered_campaign_new_target_and_attach_answer_once(bot: Harness):
    async def twice(text: str) -> tuple[list[str], list[str]]:
        update = bot.world.message(GROUP, ADMIN, text, at=bot.clock.now())
        return await bot.send(update), await bot.send(update)  # Telegram redelivers it

    await bot.say(ADMIN, "/link new 小红书")
    made, made_again = await twice("/campaign new 双11 11-01 11-11")
    target, target_again = await twice("/campaign target 1 gmv 10000")
    attached, attached_again = await twice("/campaign attach 1 channel 小红书")

    assert len(made) == len(target) == len(attached) == 1
    assert "小红书" in attached[0] and "❌" not in made[0] + target[0] + attached[0]
    assert made_again == target_again == attached_again == []
    listing = await bot.say(ADMIN, "/campaign list")
    assert listing[0].count("双11") == 1


async def test_a_csat_target_of_4_is_refused_explaining_csat_is_a_share_of_4_and_5_stars(
    bot: Harness,
):
    await bot.say(ADMIN, "/campaign new 复购周 12-01 12-07")

    refused = await bot.say(ADMIN, "/campaign target 1 csat 4")
    accepted = await bot.say(ADMIN, "/campaign target 1 csat 20")

    assert "too low for a CSAT target" in refused[0] and "rated 4 or 5 stars" in refused[0]
    assert "1–5 average" in refused[0] and "e.g. csat=80" in refused[0]
    assert accepted[0].endswith("Targets: CSAT (satisfied) 20.0%")


async def test_campaign_list_of_100_campaigns_fits_one_message(bot: Harness):
    await say_many(bot, ADMIN, 100, "/campaign new 双11第{i}场 11-01 11-11")

    listed = await bot.say(ADMIN, "/campaign list", at=bot.clock.now())

    assert bot.world.problems() == []
    assert len(listed) == 1 and re.search(r"… and \d+ more$", listed[0])
