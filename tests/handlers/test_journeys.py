"""/journey and the win-back journey through the real handlers, jobs and outbox."""

from __future__ import annotations

import datetime as dt
import math
from statistics import NormalDist

from bot.jobs import Jobs
from campaigns.coupons import CouponKind, Template
from campaigns.orders import OrderIn
from campaigns.services.coupons import create_offer
from campaigns.services.invite_links import mark_reachable
from campaigns.services.orders import record_order
from campaigns.services.referral import sweep
from tests.handlers.conftest import ADMIN, ALICE, BOB, CAROL, GROUP, NOW, OWNER, Harness
from tests.unit.test_experiments import fisher_two_sided, wilson

DAY = dt.timedelta(days=1)
GIFT = Template(CouponKind.FIXED, value=1000, min_spend=0, valid_days=14)


async def offer(bot: Harness, name: str = "回归礼 ¥10") -> int:
    created = await create_offer(
        bot.app.bot_data.deps.uow(), chat_id=GROUP, name=name, template=GIFT, stock=None,
        per_member=5, at=NOW,
    )  # fmt: skip
    return created.id


def jobs_of(bot: Harness) -> Jobs:
    return Jobs(bot.app.bot, bot.app.bot_data.deps, bot.outbox, None)  # type: ignore[arg-type]


async def started(bot: Harness, *users: int) -> None:
    for user in users:
        bot.world.start_private(user)
        await bot.say(user, "/start", chat=user)


async def tick(bot: Harness, at: dt.datetime) -> None:
    """The hour's jobs at `at`: segments (stages), then journeys, then the outbox drains."""
    bot.clock.advance((at - bot.clock.now()).total_seconds())
    jobs = jobs_of(bot)
    await bot.flush()
    await jobs.segments()
    await jobs.journeys()
    await bot.drain()


async def test_only_admins_switch_journeys_and_bad_input_changes_nothing(bot: Harness):
    [refused] = await bot.say(ALICE, "/journey on winback", at=NOW)
    [unknown] = await bot.say(ADMIN, "/journey on dance", at=NOW)
    [key] = await bot.say(ADMIN, "/journey set winback colour red", at=NOW)
    [value] = await bot.say(ADMIN, "/journey set winback holdout 80", at=NOW)
    [offer_gone] = await bot.say(ADMIN, "/journey set winback offer 999", at=NOW)
    [day_first] = await bot.say(ADMIN, "/journey on member_day", at=NOW)
    [listing] = await bot.say(ADMIN, "/journey", at=NOW)

    assert "only group admins" in refused
    assert "There is no journey <code>dance</code>" in unknown
    assert "no setting <code>colour</code>" in key and "<code>holdout</code>" in key
    assert "not a valid value for <code>holdout</code>" in value
    assert "Coupon offer #999 is not a live offer of this group" in offer_gone
    assert "Set the member day first" in day_first
    assert "⚪️ <b>Win-back (沉睡唤醒)</b> <code>winback</code> · off" in listing
    assert "🟢" not in listing


async def test_a_member_who_goes_dormant_is_won_back_once_with_a_coupon(bot: Harness):
    await started(bot, ALICE, BOB)
    gift = await offer(bot)
    await bot.say(ADMIN, f"/journey set winback offer {gift}", at=NOW)
    [on] = await bot.say(ADMIN, "/journey on winback", at=NOW)
    await bot.say(ALICE, "hello", at=NOW)
    await bot.say(BOB, "hi", at=NOW + 20 * DAY)

    await tick(bot, NOW + 31 * DAY)  # Alice: 31 days idle, dormant; Bob: 11 days, silent
    await tick(bot, NOW + 31 * DAY + dt.timedelta(hours=1))  # the next run: nothing new

    assert on.startswith("🟢 <b>Win-back (沉睡唤醒)</b> is on.")
    [message] = [t for t in bot.world.shown(ALICE) if "miss you" in t]
    assert message.startswith("👋 <b>Alice Liu</b>, we miss you in <b>Sunny Tea Club</b>!")
    assert "🎁 You received a coupon in <b>Sunny Tea Club</b>: 回归礼 ¥10, code <code>" in message
    assert not [t for t in bot.world.shown(BOB) if "想你" in t or "miss you" in t]


