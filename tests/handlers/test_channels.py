"""/link through the real handlers: an admin makes a named channel link; joins through it
are credited to nobody and counted per channel, confirmed after the hold, with first orders."""

from __future__ import annotations

import datetime as dt
import re

from campaigns.orders import OrderIn
from campaigns.services.orders import record_order
from tests.handlers.conftest import ADMIN, ALICE, GROUP, MONDAY, Harness
from tests.handlers.test_referral import counts, friends

F1, F2 = 31, 32
HOUR = dt.timedelta(hours=1)


async def test_an_admin_makes_a_channel_and_reads_its_joins_confirmed_and_first_orders(
    bot: Harness,
):
    friends(bot)
    [made] = await bot.say(ADMIN, "/link new 小红书 11月", at=MONDAY)
    url = re.search(r"https://t\.me/\+\S+", made).group(0)  # type: ignore[union-attr]
    await bot.send(bot.world.join_via_link(GROUP, F1, url, at=MONDAY + HOUR))
    await bot.send(bot.world.join_via_link(GROUP, F2, url, at=MONDAY + HOUR))
    await bot.say(F1, "hello", at=MONDAY + 2 * HOUR)
    await bot.flush()
    await record_order(
        bot.app.bot_data.deps.uow(),
        OrderIn(external_id="o1", member=F1, amount=9900, at=MONDAY + 3 * HOUR),
        chat_id=GROUP, source="test", received_at=MONDAY + 3 * HOUR,
    )  # fmt: skip
    bot.clock.advance(120)

    [early] = await bot.say(ADMIN, "/link list", at=MONDAY + 4 * HOUR)
    [later] = await bot.say(ADMIN, "/link list", at=MONDAY + 3 * dt.timedelta(days=1))

    assert made.startswith("🔗 Channel <b>小红书 11月</b>: https://t.me/+")
    create = [c for c in bot.world.calls if c.method == "createChatInviteLink"][-1]
    assert create.params["name"] == "小红书 11月"
    assert "<b>小红书 11月</b> · 2 joined · 0 confirmed · 1 first orders" in early
    assert "<b>小红书 11月</b> · 2 joined · 1 confirmed · 1 first orders" in later  # F2 never spoke
    assert await counts(bot, ADMIN) == (0, 0, 0, 0)  # nobody is credited a referral


async def test_members_are_refused_and_names_are_checked(bot: Harness):
    [member] = await bot.say(ALICE, "/link new mine", at=MONDAY)
    [long] = await bot.say(ADMIN, "/link new " + "x" * 33, at=MONDAY)
    [empty] = await bot.say(ADMIN, "/link new", at=MONDAY)
    [first] = await bot.say(ADMIN, "/link new 抖音", at=MONDAY)
    [twice] = await bot.say(ADMIN, "/link new 抖音", at=MONDAY)
    [none] = await bot.say(ADMIN, "/link frobnicate", at=MONDAY)

    assert "only group admins" in member
    assert "1 to 32 characters" in long and "1 to 32 characters" in empty
    assert first.startswith("🔗 Channel <b>抖音</b>")
    assert "already" in twice
    assert "<b>Channels (渠道)</b>" in none
    assert len([c for c in bot.world.calls if c.method == "createChatInviteLink"]) == 1
