"""/link through the real handlers: an admin makes a named channel link with its cost; joins
through it are credited to nobody and counted per channel (confirmed after the hold, first
orders, GMV, ROI); a channel is re-costed, renamed and revoked in Telegram too; /stats,
/funnels and the 复盘 break down by channel; outsiders and bad input change nothing."""

from __future__ import annotations

import datetime as dt
import re

from bot.double.world import BOT_ID
from campaigns.orders import OrderIn
from campaigns.services.orders import record_order
from tests.handlers.conftest import ADMIN, ALICE, GROUP, MONDAY, Harness
from tests.handlers.test_referral import counts, friends
from tests.handlers.test_trust import OTHER, other_group

F1, F2 = 31, 32
HOUR, DAY = dt.timedelta(hours=1), dt.timedelta(days=1)


def url_in(text: str) -> str:
    return re.search(r"https://t\.me/\+\S+", text).group(0)  # type: ignore[union-attr]


def calls(bot: Harness, method: str) -> list[dict]:
    return [c.params for c in bot.world.calls if c.method == method and c.status == 200]


async def a_channel_that_sold(bot: Harness) -> str:
    """小红书 11月 (¥50) on Monday; Fay and Gus join through it an hour later, Fay speaks
    and orders ¥99 (Gus stays silent). Its URL."""
    friends(bot)
    [made] = await bot.say(ADMIN, "/link new 小红书 11月 cost=50", at=MONDAY)
    url = url_in(made)
    await bot.send(bot.world.join_via_link(GROUP, F1, url, at=MONDAY + HOUR))
    await bot.send(bot.world.join_via_link(GROUP, F2, url, at=MONDAY + HOUR))
    await bot.say(F1, "hello", at=MONDAY + 2 * HOUR)
    await bot.flush()
    await record_order(
        bot.app.bot_data.deps.uow(),
        OrderIn(external_id="o1", member=F1, amount="99", at=MONDAY + 3 * HOUR),
        chat_id=GROUP, source="test", received_at=MONDAY + 3 * HOUR,
    )  # fmt: skip
    bot.clock.advance(120)
    return url


async def test_an_admin_makes_a_channel_and_reads_its_joins_confirmed_orders_gmv_and_roi(
    bot: Harness,
):
    await a_channel_that_sold(bot)

    early, _in_group = await bot.say(ADMIN, "/link list", at=MONDAY + 4 * HOUR)
    later, _in_group = await bot.say(ADMIN, "/link list", at=MONDAY + 3 * DAY)

    create = calls(bot, "createChatInviteLink")[-1]
    assert create["name"] == "小红书 11月"
    # ROI = (99 − 50) / 50
    assert (
        "<b>小红书 11月</b> · 2 joined · 0 confirmed · 1 first order · GMV ¥99.00 · "
        "cost ¥50.00 · ROI 98%\nhttps://t.me/+" in early
    )
    assert "<b>小红书 11月</b> · 2 joined · 1 confirmed · 1 first order" in later  # Gus silent
    assert "counts once, in the channel they first joined through" in later
    assert await counts(bot, ADMIN) == (0, 0, 0, 0)  # nobody is credited a referral


async def test_a_channel_is_costed_renamed_and_revoked_in_telegram_too(bot: Harness):
    [made] = await bot.say(ADMIN, "/link new 抖音", at=MONDAY)
    [costed] = await bot.say(ADMIN, "/link cost 抖音 ¥1,200", at=MONDAY + HOUR)
    [renamed] = await bot.say(ADMIN, "/link rename 抖音 -> 抖音 双11", at=MONDAY + 2 * HOUR)
    [revoked] = await bot.say(ADMIN, "/link revoke 抖音 双11", at=MONDAY + 3 * HOUR)
    [again] = await bot.say(ADMIN, "/link revoke 抖音 双11", at=MONDAY + 4 * HOUR)
    listing, _in_group = await bot.say(ADMIN, "/link list", at=MONDAY + 5 * HOUR)
    bot.clock.advance(120)
    [uncosted] = await bot.say(ADMIN, "/link cost 抖音 双11 off", at=MONDAY + 6 * HOUR)

    url = url_in(made)
    assert (
        costed == "💰 Channel <b>抖音</b> cost ¥1,200.00. ROI = (GMV − cost) / cost, in /link list."
    )
    assert renamed == "✏️ Channel <b>抖音</b> is now <b>抖音 双11</b> (same link, same figures)."
    assert calls(bot, "editChatInviteLink") == [
        {"chat_id": GROUP, "invite_link": url, "name": "抖音 双11"}
    ]
    assert revoked.startswith("⛔ Channel <b>抖音 双11</b> revoked")
    assert calls(bot, "revokeChatInviteLink") == [{"chat_id": GROUP, "invite_link": url}]
    assert bot.world.links[url]["is_revoked"] is True
    assert "is revoked already" in again
    assert "<b>抖音 双11</b> · 0 joined · 0 confirmed · 0 first orders · GMV ¥0.00 · cost " \
           "¥1,200.00 · ROI -100%\nrevoked" in listing  # fmt: skip
    assert "has no cost recorded now" in uncosted


