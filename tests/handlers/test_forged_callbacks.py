"""Every button the bot emits, forged: strangers, other groups, non-admins, wrong messages.

Telegram clients can send any callback_data from any message that has buttons. Each row of
the table is one callback_data prefix the bot registers a handler for (read from the
Application, so a new prefix without a row fails `test_every_registered_prefix_has_a_row`);
each forgery must be refused with a short answer and must change nothing in the database
and no message in any chat.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine
from telegram.ext import CallbackQueryHandler

from bot.app import stop_offline
from campaigns.coupons import CouponKind, Template
from campaigns.groupbuys import Deal
from campaigns.services.coupons import create_offer
from campaigns.services.groupbuys import create_deal
from storage.engine import create_engine
from storage.models import Base
from tests.handlers.conftest import ALICE, BOB, GROUP, MONDAY, OWNER, Harness, make_harness

OTHER = -1001500000002  # another group the bot is in, with its own owner and member
OTHER_OWNER, OTHER_MEMBER, STRANGER, FORMER = 60, 61, 62, 63
NEWCOMER = 64  # joins with the captcha on: the owner of the cap: button
READS = {"getChatMember", "getChatAdministrators"}  # asking Telegram changes nothing
REFUSALS = (
    "for members of the group",  # not a present member of the object's group
    "Only the group's admins",  # not an admin of the object's group
    "doesn't belong here",  # not the message the bot sent for the object
    "not in any group",  # the private chooser: a group the tapper is not in
    "You are not in this team",  # Leave by someone who is not in it
    "只有本群管理员",  # "Only the group's admins", to a zh tapper in a private chat
    "这个按钮不属于这条消息",  # "doesn't belong here": a survey answers in the tapper's language
    "for another newcomer",  # a join captcha's option tapped by anyone but its newcomer
    "另一位新成员",  # the same, to a zh tapper
)


@dataclass
class World:
    """The objects whose buttons are forged, and where their real messages are."""

    bot: Harness
    data: dict[str, str]  # row -> callback_data for GROUP's object
    real: dict[str, tuple[int, int]]  # row -> (chat, message) the bot sent it on
    other_message: int  # a bot message with buttons in OTHER
    wrong_message: int  # a bot message with other buttons in GROUP


def prefixes_registered(bot: Harness) -> set[str]:
    """`cpn:`, `gb:s:` …: the literal start of every callback pattern, alternatives expanded."""
    found: set[str] = set()
    for handlers in bot.app.handlers.values():
        for handler in (h for one in handlers for h in getattr(one, "handlers", [one])):
            if not isinstance(handler, CallbackQueryHandler):
                continue
            pattern = handler.pattern
            if pattern is None:  # the catch-all after every pattern: refuses what none knows
                assert handler.callback.__name__ == "unknown_tap"
                continue
            assert isinstance(pattern, re.Pattern), "every callback handler has a pattern"
            literal, _, rest = pattern.pattern.removeprefix("^").partition("(")
            verbs = re.match(r"([\w|]+)\):", rest)
            if verbs and not verbs.group(1).startswith("\\"):
                found |= {f"{literal}{verb}:" for verb in verbs.group(1).split("|")}
            else:
                found.add(literal)
    return found


ROWS = {
    "cpn:": "member",
    "gb:s:": "member",
    "gb:a:": "member",
    "gb:j:": "member",
    "gb:l:": "member",
    "sch:ok:": "admin",
    "sch:no:": "admin",
    "bc:go:": "admin",
    "bc:no:": "admin",
    "bc:p:": "admin",
    "bc:r:": "admin",
    "bc:c:": "admin",
    "ref:invite:": "own",
    "ref:invites:": "own",
    "mg:": "own",
    "sg:": "admin",
    "sgp:": "admin",
    "shop:": "member",
    "sv:": "member",
    "ml:": "admin",
    "cap:": "member",  # a newcomer's own: every tapper below is someone else
}
CHOOSER_OF = {"ref:invite:": ALICE, "ref:invites:": ALICE, "mg:": OWNER}  # whose chooser
SENT_TO = {"sg:": OWNER, "sgp:": OWNER, "ml:": OWNER}  # admin buttons the bot sent privately
# A group the chooser's user may not pick: none Alice is in; one the owner does not admin.
NOT_THEIRS = {"ref:invite:": OTHER - 1, "ref:invites:": OTHER - 1, "mg:": OTHER}


def shown_id(bot: Harness, chat: int, prefix: str) -> str:
    """The object id on the newest button starting with `prefix` that the bot sent."""
    for call in reversed(bot.world.sent(chat)):
        for row in call.params.get("reply_markup", {}).get("inline_keyboard", []):
            for button in row:
                if button.get("callback_data", "").startswith(prefix):
                    return str(button["callback_data"]).removeprefix(prefix)
    raise AssertionError(f"no {prefix} button in {chat}")


@pytest.fixture
async def world(database_url: str) -> AsyncIterator[World]:
    bot, app = await make_harness(database_url, bot_owner_ids="999")
    w = bot.world
    w.add_user(OTHER_OWNER, "Otto", language_code="en")
    w.add_user(OTHER_MEMBER, "Mia", language_code="en")
    w.add_user(STRANGER, "Stan", language_code="en")
    w.add_user(FORMER, "Fred", language_code="en")
    w.add_group(OTHER, "Other Club", owner=OTHER_OWNER)
    w.set_status(OTHER, OTHER_MEMBER, "member")
    w.set_status(OTHER, ALICE, "member")
    w.set_status(GROUP, FORMER, "left")
    await bot.send(w.add_bot(OTHER, by=OTHER_OWNER, at=MONDAY - dt.timedelta(days=1)))
    for uid, chat in ((ALICE, GROUP), (ALICE, OTHER), (BOB, GROUP), (OTHER_MEMBER, OTHER)):
        await bot.say(uid, "hello", chat=chat)
    w.start_private(ALICE)
    w.start_private(BOB)
    await bot.send(w.message(BOB, BOB, "/start"))
    await bot.flush()

    deps, now = app.bot_data.deps, bot.clock.now()
    manjian = Template(CouponKind.FIXED, value=3000, min_spend=19900, valid_days=7)
    offers = [
        await create_offer(
            deps.uow(), chat_id=chat, name="满199减30", template=manjian, stock=None,
            per_member=1, at=now,
        )
        for chat in (GROUP, OTHER)
    ]  # fmt: skip
    deal = await create_deal(
        deps.uow(),
        chat_id=GROUP,
        deal=Deal("Milk tea", 3000, 1990, 3, 60, now + dt.timedelta(days=1)),
        description=None,
        at=now,
    )
    await bot.say(OWNER, f"/coupon post {offers[0].id}")
    await bot.say(OTHER_OWNER, f"/coupon post {offers[1].id}", chat=OTHER)
    await bot.say(OWNER, f"/groupbuy post {deal.id}")
    await bot.send(w.callback(GROUP, ALICE, f"gb:s:{deal.id}"))
    team_id = shown_id(bot, GROUP, "gb:j:")
    await bot.say(OWNER, "/schedule daily 09:00\nGood morning")  # the owner never started me:
    await bot.say(OWNER, "/broadcast\nFlash sale")  # both previews are asked in the group
    post_id = shown_id(bot, GROUP, "sch:ok:")
    broadcast_id = shown_id(bot, GROUP, "bc:go:")
    await bot.send(w.message(ALICE, ALICE, "/invite"))  # two groups: a chooser each
    await bot.send(w.message(ALICE, ALICE, "/invites"))
    w.start_private(OWNER)
    await bot.send(w.message(OWNER, OWNER, "/manage"))  # the owner's group chooser
    for uid in range(70, 81):  # eleven active members: a list of more than one page
        w.add_user(uid, f"Active {uid}", language_code="en")
        w.set_status(GROUP, uid, "member")
        await bot.say(uid, "hi", at=bot.clock.now())
    await bot.say(OWNER, "/segments", at=bot.clock.now())  # the report: to the owner privately
    await bot.send(w.callback(OWNER, OWNER, f"sg:s-active:0:{GROUP}"))  # its list, page 1
    await bot.say(OWNER, "/shop add item Tea mug 1", at=bot.clock.now())
    await bot.say(ALICE, "/shop", at=bot.clock.now())  # the list with its Redeem button
    shop_item = shown_id(bot, GROUP, "shop:")
    bot.clock.advance(120)  # the group's reply budget
    await bot.say(OWNER, "/survey csat How was it?", at=bot.clock.now())  # its rating buttons
    rating = shown_id(bot, GROUP, "sv:")  # `<survey>:1`
    rude = w.message(GROUP, ALICE, "rude words", at=bot.clock.now())
    await bot.send(rude)
    await bot.send(
        w.message(GROUP, OWNER, "/warn", at=bot.clock.now(), reply_to_message=rude["message"])
    )
    await bot.say(OWNER, "/modlog", at=bot.clock.now())  # to the owner privately, with ↩️
    undo = shown_id(bot, OWNER, "ml:")
    bot.clock.advance(120)  # the group's reply budget
    await bot.say(OWNER, "/set captcha on", at=bot.clock.now())
    w.add_user(NEWCOMER, "Nell", language_code="en")
    await bot.send(w.join_message(GROUP, [NEWCOMER], at=bot.clock.now()))
    captcha = shown_id(bot, GROUP, "cap:")  # `<captcha>:0`

    data = {
        "cpn:": f"cpn:{offers[0].id}",
        "gb:s:": f"gb:s:{deal.id}",
        "gb:a:": f"gb:a:{deal.id}",
        "gb:j:": f"gb:j:{team_id}",
        "gb:l:": f"gb:l:{team_id}",
        "sch:ok:": f"sch:ok:{post_id}",
        "sch:no:": f"sch:no:{post_id}",
        **{f"bc:{v}:": f"bc:{v}:{broadcast_id}" for v in ("go", "no", "p", "r", "c")},
        "ref:invite:": f"ref:invite:{GROUP}",
        "ref:invites:": f"ref:invites:{GROUP}",
        "mg:": f"mg:{GROUP}",
        "sg:": f"sg:s-active:0:{GROUP}",
        "sgp:": f"sgp:s-active:1:{GROUP}",
        "shop:": f"shop:{shop_item}",
        "sv:": f"sv:{rating}",
        "ml:": f"ml:{undo}",
        "cap:": f"cap:{captcha}",
    }
    real: dict[str, tuple[int, int]] = {}
    for row, value in data.items():
        shown = value if not value.startswith("bc:") else f"bc:go:{broadcast_id}"
        chat = CHOOSER_OF.get(row) or SENT_TO.get(row, GROUP)
        message = w.button_message(chat, shown)
        assert message is not None, f"the bot never showed {shown}"
        real[row] = (chat, message["message_id"])
    other = w.button_message(OTHER, f"cpn:{offers[1].id}")
    wrong = w.button_message(GROUP, f"cpn:{offers[0].id}")
    assert other is not None and wrong is not None
    await bot.flush()  # the commands above were chatter too: stored before the snapshots
    yield World(bot, data, real, other["message_id"], wrong["message_id"])
    await stop_offline(app)


def forgeries(w: World, row: str) -> dict[str, tuple[int, int, int | None]]:
    """Scenario -> (tapper, chat the tap comes from, message id; None: a fresh message)."""
    chat, message = w.real[row]
    wrong = w.wrong_message if row != "cpn:" else w.real["gb:s:"][1]
    if ROWS[row] == "own":  # a chooser lives in its user's private chat: only they can tap it
        owner = CHOOSER_OF[row]
        return {
            "stranger in a private chat": (STRANGER, STRANGER, None),
            "member of another group, in that group": (OTHER_MEMBER, OTHER, w.other_message),
            "on the wrong message": (owner, owner, None),
            "a group the tapper may not pick, on their chooser": (owner, chat, message),
        }
    scenarios = {
        "stranger in a private chat": (STRANGER, STRANGER, None),
        "member of another group, in that group": (OTHER_MEMBER, OTHER, w.other_message),
        "admin of another group, on the real message": (OTHER_OWNER, chat, message),
        "on the wrong message": (OWNER if ROWS[row] == "admin" else BOB, GROUP, wrong),
    }
    if ROWS[row] == "admin":
        scenarios["non-admin on the real message"] = (BOB, chat, message)
    else:
        scenarios["former member on the real message"] = (FORMER, chat, message)
    return scenarios


async def snapshot(engine: AsyncEngine) -> dict[str, list[Any]]:
    async with engine.connect() as conn:
        return {
            t.name: sorted(map(repr, (await conn.execute(select(t))).all()))
            for t in Base.metadata.sorted_tables
        }


def test_every_registered_prefix_has_a_row(world: World):
    assert prefixes_registered(world.bot) == set(ROWS)


async def test_every_forged_button_is_refused_and_changes_nothing(world: World, database_url: str):
    w, failures = world.bot.world, []
    engine = create_engine(database_url)  # one reader for every snapshot
    after = await snapshot(engine)
    for row, value in world.data.items():
        for scenario, (user, chat, message_id) in forgeries(world, row).items():
            if scenario.startswith("a group the tapper"):
                value = f"{row}{NOT_THEIRS[row]}"
            before, calls = after, len(w.calls)  # the tables as the last tap left them
            fresh = message_id is None
            await world.bot.send(w.callback(chat, user, value, message_id=message_id, fresh=fresh))
            made = w.calls[calls:]
            said = [str(c.params.get("text", "")) for c in made]
            changes = [
                c.method
                for c in made
                if c.method not in {"answerCallbackQuery", "sendMessage", *READS}
                or (c.method == "sendMessage" and int(c.params["chat_id"]) != chat)
            ]
            refused = any(any(r in text for r in REFUSALS) for text in said)
            after = await snapshot(engine)
            changed = [t for t in after if after[t] != before[t]]
            if not refused or changes or changed:
                failures.append((row, scenario, said, changes, changed))
    await engine.dispose()
    assert failures == []