async def test_the_win_back_speaks_the_members_language(bot: Harness):
    await started(bot, BOB)
    await bot.say(ADMIN, "/journey on winback", at=NOW)
    await bot.say(BOB, "你好", at=NOW)

    await tick(bot, NOW + 31 * DAY)

    [message] = [t for t in bot.world.shown(BOB) if "想你" in t]
    assert "<b>鲍勃</b>" in message and "<b>Sunny Tea Club</b>" in message


async def test_a_second_step_goes_only_to_those_who_did_not_come_back(bot: Harness):
    await started(bot, ALICE, BOB)
    first, second = await offer(bot), await offer(bot, "回归大礼 ¥30")
    for command in (
        f"/journey set winback offer {first}",
        "/journey set winback second 7",
        f"/journey set winback second_offer {second}",
        "/journey on winback",
    ):
        await bot.say(ADMIN, command, at=NOW)
    await bot.say(ALICE, "hello", at=NOW)
    await bot.say(BOB, "你好", at=NOW)
    await tick(bot, NOW + 31 * DAY)
    await bot.say(BOB, "我回来了", at=NOW + 33 * DAY)  # Bob came back

    await tick(bot, NOW + 39 * DAY)
    await tick(bot, NOW + 40 * DAY)

    alice = [t for t in bot.world.shown(ALICE) if "Sunny Tea Club" in t]
    bob = [t for t in bot.world.shown(BOB) if "Sunny Tea Club" in t]
    assert len(alice) == 2 and "回归大礼 ¥30" in alice[1] and "one more reason" in alice[1]
    assert len(bob) == 1


async def test_a_member_who_returns_and_drifts_off_again_is_won_back_again(bot: Harness):
    await started(bot, ALICE)
    await bot.say(ADMIN, "/journey on winback", at=NOW)
    await bot.say(ALICE, "hello", at=NOW)
    await tick(bot, NOW + 31 * DAY)
    await bot.say(ALICE, "back!", at=NOW + 32 * DAY)
    await tick(bot, NOW + 40 * DAY)  # active again: nothing
    await tick(bot, NOW + 64 * DAY)  # dormant again: a new spell

    assert len([t for t in bot.world.shown(ALICE) if "miss you" in t]) == 2


def two_sided_p(k1: int, n1: int, k2: int, n2: int) -> tuple[str, str]:
    """The p-value as the report shows it, computed by hand: Fisher's exact test when a cell
    of the 2×2 table expects under 5 members, else the pooled z-test."""
    if min(n1, n2) * min(k1 + k2, n1 + n2 - k1 - k2) / (n1 + n2) < 5:
        p, method = fisher_two_sided(k1, n1 - k1, k2, n2 - k2), "Fisher's exact test"
    else:
        pooled = (k1 + k2) / (n1 + n2)
        z = (k1 / n1 - k2 / n2) / math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
        p, method = 2 * (1 - NormalDist().cdf(abs(z))), "two-proportion z-test"
    return "p &lt; 0.001" if p < 0.001 else f"p = {p:#.2g}", method