async def test_when_telegram_refuses_to_revoke_nothing_changes(bot: Harness):
    [made] = await bot.say(ADMIN, "/link new 海报", at=MONDAY)
    bot.world.set_status(GROUP, BOT_ID, "member")  # the bot lost its admin right

    [refused] = await bot.say(ADMIN, "/link revoke 海报", at=MONDAY + HOUR)
    listing, _in_group = await bot.say(ADMIN, "/link list", at=MONDAY + 2 * HOUR)

    assert "Telegram refused to change the link of <b>海报</b>" in refused
    assert "Nothing was changed" in refused
    assert url_in(made) in listing and "revoked" not in listing
    assert bot.world.links[url_in(made)]["is_revoked"] is False


async def test_outsiders_and_bad_input_change_nothing(bot: Harness):
    await other_group(bot)
    [theirs] = await bot.say(70, "/link new Theirs cost=10", at=MONDAY, chat=OTHER)
    [mine] = await bot.say(ADMIN, "/link new 抖音", at=MONDAY)
    [member] = await bot.say(ALICE, "/link revoke 抖音", at=MONDAY + HOUR)
    [foreign] = await bot.say(ADMIN, "/link revoke Theirs", at=MONDAY + HOUR)
    [foreign_cost] = await bot.say(ADMIN, "/link cost Theirs 1", at=MONDAY + HOUR)
    [foreign_rename] = await bot.say(ADMIN, "/link rename Theirs mine", at=MONDAY + HOUR)
    [bad_cost] = await bot.say(ADMIN, "/link cost 抖音 lots", at=MONDAY + HOUR)
    [no_amount] = await bot.say(ADMIN, "/link cost 抖音", at=MONDAY + HOUR)
    [vague] = await bot.say(ADMIN, "/link rename a b c", at=MONDAY + HOUR)
    [taken] = await bot.say(ADMIN, "/link rename 抖音 抖音", at=MONDAY + HOUR)
    bot.clock.advance(120)
    await bot.say(ADMIN, "/campaign new 双11 11-16 11-20", at=MONDAY + HOUR)
    [attach] = await bot.say(ADMIN, "/campaign attach 1 channel Theirs", at=MONDAY + HOUR)
    listing, _in_group = await bot.say(70, "/link list", at=MONDAY + 2 * HOUR, chat=OTHER)

    assert theirs.startswith("🔗 Channel <b>Theirs</b>") and "Cost: ¥10.00" in theirs
    assert mine.startswith("🔗 Channel <b>抖音</b>")
    assert "only group admins" in member
    for said in (foreign, foreign_cost, foreign_rename):
        assert said == "This group has no channel named <b>Theirs</b>: see /link list."
    assert "<code>lots</code> is not a cost" in bad_cost
    assert no_amount.startswith("<b>Channels (渠道)</b>") and "/link cost" in no_amount
    assert vague.startswith("<b>Channels (渠道)</b>")
    assert "already" in taken
    assert "no such object to attach: <code>Theirs</code>" in attach
    assert "<b>Theirs</b> · 0 joined" in listing and "cost ¥10.00" in listing
    assert calls(bot, "revokeChatInviteLink") == calls(bot, "editChatInviteLink") == []


async def test_an_admin_reads_link_in_chinese(bot: Harness):
    await bot.say(ADMIN, "/set language zh", at=MONDAY)
    await bot.say(ADMIN, "/link new 小红书 cost=100", at=MONDAY)

    listing, _in_group = await bot.say(ADMIN, "/link list", at=MONDAY + HOUR)
    [bad] = await bot.say(ADMIN, "/link cost 小红书 很多", at=MONDAY + HOUR)
    [unknown] = await bot.say(ADMIN, "/link revoke 微博", at=MONDAY + HOUR)

    assert (
        "<b>小红书</b> · 入群 0 · 确认 0 · 首单 0 · GMV ¥0.00 · 成本 ¥100.00 · ROI -100%" in listing
    )
    assert "<code>很多</code> 不是金额" in bad
    assert unknown == "本群没有名为 <b>微博</b> 的渠道：见 /link list。"


