"""Hostile probes of /segments, tags and audiences (a breaker's findings, kept as tests)."""

from __future__ import annotations

import datetime as dt

import pytest

from campaigns.orders import OrderIn
from campaigns.services.orders import record_order
from handlers.callbacks import SegmentButton, SegmentView
from tests.handlers.conftest import ADMIN, ALICE, BOB, CAROL, GROUP, NOW, OWNER, Harness, tap

DAY = dt.timedelta(days=1)


async def chatter(bot: Harness) -> None:
    await bot.say(CAROL, "hello", at=NOW - 40 * DAY)
    await bot.say(ALICE, "hello", at=NOW - 12 * DAY)
    await bot.say(BOB, "你好", at=NOW - DAY)
    await bot.say(ADMIN, "morning", at=NOW)


async def test_list_typed_in_group_leaks_names(bot: Harness):
    await chatter(bot)
    await bot.say(ADMIN, "/segments list dormant", at=NOW)  # the admin never started me
    bot.world.start_private(ADMIN)
    await bot.say(ADMIN, "/segments list dormant", at=NOW)

    in_group = bot.world.delivered(GROUP)
    assert not any("Carol" in t for t in in_group), in_group
    assert "Member lists go to a private chat only" in in_group[-2]
    assert "sent you the segments in a private chat" in in_group[-1]
    assert "Carol" in bot.world.delivered(ADMIN)[-1]


async def test_button_list_language_follows_group(bot: Harness):
    await chatter(bot)
    await bot.say(OWNER, "/set language zh", at=NOW)
    bot.world.start_private(ADMIN)
    await bot.say(ADMIN, "/segments", at=NOW)
    report = bot.world.shown(ADMIN)[-1]
    await tap(bot, ADMIN, ADMIN, SegmentButton(SegmentView.ACTIVE, 0, GROUP))
    listing = bot.world.shown(ADMIN)[-1]
    print(report, "\n----\n", listing)
    assert " in <b>" not in listing, listing


async def test_forged_view_on_remembered_message(bot: Harness):
    """A list message remembered for GROUP; tap sg with another view on it."""
    await chatter(bot)
    bot.world.start_private(ADMIN)
    await bot.say(ADMIN, "/segments", at=NOW)
    mid = max(k[1] for k in bot.world.messages if k[0] == ADMIN)
    a = await tap(bot, ADMIN, ADMIN, "sg:t-4:0:" + str(GROUP), message_id=mid)
    b = await tap(bot, ADMIN, ADMIN, "sg:s-left:0:" + str(GROUP), message_id=mid)
    c = await tap(bot, ADMIN, ADMIN, "sg:s-bogus:0:" + str(GROUP), message_id=mid)
    print(repr(a), repr(b), repr(c), bot.world.shown(ADMIN)[-2:])


@pytest.mark.parametrize(
    "cmd",
    [
        "/audience save x tier=level:abc",
        "/audience save x tier>=level:99999999999999999999",
        "/audience save x tier=level:-1",
        "/audience save x tier=level:１",
        "/broadcast tier=level:abc\nhello",
    ],
)
async def test_tier_level_injection(bot: Harness, cmd: str):
    await chatter(bot)
    out = await bot.say(ADMIN, cmd, at=NOW)
    print(cmd, "->", out)
    assert out and all("rror" not in t for t in out)


OTHER = -1001500000002


async def test_tags_reply_over_4096_with_many_order_tags(bot: Harness):
    await bot.say(ALICE, "hello", at=NOW - DAY)
    await bot.flush()
    items = [f"item{i:03d}-" + "x" * 20 for i in range(150)]
    await record_order(
        bot.app.bot_data.deps.uow(),
        OrderIn(external_id="o1", member=ALICE, amount=100, at=NOW - DAY, items=items),
        chat_id=GROUP,
        source="test",
        received_at=NOW,
    )
    out = await bot.say(OWNER, f"/tags {ALICE}", at=NOW)
    print("tags reply:", [len(t) for t in out], bot.world.problems())
    assert out, "no reply at all"


async def test_audience_list_over_4096(bot: Harness):
    await bot.say(ALICE, "hello", at=NOW - DAY)
    rule = " or ".join(f"tag=t{i:02d}" + "a" * 22 for i in range(15))
    assert len(rule) <= 500, len(rule)
    for n in range(10):
        out = await bot.say(OWNER, f"/audience save a{n} {rule}", at=NOW)
        assert out and "Saved" in out[0], out
    out = await bot.say(OWNER, "/audience list", at=NOW)
    print("list reply:", [len(t) for t in out], bot.world.problems())
    assert out, "no reply at all"


async def test_cross_group_tap_on_own_message(bot: Harness):
    await chatter(bot)
    bot.world.add_group(OTHER, "Other Club", owner=CAROL)
    await bot.send(bot.world.add_bot(OTHER, by=CAROL, at=NOW - 2 * DAY))
    await bot.say(CAROL, "hi", at=NOW - DAY, chat=OTHER)
    bot.world.start_private(ADMIN)
    await bot.say(ADMIN, "/segments", at=NOW)
    mid = max(k[1] for k in bot.world.messages if k[0] == ADMIN)
    a = await tap(bot, ADMIN, ADMIN, f"sg:s-active:0:{OTHER}", message_id=mid)
    b = await tap(bot, ADMIN, ADMIN, f"sgp:s-active:0:{OTHER}", message_id=mid)
    print(repr(a), repr(b))
    assert "doesn't belong" in a and "doesn't belong" in b
    # admin of A tries /tags of OTHER's owner by id
    [r] = await bot.say(ADMIN, f"/tags {CAROL}", at=NOW)
    print(r)


