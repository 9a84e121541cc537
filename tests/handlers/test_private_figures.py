"""Lists and reports of a group's business figures (/link list, /coupon list and report,
/broadcast report, /survey list) go to the admin privately when they started the bot, with a
line in the group saying so, like /stats; otherwise they are answered in the group."""

from __future__ import annotations

import pytest

from tests.handlers.conftest import ADMIN, GROUP, OWNER, Harness
from tests.handlers.test_surveys import say

LISTS = {
    "/link list": "invite link",
    "/coupon list": "offer",
    "/survey list": "survey",
}


@pytest.mark.parametrize("command", list(LISTS))
async def test_a_list_goes_privately_to_an_admin_who_started_me(bot: Harness, command: str):
    await say(bot, ADMIN, command)
    [in_group] = [m.text for m in bot.world.sent(GROUP) if m.status == 200][-1:]
    bot.world.start_private(ADMIN)
    private, note = await say(bot, ADMIN, command)

    assert in_group == private  # the same list: in the group until the admin started me
    assert bot.world.sent(ADMIN)[-1].text == private
    assert note == "📬 I sent it to you in a private chat."
    assert [m.text for m in bot.world.sent(GROUP)][-1] == note


async def test_the_group_line_is_in_the_groups_language(bot: Harness):
    await say(bot, OWNER, "/set language zh")
    bot.world.start_private(ADMIN)

    *_, note = await say(bot, ADMIN, "/survey list")

    assert note == "📬 已私信发给你。"