async def test_members_held_out_are_recorded_not_messaged_and_the_report_compares(bot: Harness):
    world = bot.world
    members = list(range(700, 760))
    for user in members:
        world.add_user(user, f"M{user}", language_code="en")
        world.set_status(GROUP, user, "member")
    await bot.say(ADMIN, "/journey set winback holdout 50", at=NOW)
    await bot.say(ADMIN, "/journey on winback", at=NOW)
    for user in members:
        await bot.say(user, "hi", at=NOW)
    await bot.flush()
    for user in members:  # opened a private chat with the bot (60 /start replies would
        world.start_private(user)  # wait on the frozen clock's overall budget)
        await mark_reachable(bot.app.bot_data.deps.uow(), user, True)
    await tick(bot, NOW + 31 * DAY)
    bot.clock.advance(86400)  # the sender's 60 messages spent the second's budget
    [early] = await bot.say(ADMIN, "/journey report winback", at=NOW + 32 * DAY)
    messaged = [u for u in members if any("miss you" in t for t in world.shown(u))]
    for user in messaged[:10]:
        await bot.say(user, "I'm back", at=NOW + 33 * DAY)
    await bot.flush()
    bot.clock.advance(14 * 86400)

    [report] = await bot.say(ADMIN, "/journey report winback", at=NOW + 46 * DAY)
    await bot.say(OWNER, "/set language zh", at=NOW + 46 * DAY)
    [zh] = await bot.say(ADMIN, "/journey report winback", at=NOW + 46 * DAY)

    assert 15 <= len(messaged) <= 45  # a 50% holdout of 60, by the hash
    held = len(members) - len(messaged)
    assert "Returned within 7 days: – · holdout –" in early
    assert "⚠️ Too early to compare: an arm has nobody whose days are over." in early
    assert f"Entered the journey: {len(members)}" in report
    assert f"Messaged: {len(messaged)} (delivered {len(messaged)}) · held out: {held}" in report
    assert f"Returned within 7 days: 10/{len(messaged)}" in report
    assert f"holdout 0/{held} (0%)" in report
    low, high = wilson(10, len(messaged))
    assert f"95% CI {low * 100:.0f}–{high * 100:.0f}% · holdout 0–" in report
    p, method = two_sided_p(10, len(messaged), 0, held)
    assert f"Lift +{1000 / len(messaged):.1f} points, {p} ({method})" in report
    assert "✅ Enough members: a lift this size needs" in report  # a 30-point lift: a dozen
    assert f"Bought, of those whose 14 days are over: 0/{len(messaged)} (0%)" in report
    assert "No difference between the arms to detect." in report  # nobody bought
    assert "95% 置信区间" in zh and "个百分点" in zh and "人数已够" in zh


async def test_chinese_admins_read_the_listing_in_chinese(bot: Harness):
    await bot.say(OWNER, "/set language zh", at=NOW)
    [listing] = await bot.say(ADMIN, "/journey list", at=NOW)
    [on] = await bot.say(CAROL, "/journey on winback", at=NOW)

    assert listing.startswith("🤖 自动化旅程")
    assert "沉睡唤醒" in listing
    assert "只有群管理员" in on or "管理员" in on


async def order(bot: Harness, user: int, key: str, amount: int, at: dt.datetime) -> None:
    await bot.flush()  # the buyer's first words are stored: the order finds their row
    await record_order(
        bot.app.bot_data.deps.uow(),
        OrderIn(external_id=key, member=user, amount=amount, at=at),
        chat_id=GROUP,
        source="test",
        received_at=at,
    )


def said(bot: Harness, user: int, words: str) -> list[str]:
    return [t for t in bot.world.shown(user) if words in t]


async def test_a_first_order_brings_a_welcome_pack_once_and_a_second_order_none(bot: Harness):
    await started(bot, ALICE, BOB)
    pack = await offer(bot, "新人礼 ¥10")
    await bot.say(ADMIN, f"/journey set first_order offer {pack}", at=NOW)
    await bot.say(ADMIN, "/journey on first_order", at=NOW)
    await bot.say(ALICE, "hello", at=NOW)
    await bot.say(BOB, "hello", at=NOW)
    await order(bot, ALICE, "a1", 99, NOW + dt.timedelta(hours=1))

    await tick(bot, NOW + dt.timedelta(hours=2))
    await order(bot, ALICE, "a2", 59, NOW + dt.timedelta(hours=3))
    await tick(bot, NOW + dt.timedelta(hours=4))

    [pack_message] = said(bot, ALICE, "first order")
    assert "新人礼 ¥10" in pack_message and "code <code>" in pack_message
    assert not said(bot, BOB, "first order")


