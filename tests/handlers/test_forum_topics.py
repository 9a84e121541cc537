"""Forum groups: in a topic every message replies to the topic's first message (the service
message that opened it) unless the sender replied to another. A command typed in a topic
must not take whoever opened the topic as the member it acts on."""

from __future__ import annotations

from typing import Any

from tests.handlers.conftest import ALICE, BOB, GROUP, MONDAY, OWNER, Harness
from tests.handlers.test_coupons import offer


def opened_by(bot: Harness, creator: int) -> dict[str, Any]:
    """The service message Telegram posts when `creator` opens a topic."""
    bot.world.chats[GROUP]["is_forum"] = True
    return bot.world.message(
        GROUP, creator, None, at=MONDAY,
        forum_topic_created={"name": "Deals", "icon_color": 7322096},
    )["message"]  # fmt: skip


async def in_topic(
    bot: Harness, user: int, text: str, topic: dict[str, Any], to: dict[str, Any] | None = None
) -> list[str]:
    """`text` sent in the topic: replying to `to`, else (as Telegram marks it) to its start."""
    return await bot.send(
        bot.world.message(
            GROUP, user, text, at=MONDAY, message_thread_id=topic["message_id"],
            is_topic_message=True, reply_to_message=to or topic,
        )
    )  # fmt: skip


async def test_commands_typed_in_a_topic_act_on_nobody_but_the_member_replied_to(bot: Harness):
    await bot.say(ALICE, "hello", at=MONDAY)
    await bot.say(BOB, "hi", at=MONDAY)
    await bot.flush()
    offer_id = await offer(bot)
    topic = opened_by(bot, ALICE)

    typed = {
        command: await in_topic(bot, OWNER, command, topic)
        for command in (f"/coupon grant {offer_id}", "/tag vip", "/tier set VIP", "/warn spam",
                        "/birthday clear", "/invite revoke")
    }  # fmt: skip
    bobs = bot.world.message(GROUP, BOB, "me please", at=MONDAY, message_thread_id=1)["message"]
    tagged = await in_topic(bot, OWNER, "/tag vip", topic, to=bobs)
    [alices] = await bot.say(OWNER, f"/tags {ALICE}")
    [bobs_tags] = await bot.say(OWNER, f"/tags {BOB}")

    for command, replies in typed.items():
        assert replies, command  # told how to use it
        assert not any("Alice" in reply for reply in replies), (command, replies)
    assert not [c for c in bot.world.sent(ALICE) if c.method == "sendMessage"]  # no coupon
    assert "vip" not in alices and "vip" in bobs_tags
    assert ["鲍勃" in reply for reply in tagged] == [True]  # a reply in a topic still counts


async def test_a_reply_to_a_join_or_a_pin_acts_on_nobody(bot: Harness):
    """ "Alice added Carol" is Alice's message to Telegram: `/tag vip` and `/warn` in reply to
    it tagged and warned Alice (`/raid approve` takes the members added, as before)."""
    from tests.handlers.conftest import CAROL

    await bot.say(ALICE, "hello", at=MONDAY)
    await bot.say(BOB, "deal", at=MONDAY)
    await bot.flush()
    added = bot.world.message(
        GROUP, ALICE, None, at=MONDAY, new_chat_members=[bot.world.users[CAROL]]
    )["message"]
    bobs = bot.world.message(GROUP, BOB, "great deal", at=MONDAY)["message"]
    pinned = bot.world.message(GROUP, ALICE, None, at=MONDAY, pinned_message=bobs)["message"]

    replies = [
        await bot.send(bot.world.message(GROUP, OWNER, command, at=MONDAY, reply_to_message=to))
        for to in (added, pinned)
        for command in ("/tag vip", "/warn spam")
    ]
    [alices] = await bot.say(OWNER, f"/tags {ALICE}")

    assert all(answer and "Alice" not in answer[0] for answer in replies), replies
    assert "vip" not in alices
