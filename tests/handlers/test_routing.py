"""The cheap dispatch (handlers/routing.py) decides exactly what PTB's compositions decided.

Generated updates of every kind the bot is sent (messages, edits, channel posts, taps),
from every kind of chat, with texts, captions, commands (addressed to this bot or another,
at the start or not) and service content: each fast filter accepts exactly the updates its
PTB composition accepts, the one command handler picks the callback the forty-odd
CommandHandlers would have, and the one tap handler the CallbackQueryHandler PTB would have.
"""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace
from typing import Any, cast

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from telegram import CallbackQuery, Chat, Message, MessageEntity, Update, User
from telegram.ext import CallbackQueryHandler, CommandHandler, filters

from handlers.callbacks import pattern
from handlers.checkin import CHECKIN_WORDS
from handlers.registry import BUTTONS, COMMAND_ROUTES
from handlers.routing import (
    GROUP_MESSAGES,
    GUARDED,
    HEARD,
    JOINS_OR_LEAVES,
    MIGRATIONS,
    PRIVATE_MESSAGES,
    Commands,
    Taps,
    said_in_groups,
    said_in_private,
)
from handlers.start import unknown_tap

BOT = SimpleNamespace(username="GrowthBot")  # all CommandHandler asks of the bot
GROUPS = filters.ChatType.GROUPS
MESSAGE = filters.UpdateType.MESSAGE
NOT_SERVICE = filters.TEXT | ~filters.StatusUpdate.ALL
PTB_GROUP_MESSAGES = GROUPS & MESSAGE & NOT_SERVICE

# (fast filter, the PTB composition it replaced)
PAIRS = {
    "group messages": (GROUP_MESSAGES, PTB_GROUP_MESSAGES),
    "guarded": (GUARDED, PTB_GROUP_MESSAGES | (GROUPS & filters.UpdateType.EDITED_MESSAGE)),
    "private messages": (PRIVATE_MESSAGES, filters.ChatType.PRIVATE & MESSAGE),
    "joins or leaves": (
        JOINS_OR_LEAVES,
        filters.StatusUpdate.NEW_CHAT_MEMBERS | filters.StatusUpdate.LEFT_CHAT_MEMBER,
    ),
    "migrations": (MIGRATIONS, filters.StatusUpdate.MIGRATE),
    "heard": (HEARD, GROUPS & MESSAGE & (filters.TEXT | filters.CAPTION) & ~filters.COMMAND),
    "签到 in groups": (
        said_in_groups(CHECKIN_WORDS),
        GROUPS & MESSAGE & filters.Regex(CHECKIN_WORDS),
    ),
    "签到 in private": (
        said_in_private(CHECKIN_WORDS),
        filters.ChatType.PRIVATE & MESSAGE & filters.Regex(CHECKIN_WORDS),
    ),
}

WORDS = [
    "hello", "签到", " check in！", "Check-in", "签到 please", "打卡。", "/checkin", "/CHECKIN",
    "/checkin@GrowthBot", "/checkin@growthbot now", "/checkin@OtherBot", "/me x y", "/start",
    "/help@GrowthBot", "/unknown", "/subscribe", "/Unsubscribe", "/", "/@GrowthBot", "",
    "see /checkin", "/coupon new 满100减10",
]  # fmt: skip
SERVICE: list[dict[str, Any]] = [
    {},
    {"new_chat_members": (User(7, "New", False),)},
    {"left_chat_member": User(8, "Gone", False)},
    {"migrate_to_chat_id": -1009},
    {"migrate_from_chat_id": -9},
    {"new_chat_title": "renamed"},
    {"group_chat_created": True},
    {"pinned_message": None},
]
KINDS = ["message", "edited_message", "channel_post", "edited_channel_post", "callback_query"]
CHAT_TYPES = [Chat.PRIVATE, Chat.GROUP, Chat.SUPERGROUP, Chat.CHANNEL]