async def test_an_order_before_the_journey_was_switched_on_gets_no_pack(bot: Harness):
    await started(bot, ALICE)
    await bot.say(ALICE, "hello", at=NOW)
    await order(bot, ALICE, "a1", 99, NOW - dt.timedelta(hours=1))
    await bot.say(ADMIN, "/journey on first_order", at=NOW)

    await tick(bot, NOW + dt.timedelta(hours=1))

    assert not said(bot, ALICE, "first order")


async def test_a_repurchase_reminder_follows_the_last_order_only(bot: Harness):
    await started(bot, ALICE, BOB)
    await bot.say(ADMIN, "/journey set repurchase after 10", at=NOW)
    await bot.say(ADMIN, "/journey on repurchase", at=NOW)
    await bot.say(ALICE, "hi", at=NOW)
    await bot.say(BOB, "hi", at=NOW)
    await order(bot, ALICE, "a1", 99, NOW + DAY)
    await order(bot, BOB, "b1", 99, NOW + DAY)
    await order(bot, BOB, "b2", 99, NOW + 8 * DAY)  # Bob bought again: his reminder moves

    await tick(bot, NOW + 11 * DAY + dt.timedelta(hours=1))
    await tick(bot, NOW + 12 * DAY)

    assert len(said(bot, ALICE, "time for a refill")) == 1
    assert not said(bot, BOB, "补货")
    await tick(bot, NOW + 18 * DAY + dt.timedelta(hours=1))
    assert len(said(bot, BOB, "补货")) == 1


async def test_a_newcomer_who_never_checks_in_is_nudged_once(bot: Harness):
    world = bot.world
    world.add_user(41, "Nina", language_code="en")
    world.add_user(42, "Omar", language_code="en")
    await bot.say(ADMIN, "/journey on nudge", at=NOW)
    await bot.send(world.join_message(GROUP, [41, 42], at=NOW))
    await started(bot, 41, 42)
    await bot.say(42, "签到", at=NOW + DAY)

    await tick(bot, NOW + 3 * DAY + dt.timedelta(hours=1))
    await tick(bot, NOW + 4 * DAY)

    [nudge] = said(bot, 41, "welcome to")
    assert "Say 签到 (or /checkin) in the group" in nudge
    assert not said(bot, 42, "welcome to")


async def test_an_invited_friend_gets_a_welcome_coupon_once_confirmed(bot: Harness):
    from tests.handlers.test_referral import F1, friends, link_of

    friends(bot)
    gift = await offer(bot, "好友券 ¥10")
    await bot.say(ADMIN, f"/journey set referral offer {gift}", at=NOW)
    await bot.say(ADMIN, "/journey on referral", at=NOW)
    url = await link_of(bot)
    await bot.send(bot.world.join_via_link(GROUP, F1, url, at=NOW))
    await bot.say(F1, "hi everyone", at=NOW + dt.timedelta(minutes=5))
    await bot.flush()
    await started(bot, F1)
    await tick(bot, NOW + dt.timedelta(hours=2))  # pending: nothing yet
    assert not said(bot, F1, "friend's invitation")

    await sweep(bot.app.bot_data.deps.uow, now=NOW + dt.timedelta(hours=24, minutes=1))
    await tick(bot, NOW + dt.timedelta(hours=25))
    await tick(bot, NOW + dt.timedelta(hours=26))

    [welcome] = said(bot, F1, "friend's invitation")
    assert "好友券 ¥10" in welcome


async def test_an_admin_runs_journeys_from_a_private_chat_and_members_cannot(bot: Harness):
    from tests.handlers.conftest import tap

    await started(bot, ADMIN, ALICE)
    await bot.say(ADMIN, "/manage", at=NOW, chat=ADMIN)
    await tap(bot, ADMIN, ADMIN, f"mg:{GROUP}")

    [on] = await bot.say(ADMIN, "/journey on nudge", at=NOW, chat=ADMIN)
    [member] = await bot.say(ALICE, "/journey on winback", at=NOW, chat=ALICE)
    [listing] = await bot.say(ADMIN, "/journey", at=NOW)

    assert on.startswith("🟢 <b>New-member nudge (新人引导)</b> is on.")
    assert member.startswith("Which group? Send /manage")
    assert "🟢 <b>New-member nudge (新人引导)</b>" in listing
    assert "⚪️ <b>Win-back (沉睡唤醒)</b>" in listing