async def test_long_title_and_names(bot: Harness):
    title = "<&>" * 42 + "xx"
    bot.world.chats[GROUP]["title"] = title if hasattr(bot.world, "chats") else None
    for i in range(12):
        uid = 7000 + i
        bot.world.add_user(
            uid, "&<>" * 21 + "Z", last_name="&" * 60, username=f"u{i:02d}" + "x" * 29
        )
        bot.world.set_status(GROUP, uid, "member")
        await bot.say(uid, "hello", at=NOW - DAY)
    bot.world.start_private(ADMIN)
    await bot.say(ADMIN, "/segments", at=NOW)
    await tap(bot, ADMIN, ADMIN, SegmentButton(SegmentView.ACTIVE, 0, GROUP))
    listing = bot.world.shown(ADMIN)[-1]
    print(len(listing), bot.world.problems())


@pytest.mark.parametrize(
    "value", ["0", "1", "3650", "3651", "99999999999", "00007", "٣", "７", "-1", "1e3"]
)
async def test_threshold_edges(bot: Harness, value: str):
    await chatter(bot)
    out = await bot.say(ADMIN, f"/segments set new {value}", at=NOW)
    out2 = await bot.say(ADMIN, f"/segments set dormant {value}", at=NOW)
    out3 = await bot.say(ADMIN, f"/segments set window {value}", at=NOW)
    print(value, out, out2, out3)
    assert out and out2 and out3


async def started(bot: Harness, *users: int) -> None:
    for uid in users:
        await bot.say(uid, "hello", at=NOW - DAY)
        bot.world.start_private(uid)
        await bot.send(bot.world.message(uid, uid, "/start", at=NOW - DAY))
    await bot.flush()


async def test_grant_expired_offer_to_audience(bot: Harness):
    from campaigns.coupons import CouponKind, Template
    from campaigns.services.coupons import create_offer, my_coupons

    await started(bot, ALICE, BOB)
    await bot.say(OWNER, "/audience save everyone all", at=NOW)
    offer = await create_offer(
        bot.app.bot_data.deps.uow(),
        chat_id=GROUP,
        name="old",
        template=Template(CouponKind.FIXED, value=3000, valid_until=NOW - 2 * DAY),
        stock=5,
        per_member=1,
        at=NOW - 10 * DAY,
    )
    out = await bot.say(OWNER, f"/coupon grant {offer.id} @everyone", at=NOW)
    mine = await my_coupons(bot.app.bot_data.deps.uow(), user_id=ALICE, default_timezone="UTC")
    print(out, mine)
    assert "received a coupon" not in out[0], out


async def test_tag_by_reply_to_first_message_before_flush(bot: Harness):
    said = bot.world.message(GROUP, ALICE, "hi, I'm new here", at=NOW)
    await bot.send(said)
    out = await bot.send(
        bot.world.message(GROUP, OWNER, "/tag vip", at=NOW, reply_to_message=said["message"])
    )
    print(out)
    assert "Tagged" in out[0], out


async def test_tags_and_audiences_made_in_a_new_supergroup_survive_its_migration(bot: Harness):
    """The supergroup's first updates can be handled before the old group's migrate message
    (chats run side by side): what admins made there moves to the group, nothing is lost."""
    old, new = -4000000001, -1004000000001
    bot.world.add_group(old, "Small group", type="group", owner=OWNER)
    await bot.send(bot.world.add_bot(old, by=OWNER, at=NOW - 3 * DAY))
    bot.world.set_status(old, ALICE, "member")
    await bot.say(ALICE, "hello", chat=old, at=NOW - 2 * DAY)
    await bot.say(OWNER, f"/tag {ALICE} old-tag", chat=old, at=NOW - 2 * DAY)
    bot.world.add_group(new, "Small group", owner=OWNER)
    bot.world.set_status(new, ALICE, "member")
    await bot.say(ALICE, "hi in new", chat=new, at=NOW - DAY)
    await bot.flush()
    await bot.say(OWNER, f"/tag {ALICE} new-tag", chat=new, at=NOW - DAY)
    await bot.say(OWNER, "/audience save fresh tag=new-tag", chat=new, at=NOW - DAY)

    await bot.send(bot.world.message(old, OWNER, None, at=NOW, migrate_to_chat_id=new))
    await bot.send(bot.world.message(new, OWNER, None, at=NOW, migrate_from_chat_id=old))
    [tags] = await bot.say(OWNER, f"/tags {ALICE}", chat=new, at=NOW)
    [listed] = await bot.say(OWNER, "/audience list", chat=new, at=NOW)

    assert "new-tag" in tags and "old-tag" in tags
    assert "fresh" in listed