@st.composite
def updates(draw: st.DrawFn) -> Update:
    kind = draw(st.sampled_from(KINDS))
    chat_type = draw(st.sampled_from(CHAT_TYPES))
    text = draw(st.sampled_from([*WORDS, None]))
    entities: tuple[MessageEntity, ...] = ()
    if text and text.startswith("/") and draw(st.booleans()):  # Telegram marks most commands
        length = len(text.split()[0])
        entities = (
            MessageEntity(MessageEntity.BOT_COMMAND, draw(st.sampled_from([0, 0, 1])), length),
        )
    elif text and draw(st.booleans()):
        entities = (MessageEntity(MessageEntity.BOLD, 0, len(text)),)
    caption = draw(st.sampled_from([None, "a photo", "/checkin"]))
    service: dict[str, Any] = dict(draw(st.sampled_from(SERVICE)))
    message = Message(
        message_id=draw(st.integers(1, 10**6)),
        date=dt.datetime(2026, 11, 1, tzinfo=dt.UTC),
        chat=Chat(-100123 if chat_type != Chat.PRIVATE else 5, chat_type),
        from_user=draw(st.sampled_from([User(5, "Ann", False), User(6, "Bot", True), None])),
        text=text or None,
        entities=entities,
        caption=caption if text is None else None,
        **service,
    )
    message.set_bot(BOT)  # type: ignore[arg-type]
    if kind == "callback_query":
        data = draw(
            st.one_of(
                st.sampled_from(["cpn:42", "gb:j:7", "sch:p:3", "bc:go:1", "cap:1:2", "x", ""]),
                st.text(max_size=20),
                st.none(),
            )
        )
        query = CallbackQuery("q", User(5, "Ann", False), "c", message=message, data=data)
        return Update(1, callback_query=query)
    content: dict[str, Any] = {kind: message}
    return Update(1, **content)


@settings(max_examples=600, suppress_health_check=[HealthCheck.too_slow])
@given(updates())
def test_each_fast_filter_accepts_what_its_ptb_composition_accepts(update: Update) -> None:
    for name, (fast, ptb) in PAIRS.items():
        assert bool(fast.check_update(update)) == bool(ptb.check_update(update)), name


def first_match(handlers: list[Any], update: Update) -> tuple[Any, Any] | None:
    """What PTB does within a group: the first handler whose check is neither None nor False."""
    for handler in handlers:
        check = handler.check_update(update)
        if not (check is None or check is False):
            return handler, check
    return None


@settings(max_examples=600, suppress_health_check=[HealthCheck.too_slow])
@given(updates())
def test_one_command_handler_routes_as_one_handler_per_command_did(update: Update) -> None:
    only = filters.UpdateType.MESSAGE
    each = [CommandHandler(name, callback, only) for name, callback in COMMAND_ROUTES.items()]
    router = Commands(COMMAND_ROUTES, only)
    before, now = first_match(each, update), router.check_update(update)
    now = cast(Any, now)
    if before is None:
        assert now is None or now is False
        return
    handler, (args, _filtered) = before
    assert now is not None and now is not False
    assert now[0] == args
    assert router.route(update) is handler.callback


@settings(max_examples=600, suppress_health_check=[HealthCheck.too_slow])
@given(updates())
def test_one_tap_handler_picks_the_callback_handler_ptb_would(update: Update) -> None:
    each = [CallbackQueryHandler(on_tap, pattern=pattern(kind)) for kind, on_tap in BUTTONS]
    each.append(CallbackQueryHandler(unknown_tap))
    before, now = first_match(each, update), Taps(each).check_update(update)
    if before is None:
        assert now is None
        return
    assert now is not None and now[0] is before[0]
    same = (
        getattr(now[1], "group", lambda: now[1])()
        == getattr(before[1], "group", lambda: before[1])()
    )
    assert same, "the same match handed to the handler"


def test_every_command_name_is_listed_for_the_private_fallback() -> None:
    """/help and the private fallback read `commands`: every routed name is there."""
    router = Commands(COMMAND_ROUTES, filters.UpdateType.MESSAGE)
    assert router.commands == frozenset(COMMAND_ROUTES)
    assert {"checkin", "start", "help", "subscribe", "unsubscribe", "modlog"} <= router.commands
