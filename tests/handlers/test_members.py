"""Member tracking: joins, leaves, messages, each counted once; who is and is not a member."""

import datetime as dt
from collections.abc import AsyncIterator

import pytest

from bot.app import stop_offline
from campaigns.services.profile import export_members
from tests.handlers.conftest import ALICE, BOB, CAROL, GROUP, MONDAY, OWNER, Harness, make_harness


async def members(bot: Harness) -> dict[int, object]:
    await bot.flush()
    rows = await export_members(bot.app.bot_data.deps.uow(), chat_id=GROUP, at=MONDAY)
    return {r.user_id: r for r in rows}


async def test_every_member_message_counts_once_and_a_command_is_activity_not_a_message(
    bot: Harness,
):
    await bot.say(BOB, "/me", at=MONDAY)  # Bob only ever asks the bot something
    await bot.say(ALICE, "hello")
    await bot.send(
        bot.world.message(
            GROUP,
            ALICE,
            None,
            at=MONDAY,
            sticker={
                "file_id": "s",
                "file_unique_id": "s",
                "type": "regular",
                "width": 1,
                "height": 1,
                "is_animated": False,
                "is_video": False,
            },
        )
    )
    await bot.say(ALICE, "/me")
    await bot.say(ALICE, "/ not a command: Telegram marks no bot_command here")

    seen = await members(bot)
    assert seen[ALICE].messages == 3  # hello, the sticker, the text that starts with a slash
    assert seen[BOB].messages == 0  # /me is no message to the group ...
    assert seen[BOB].last_active_at == MONDAY  # ... but Bob was active: he used the bot


async def test_edits_and_replayed_messages_are_not_new_messages(bot: Harness):
    update = bot.world.message(GROUP, BOB, "first", at=MONDAY)
    await bot.send(update)
    await bot.send(update)
    await bot.send(bot.world.edited(update, "first, edited"))

    assert (await members(bot))[BOB].messages == 1


async def test_a_member_first_seen_by_a_message_is_registered(bot: Harness):
    await bot.say(CAROL, "hi all", at=MONDAY)

    carol = (await members(bot))[CAROL]

    assert carol.status == "member"
    # She was there before the bot (or her join was missed): when she joined is unknown, and
    # she must never count as a new member. (Old behaviour: joined_at = her first message.)
    assert carol.joined_at is None
    assert carol.last_active_at == MONDAY


async def test_bots_channels_and_anonymous_admins_are_not_members(bot: Harness):
    bot.world.add_user(77, "Some Bot", is_bot=True)
    await bot.say(77, "beep")
    await bot.send(bot.world.anonymous_admin_message(GROUP, "announcement"))

    assert set(await members(bot)) == set()


async def test_a_join_seen_twice_is_counted_once(bot: Harness):
    at = MONDAY
    await bot.send(bot.world.member_update(GROUP, ALICE, "member", at=at))
    await bot.send(bot.world.join_message(GROUP, [ALICE], at=at))

    uow = bot.app.bot_data.deps.uow()
    async with uow:
        from sqlalchemy import func, select

        from storage.models import EventRow

        joins = await uow.session.scalar(
            select(func.count()).select_from(EventRow).where(EventRow.kind == "join")
        )
    assert joins == 1


async def test_leave_and_rejoin_update_status_and_times(bot: Harness):
    await bot.send(bot.world.member_update(GROUP, ALICE, "member", at=MONDAY))
    await bot.send(bot.world.member_update(GROUP, ALICE, "left", at=MONDAY + dt.timedelta(hours=1)))
    left = (await members(bot))[ALICE]
    await bot.send(
        bot.world.member_update(GROUP, ALICE, "member", at=MONDAY + dt.timedelta(hours=2))
    )
    back = (await members(bot))[ALICE]

    assert (left.status, left.left_at) == ("left", MONDAY + dt.timedelta(hours=1))
    assert (back.status, back.left_at) == ("member", None)
    # The first join stays: leaving and coming back never makes a member new again (before,
    # joined_at moved to the rejoin, and new-member coupons could be farmed that way).
    assert back.joined_at == MONDAY


async def test_a_service_message_with_several_joins_registers_each(bot: Harness):
    await bot.send(bot.world.join_message(GROUP, [ALICE, BOB, CAROL], at=MONDAY))

    assert {ALICE, BOB, CAROL} <= set(await members(bot))


