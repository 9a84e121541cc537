"""Coupon-offer A/B tests through the real handlers: `/coupon new` with variants, members
getting their arm's terms by tap or by an audience grant, the holdout left out and counted,
`/coupon report <id>`, and hostile input answered in the reader's language."""

from __future__ import annotations

import datetime as dt
import re

from campaigns.coupon_variants import arm_of
from campaigns.experiments import HOLDOUT
from campaigns.services.coupons import my_coupons
from handlers.callbacks import ClaimButton
from tests.handlers.conftest import ADMIN, ALICE, GROUP, MONDAY, OWNER, Harness, tap
from tests.handlers.test_broadcast_variants import MEMBERS, fifteen_members, later

OTHER = -1001500000003
CODE = re.compile(r"[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{2}")
NEW = "/coupon new 周末券 stock=100 days=7\nA: 满100减10\nB: 85折"


async def coupons_of(bot: Harness, user: int) -> list:
    mine = await my_coupons(bot.app.bot_data.deps.uow(), user_id=user, default_timezone="UTC")
    return [m.coupon for m in mine]


async def order(bot: Harness, user: int, amount: int, at: dt.datetime, n: int) -> None:
    async with bot.app.bot_data.deps.uow() as uow:
        chat = await uow.chats.get(GROUP)
        assert chat is not None
        await uow.orders.add(
            chat.pk, external_id=f"shop-{n}", user_id=user, amount=amount, currency="CNY",
            at=at, coupon_codes=[], items=[], source="test",
        )  # fmt: skip
        await uow.commit()


async def test_members_claim_their_arms_terms_redeem_on_them_and_the_report_compares_arms(
    bot: Harness,
):
    await fifteen_members(bot)
    [created] = await bot.say(OWNER, NEW, at=await later(bot))
    [post] = await bot.say(OWNER, "/coupon post 1", at=await later(bot))
    arms = {uid: arm_of(1, uid, 2, 0, may_hold_out=False) for uid in MEMBERS}
    alerts = {uid: await tap(bot, GROUP, uid, ClaimButton(1)) for uid in MEMBERS}
    b_members = [uid for uid in MEMBERS if arms[uid] == "B"]
    redeemed = []
    for uid in b_members[:2]:  # two of B's members pay with their coupon
        code = CODE.search(alerts[uid])
        assert code is not None
        [said] = await bot.say(OWNER, f"/redeem {code.group(0)} 200", at=await later(bot))
        redeemed.append(said)
    bot.clock.advance(15 * 24 * 3600)
    report, _in_group = await bot.say(OWNER, "/coupon report 1", at=await later(bot))

    assert "🎟 Offer #1 <b>周末券</b> created." in created
    assert "<b>A</b>: ¥10.00 off on orders from ¥100.00" in created
    assert "<b>B</b>: 15% off, no minimum spend" in created
    assert "🧪 A/B test: A 50% · B 50%" in created and "/coupon report 1" in created
    assert "🎲 The terms vary from member to member" in post and "¥10.00 off" not in post
    for uid in MEMBERS:
        terms = {"A": "¥10.00 off on orders from ¥100.00", "B": "15% off"}[arms[uid]]
        assert "🎉 Claimed!" in alerts[uid] and terms in alerts[uid], alerts[uid]
    assert all("discount ¥30.00 · to pay <b>¥170.00</b>" in r for r in redeemed)
    n_a, n_b = len(MEMBERS) - len(b_members), len(b_members)
    assert "📊 Offer #1 <b>周末券</b>: A/B test" in report
    assert f"<b>A</b> · ¥10.00 off on orders from ¥100.00: {n_a} members" in report
    assert f"<b>B</b> · 15% off, no minimum spend: {n_b} members" in report
    assert f"Redeemed: 2/{n_b} (" in report and f"Ordered within 14 days: 2/{n_b}" in report
    assert "GMV within 14 days: ¥340.00" in report  # what the two paid
    assert "<b>B against A</b>" in report and "Lift " in report and "Read early" in report
    assert "held out" not in report.lower() and "⏳" not in report


async def test_an_audience_grant_holds_the_holdout_out_once_and_the_report_counts_it(
    bot: Harness,
):
    await fifteen_members(bot)
    await bot.say(OWNER, "/audience save everyone points>=0", at=await later(bot))
    [created] = await bot.say(
        OWNER, "/coupon new Tea holdout=30 plan=200\n¥5\n8折", at=await later(bot)
    )
    grant = bot.world.message(GROUP, OWNER, "/coupon grant 1 @everyone", at=await later(bot))
    [granted] = await bot.send(grant)
    again = await bot.send(grant)  # Telegram redelivers it
    arms = {uid: arm_of(1, uid, 2, 30, may_hold_out=True) for uid in MEMBERS}
    held = [uid for uid in MEMBERS if arms[uid] == HOLDOUT]
    got = {uid: await coupons_of(bot, uid) for uid in MEMBERS}
    start = bot.clock.now()
    for n, uid in enumerate(held[:1] + [u for u in MEMBERS if arms[u] == "A"][:2]):
        await order(bot, uid, 10000, start + dt.timedelta(days=2), n)
    bot.clock.advance(3 * 24 * 3600)  # the orders are in; nobody's 14 days are over
    report, _in_group = await bot.say(OWNER, "/coupon report 1", at=await later(bot))

    assert held and len(held) < len(MEMBERS)
    assert "🧪 A/B test: A 35% · B 35% · held out 30%" in created
    assert f"🎁 {len(MEMBERS) - len(held)} members of <code>everyone</code>" in granted
    assert f"🧪 {len(held)} held out by the offer's A/B test" in granted
    assert again == []  # the redelivery granted and said nothing
    for uid in MEMBERS:
        if arms[uid] == HOLDOUT:
            assert got[uid] == []
        else:
            [coupon] = got[uid]
            assert coupon.offer.arm == arms[uid]
            assert coupon.offer.template.kind == ("fixed" if arms[uid] == "A" else "percent")
    assert "Planned: 200 members per arm." in report
    assert f"<b>Held out</b> (no coupon): {len(held)} members" in report
    assert f"Ordered within 14 days: 1/{len(held)}" in report
    assert "<b>A against held out</b>, members of audience grants" in report
    assert "<b>B against A</b>" in report
    assert "⚠️ Read early: the test was planned for 200 members per arm." in report
    assert "⏳ Still counting" in report