async def test_a_member_who_comes_back_is_not_missed_again_before_the_stages_catch_up(
    bot: Harness,
):
    await started(bot, ALICE)
    await bot.say(ADMIN, "/journey on winback", at=NOW)
    await bot.say(ALICE, "hello", at=NOW)
    await tick(bot, NOW + 31 * DAY)  # messaged; the stored stage says dormant for an hour
    back = NOW + 31 * DAY + dt.timedelta(minutes=10)
    await bot.say(ALICE, "I'm back!", at=back)
    await bot.flush()
    bot.clock.advance((back + dt.timedelta(minutes=5) - bot.clock.now()).total_seconds())
    await jobs_of(bot).journeys()  # before the hourly segments job
    await bot.drain()

    assert len(said(bot, ALICE, "miss you")) == 1


async def test_a_saved_audience_narrows_win_back_and_never_wakes_the_active(bot: Harness):
    await started(bot, ALICE, BOB)
    await bot.say(ALICE, "hello", at=NOW)
    await bot.say(BOB, "hi", at=NOW)
    await bot.say(ADMIN, "/audience save english lang=en", at=NOW)
    await bot.say(ADMIN, "/journey set winback audience english", at=NOW)
    [short] = await bot.say(ADMIN, "/journey set winback window 5", at=NOW)
    await bot.say(ADMIN, "/journey on winback", at=NOW)
    for day in range(1, 5):  # Alice chats every day; Bob stays away
        await bot.say(ALICE, f"day {day}", at=NOW + day * DAY)
        await tick(bot, NOW + day * DAY + dt.timedelta(hours=1))
    await tick(bot, NOW + 8 * DAY)

    assert not said(bot, ALICE, "miss you")
    assert not said(bot, BOB, "想你")  # idle long enough, but not in the audience
    assert "its window must be longer" in short


async def test_the_report_counts_a_return_on_the_day_of_the_message_and_only_delivered_ones(
    bot: Harness,
):
    await started(bot, ALICE, BOB)
    await bot.say(ADMIN, "/journey on winback", at=NOW)
    await bot.say(ALICE, "hello", at=NOW)
    await bot.say(BOB, "hello", at=NOW)
    bot.world.statuses[(BOB, BOB)] = "kicked"  # Bob blocked the bot
    await tick(bot, NOW + 31 * DAY)
    await bot.say(ALICE, "back the same day", at=NOW + 31 * DAY + dt.timedelta(hours=2))
    await bot.flush()
    bot.clock.advance(20 * 86400)

    [report] = await bot.say(ADMIN, "/journey report winback", at=NOW + 51 * DAY)

    assert "Messaged: 2 (delivered 1) · held out: 0" in report
    assert "Returned within 7 days: 1/2 (50%)" in report


async def test_without_a_coupon_the_messages_promise_none(bot: Harness):
    await started(bot, ALICE, BOB)
    await bot.say(ADMIN, "/journey set winback second 7", at=NOW)
    await bot.say(ADMIN, "/journey on winback", at=NOW)
    await bot.say(ADMIN, "/journey on first_order", at=NOW)
    await bot.say(ALICE, "hello", at=NOW)
    await bot.say(BOB, "你好", at=NOW)
    await order(bot, BOB, "b1", 99, NOW + dt.timedelta(hours=1))
    await tick(bot, NOW + dt.timedelta(hours=2))
    await tick(bot, NOW + 31 * DAY)
    await tick(bot, NOW + 39 * DAY)

    texts = said(bot, ALICE, "Sunny Tea Club") + said(bot, BOB, "Sunny Tea Club")
    assert len(texts) == 5  # two win-back steps each, and Bob's first-order thanks
    assert not [t for t in texts if "reason" in t or "礼包" in t or "coupon" in t or "优惠券" in t]
    assert said(bot, ALICE, "Drop by when you have a minute")
    assert said(bot, BOB, "感谢你在")


