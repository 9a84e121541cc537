"""Alerts through the real job and Bot API double: the admin who started the bot gets a
库存预警 privately, once a day, and again the next day while the stock is still low."""

from __future__ import annotations

from bot.jobs import Jobs
from tests.handlers.conftest import ADMIN, ALICE, GROUP, OWNER, Harness
from tests.handlers.test_coupons import claim_on_post, offer

HOUR = 3600


def jobs_of(bot: Harness) -> Jobs:
    return Jobs(bot.app.bot, bot.app.bot_data.deps, bot.outbox, None)  # type: ignore[arg-type]


async def test_a_low_offer_alerts_the_admin_who_started_the_bot_once_a_day(bot: Harness):
    offer_id = await offer(bot, stock=2)
    bot.world.start_private(ADMIN)
    await bot.say(ADMIN, "/start", chat=ADMIN)
    jobs = jobs_of(bot)

    await jobs.alerts()  # 2 of 2 left: nothing to say
    await claim_on_post(bot, ALICE, offer_id)  # 1 of 2 left: at the threshold
    bot.clock.advance(120)
    before = len(bot.world.delivered(ADMIN))
    await jobs.alerts()
    bot.clock.advance(HOUR)
    await jobs.alerts()
    today = bot.world.delivered(ADMIN)[before:]
    bot.clock.advance(24 * HOUR)
    await jobs.alerts()
    next_day = bot.world.delivered(ADMIN)[before + len(today) :]

    [alert] = today
    assert alert.startswith("⚠️ <b>Low stock</b> in ")
    assert f"Offer #{offer_id} 满199减30: 1 of 2 coupons left." in alert
    assert f"<code>/coupon end {offer_id}</code>" in alert and "--stock N" in alert
    assert next_day == [alert]
    assert bot.world.delivered(OWNER) == []  # an admin who never started the bot


async def test_an_alert_no_admin_can_get_waits_for_one_who_starts_the_bot_that_day(
    bot: Harness,
):
    offer_id = await offer(bot, stock=1)
    await claim_on_post(bot, ALICE, offer_id)  # 0 of 1 left
    bot.clock.advance(120)
    jobs = jobs_of(bot)

    await jobs.alerts()  # no admin started the bot: the day's alert is not spent
    bot.world.start_private(ADMIN)
    await bot.say(ADMIN, "/start", chat=ADMIN)
    before = len(bot.world.delivered(ADMIN))
    bot.clock.advance(HOUR)
    await jobs.alerts()
    bot.clock.advance(HOUR)
    await jobs.alerts()  # sent once that day all the same

    [alert] = bot.world.delivered(ADMIN)[before:]
    assert alert.startswith("⚠️ <b>Low stock</b> in ")
    assert f"Offer #{offer_id} 满199减30: 0 of 1 coupons left." in alert


async def test_the_alert_is_in_the_groups_language(bot: Harness):
    offer_id = await offer(bot, stock=1)
    bot.world.start_private(ADMIN)
    await bot.say(ADMIN, "/start", chat=ADMIN)
    await bot.say(ADMIN, "/set language zh")
    await claim_on_post(bot, ALICE, offer_id)
    bot.clock.advance(120)
    before = len(bot.world.delivered(ADMIN))

    await jobs_of(bot).alerts()

    [alert] = bot.world.delivered(ADMIN)[before:]
    assert alert.startswith("⚠️ <b>库存预警</b>")
    assert f"优惠 #{offer_id} 满199减30：共 1 张券，仅剩 0 张。" in alert
    assert len([m for m in bot.world.delivered(GROUP) if "库存" in m]) == 0


def test_the_pace_and_leaves_alerts_say_what_how_much_and_what_to_do():
    import datetime as dt

    from campaigns.alerts import LeaveAlert, PaceAlert
    from campaigns.campaign import TargetLine
    from campaigns.services.alerts import DueAlert
    from campaigns.stats import Kpi
    from handlers.alert_texts import AlertTexts

    day = dt.date(2026, 11, 4)
    pace = PaceAlert(3, "双11", (TargetLine(Kpi.JOINS, 1000, 30, 300),), day)
    spike = LeaveAlert(7, 0.5, 5)

    en = AlertTexts("en").alert(DueAlert(GROUP, "Tea <club>", "en", day, pace))
    zh = AlertTexts("zh").alert(DueAlert(GROUP, "茶友群", "zh", day, spike))

    assert en.startswith("📉 <b>Campaign behind pace</b> in Tea &lt;club&gt;")
    assert "#3 双11, up to 11-04:" in en and "behind pace (300 by now)" in en
    assert "<code>/campaign report 3</code>" in en
    assert zh.startswith("🚪 <b>退群激增</b>（茶友群）")
    assert "今天有 7 位成员退群；过去 14 天日均 0.5 位。" in zh