async def test_bad_variants_are_explained_in_the_readers_language_and_create_nothing(
    bot: Harness,
):
    [unreadable] = await bot.say(OWNER, "/coupon new Sale\nA: 满100减10\nB: lots off")
    [label] = await bot.say(OWNER, "/coupon new Sale\n满100减10\nC: 85折")
    [five] = await bot.say(OWNER, "/coupon new Sale\n1%\n2%\n3%\n4%\n5%")
    [mixed] = await bot.say(OWNER, "/coupon new Sale\n¥5\n$5")
    [holdout] = await bot.say(OWNER, "/coupon new Sale holdout=60\n¥5")
    bot.clock.advance(120)
    [option] = await bot.say(OWNER, "/coupon new Sale colour=red\n¥5", at=await later(bot))
    [usage] = await bot.say(OWNER, "/coupon new Sale", at=await later(bot))
    [member] = await bot.say(ALICE, "/coupon new Sale\n¥5", at=await later(bot))
    [long] = await bot.say(OWNER, f"/coupon new {'券' * 65}\n¥5", at=await later(bot))
    listed, _in_group = await bot.say(OWNER, "/coupon list", at=await later(bot))
    await bot.say(OWNER, "/set language zh", at=await later(bot))
    [zh] = await bot.say(OWNER, "/coupon new 促销\n满100减10\n随便减", at=await later(bot))

    assert "❌ Variant B: I can't read <code>lots off</code> as a discount" in unreadable
    assert "满100减10, 无门槛5, 85折" in unreadable and "Nothing was created." in unreadable
    assert "❌ The line for variant B is labelled C" in label
    assert "❌ At most 4 variants (A–D): this offer has 5." in five
    assert "different currencies (CNY, USD)" in mixed
    assert "❌ The holdout is a percent from 0 to 50: <code>holdout=60</code>" in holdout
    assert "I don't understand <code>colour=red</code>" in option
    assert "Usage (admins): <code>/coupon new" in usage
    assert "only group admins" in member
    assert "❌ The offer's name is what members see: 1 to 64 characters." in long
    assert "No coupon offers yet" in listed
    assert "❌ 版本 B：无法把 <code>随便减</code> 识别为优惠" in zh and "未创建任何内容" in zh


async def test_reports_are_for_the_offers_own_group_and_a_redelivered_new_creates_once(
    bot: Harness,
):
    command = bot.world.message(GROUP, OWNER, NEW, at=MONDAY)
    await bot.send(command)
    repeated = await bot.send(command)  # redelivered: one offer
    await bot.say(OWNER, "/coupon new Plain\n¥5")
    bot.world.add_group(OTHER, "Other Club", owner=ADMIN)
    await bot.send(bot.world.add_bot(OTHER, by=ADMIN, at=MONDAY - dt.timedelta(days=1)))
    at = await later(bot)

    [other] = await bot.say(ADMIN, "/coupon report 1", chat=OTHER, at=at)
    [member] = await bot.say(ALICE, "/coupon report 1", at=at)
    [plain] = await bot.say(OWNER, "/coupon report 2", at=at)
    [bad] = await bot.say(OWNER, "/coupon report yesterday", at=at)
    listed, _in_group = await bot.say(OWNER, "/coupon list", at=await later(bot))
    empty, _in_group = await bot.say(OWNER, "/coupon report 1", at=await later(bot))
    await bot.say(OWNER, "/set language zh", at=await later(bot))
    zh, _in_group = await bot.say(OWNER, "/coupon report 1", at=await later(bot))

    assert repeated == []
    assert "There is no coupon offer #1 in this group." in other
    assert "only group admins" in member
    assert "Offer #2 has one set of terms and no holdout" in plain
    assert "/coupon report &lt;offer id&gt;" in bad
    assert "#1 周末券" in listed and "🧪 A/B" in listed and "#2 Plain" in listed
    assert "#3" not in listed
    assert "<b>A</b> · ¥10.00 off on orders from ¥100.00: 0 members" in empty
    assert "⚠️ Too early to compare: an arm has nobody yet." in empty
    assert "📊 优惠券活动 #1 <b>周末券</b>：A/B 测试" in zh and "<b>B 对比 A</b>" in zh
    assert "已核销：–" in zh and "14 天内下单" in zh