async def test_the_listing_warns_of_an_ended_offer_and_a_deleted_audience(bot: Harness):
    gift = await offer(bot)
    await bot.say(ADMIN, "/audience save quiet stage=dormant", at=NOW)
    await bot.say(ADMIN, f"/journey set winback offer {gift}", at=NOW)
    await bot.say(ADMIN, "/journey set winback audience quiet", at=NOW)
    await bot.say(ADMIN, f"/coupon end {gift}", at=NOW)
    await bot.say(ADMIN, "/audience delete quiet", at=NOW)

    [listing] = await bot.say(ADMIN, "/journey", at=NOW)

    assert f"⚠️ Coupon offer #{gift} is not a live offer of this group" in listing
    assert "⚠️ There is no saved audience <code>quiet</code>" in listing


async def test_odd_commands_get_the_help_they_need(bot: Harness):
    [which] = await bot.say(ADMIN, "/journey set winback", at=NOW)
    [report] = await bot.say(ADMIN, "/journey report", at=NOW)
    await bot.say(OWNER, "/set language zh", at=NOW)
    [zh] = await bot.say(ADMIN, "/journey set winback second 7", at=NOW)

    assert which.startswith("Which setting? Its settings: <code>offer</code>")
    assert report.startswith("Which journey?")
    assert "每次沉睡只发一次。若再过 7 天" in zh  # no stray space between Chinese sentences


async def test_a_member_who_unsubscribes_hears_no_more_until_they_subscribe(bot: Harness):
    await started(bot, ALICE, BOB)
    await bot.say(ADMIN, "/journey on winback", at=NOW)
    await bot.say(ALICE, "hello", at=NOW)
    await bot.say(BOB, "你好", at=NOW)
    [in_group] = await bot.say(ALICE, "/unsubscribe", at=NOW)
    [off] = await bot.say(ALICE, "/unsubscribe", at=NOW, chat=ALICE)
    [zh] = await bot.say(BOB, "/unsubscribe", at=NOW, chat=BOB)
    await tick(bot, NOW + 31 * DAY)
    [on] = await bot.say(ALICE, "/Subscribe", at=NOW + 31 * DAY, chat=ALICE)  # any case
    await bot.say(ALICE, "back", at=NOW + 32 * DAY)
    await tick(bot, NOW + 63 * DAY)  # Alice dormant again, subscribed

    assert "in a private chat" in in_group
    assert off.startswith("🔕 Done: no more automatic messages from any group")
    assert zh.startswith("🔕 已退订")
    assert on.startswith("🔔 You will get the groups' automatic messages again")
    [message] = said(bot, ALICE, "miss you")
    assert message.endswith("<i>Automatic message · /unsubscribe to stop these</i>")
    assert not said(bot, BOB, "想你")


async def test_an_admin_previews_a_journeys_message(bot: Harness):
    gift = await offer(bot)
    await bot.say(ADMIN, f"/journey set first_order offer {gift}", at=NOW)
    [preview] = await bot.say(ADMIN, "/journey preview first_order", at=NOW)
    await bot.say(OWNER, "/set language zh", at=NOW)
    [zh] = await bot.say(ADMIN, "/journey preview winback", at=NOW)

    assert preview.startswith("👀 Preview: what a member reads (here addressed to you)")
    assert (
        "🛍 Thank you for your first order in <b>Sunny Tea Club</b>, <b>Adam</b>! Here is" in preview
    )
    assert "回归礼 ¥10, code <code>SAMP-LE00-00</code>" in preview
    assert "<b>Adam</b>，<b>Sunny Tea Club</b> 想你啦" in zh