async def test_a_join_whose_link_comes_after_the_service_message_still_counts(bot: Harness):
    friends(bot)
    [made] = await bot.say(ADMIN, "/link new 海报", at=MONDAY)
    at = MONDAY + HOUR

    await bot.send(bot.world.join_message(GROUP, [F1], at=at))  # recorded as organic first
    await bot.send(bot.world.join_via_link(GROUP, F1, url_in(made), at=at))
    listing, _in_group = await bot.say(ADMIN, "/link list", at=MONDAY + 2 * HOUR)

    assert "<b>海报</b> · 1 joined" in listing
    assert await counts(bot, ADMIN) == (0, 0, 0, 0)


async def test_stats_and_funnels_break_down_by_channel(bot: Harness):
    await a_channel_that_sold(bot)
    bot.world.start_private(ADMIN)

    card, _ = await bot.say(ADMIN, "/stats 7d", at=MONDAY + 3 * DAY)
    bot.clock.advance(120)
    funnels, _ = await bot.say(ADMIN, "/funnels 7d", at=MONDAY + 3 * DAY)

    assert "🔗 <b>Channels (渠道)</b>: members who joined through them in these days" in card
    assert (
        "<b>小红书 11月</b>: 2 joined · 1 confirmed · 1 first order · GMV ¥99.00 · "
        "ROI to date 98% (GMV ¥99.00, cost ¥50.00)" in card
    )
    assert "<b>New members by channel (渠道)</b>" in funnels
    # Fay spoke and ordered but never checked in; Gus never spoke
    assert (
        "Channel: 小红书 11月: joined <b>2</b> → first message <b>1</b> (50%) → first "
        "check-in <b>0</b> (0%) → first order <b>0</b> (–)" in funnels
    )


async def test_the_retro_of_a_campaign_shows_its_channels_and_counts_their_cost_once(
    bot: Harness,
):
    await bot.say(ADMIN, "/campaign new 双11 11-16 11-20", at=MONDAY - HOUR)
    await bot.say(ADMIN, "/campaign new 双12 11-21 11-25", at=MONDAY - HOUR)
    await a_channel_that_sold(bot)
    bot.world.start_private(ADMIN)

    [attached] = await bot.say(ADMIN, "/campaign attach 1 channel 小红书 11月", at=MONDAY + HOUR)
    [twice] = await bot.say(ADMIN, "/campaign attach 2 channel 小红书 11月", at=MONDAY + HOUR)
    retro, _ = await bot.say(ADMIN, "/campaign report 1", at=MONDAY + 4 * HOUR)

    assert attached == "📎 Attached: channel 小红书 11月"
    assert "Channel <b>小红书 11月</b> is attached to campaign #1 already" in twice
    assert "💰 <b>Cost</b> ¥50.00 = coupon discounts ¥0.00 + 0 referral points × ¥0.01 + " \
           "channel placements ¥50.00" in retro  # fmt: skip
    assert "by members its channels brought ¥99.00" in retro
    assert "<b>ROI</b> 98%" in retro
    assert "🔗 <b>Channels</b> (members who joined through them in its days)" in retro
    assert (
        "<b>小红书 11月</b>: 2 joined · 0 confirmed · 1 first order · GMV ¥99.00 · "
        "cost ¥50.00 · ROI 98%" in retro
    )


async def test_redelivered_link_new_rename_and_revoke_are_each_answered_and_done_once(
    bot: Harness,
):
    async def twice(text: str) -> tuple[list[str], list[str]]:
        update = bot.world.message(GROUP, ADMIN, text, at=bot.clock.now())
        return await bot.send(update), await bot.send(update)  # Telegram redelivers it

    made, made_again = await twice("/link new dup")
    renamed, renamed_again = await twice("/link rename dup dup2")
    revoked, revoked_again = await twice("/link revoke dup2")

    assert len(made) == len(renamed) == len(revoked) == 1
    assert "already" not in made[0] + renamed[0] + revoked[0]
    assert made_again == renamed_again == revoked_again == []
    assert len(calls(bot, "createChatInviteLink")) == 1
    assert len(calls(bot, "editChatInviteLink")) == 1
    assert len(calls(bot, "revokeChatInviteLink")) == 1