async def test_removing_the_bot_deactivates_the_group_and_keeps_its_data(bot: Harness):
    await bot.say(ALICE, "/checkin")
    await bot.send(bot.world.member_update(GROUP, bot.world.bot["id"], "left", actor=OWNER))

    uow = bot.app.bot_data.deps.uow()
    async with uow:
        record = await uow.chats.get(GROUP)
    assert record is not None and record.active is False
    assert (await members(bot))[ALICE].points == 10


async def test_group_upgraded_to_supergroup_keeps_its_data(bot: Harness):
    old = -4000000001
    new = -1004000000001
    bot.world.add_group(old, "Small group", type="group", owner=OWNER)
    await bot.send(bot.world.add_bot(old, by=OWNER, at=MONDAY))
    await bot.say(ALICE, "/checkin", chat=old)

    await bot.send(bot.world.message(old, OWNER, None, at=MONDAY, migrate_to_chat_id=new))
    bot.world.add_group(new, "Small group", owner=OWNER)
    [reply] = await bot.say(ALICE, "/me", chat=new)

    assert "Points: 10" in reply


@pytest.fixture
async def untimed(database_url: str) -> AsyncIterator[Harness]:
    """The bot whose buffer is written only when a test flushes it (no tick during a test)."""
    harness, app = await make_harness(database_url, activity_flush_seconds=60)
    yield harness
    await stop_offline(app)


async def test_messages_still_buffered_when_a_group_is_upgraded_count_in_the_supergroup(
    untimed: Harness,
):
    bot = untimed
    old, new = -4000000001, -1004000000001
    bot.world.add_group(old, "Small group", type="group", owner=OWNER)
    await bot.send(bot.world.add_bot(old, by=OWNER, at=MONDAY))
    await bot.say(ALICE, "hello", chat=old, at=MONDAY)
    await bot.say(BOB, "hi", chat=old, at=MONDAY + dt.timedelta(minutes=5))
    waiting = len(bot.app.bot_data.deps.buffer)

    await bot.send(bot.world.message(old, OWNER, None, at=MONDAY, migrate_to_chat_id=new))
    bot.world.add_group(new, "Small group", owner=OWNER)
    await bot.send(bot.world.message(new, OWNER, None, at=MONDAY, migrate_from_chat_id=old))
    await bot.flush()

    uow = bot.app.bot_data.deps.uow
    rows = {r.user_id: r for r in await export_members(uow(), chat_id=new, at=MONDAY)}
    async with uow() as u:
        ghost = await u.chats.get(old)
    assert waiting == 2
    assert (rows[ALICE].messages, rows[ALICE].last_active_at) == (1, MONDAY)
    assert (rows[BOB].messages, rows[BOB].last_active_at) == (1, MONDAY + dt.timedelta(minutes=5))
    assert ghost is None  # the old id is not registered again as a group of its own


async def test_members_who_were_there_before_the_bot_are_neither_new_nor_missing(bot: Harness):
    from tests.handlers.test_broadcasts import members_who_started

    await members_who_started(bot, ALICE, BOB)  # they speak: first seen, already in the group
    later = MONDAY + dt.timedelta(days=2)
    await bot.send(bot.world.member_update(GROUP, CAROL, "member", at=later))  # a real join
    bot.world.start_private(CAROL)
    await bot.send(bot.world.message(CAROL, CAROL, "/start", at=later))
    await bot.flush()

    preview = await bot.say(OWNER, "/broadcast joined<7d\nWelcome!", at=later)
    [report] = await bot.say(OWNER, "/referral report 1", at=later + dt.timedelta(hours=1))

    assert (
        "to 1 member who started me" in preview[-1]
    )  # Carol only: Alice and Bob were there before the bot
    assert "the group had no members at the start" not in report


async def test_the_bot_says_its_chat_id_and_what_rights_it_lacks_and_warns_when_removed(
    bot: Harness,
):
    from bot.double.world import BOT_ID

    other = -1001500000009
    bot.world.add_group(other, "Second Club", owner=OWNER)
    bot.world.start_private(OWNER)
    added = await bot.send(bot.world.add_bot(other, by=OWNER, admin=False))
    bot.world.rights[(other, BOT_ID)] = {"can_pin_messages": False}
    promoted = await bot.send(bot.world.member_update(other, BOT_ID, "administrator", actor=OWNER))
    removed = await bot.send(bot.world.member_update(other, BOT_ID, "left", actor=OWNER))

    assert f"chat id is <code>{other}</code>" in added[0] and "make me an admin" in added[0]
    assert "let me pin messages" in promoted[0] and "invite users" not in promoted[0]
    assert "I was removed from <b>Second Club</b>" in removed[0]
    assert bot.world.sent(OWNER)[-1].text == removed[0]
