"""Primitives pulled out of Telegram objects, so the rules never see telegram types."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from typing import Any

from telegram import Chat, Message, MessageEntity, Update, User
from telegram.ext import filters

from campaigns.access import Tap
from campaigns.members import COMMAND, ChatInfo, Person, is_member_sender
from campaigns.settings import language_for
from handlers.deps import Context, deps, utc_now

MEDIA = ("photo", "video", "animation", "sticker", "voice", "video_note", "audio", "document",
         "poll", "location", "contact", "dice")  # fmt: skip

# Telegram's update types the bot asks for, in the order PTB checks them.
UPDATE_KINDS = ("message", "edited_message", "callback_query", "chat_member", "my_chat_member",
                "chat_join_request")  # fmt: skip


def update_kind(update: object) -> str:
    """The update's type (a bounded metric label): one of UPDATE_KINDS, else "other"."""
    if isinstance(update, Update):
        for kind in UPDATE_KINDS:
            if getattr(update, kind) is not None:
                return kind
    return "other"


def log_fields(update: object) -> dict[str, Any]:
    """update_id, update_type, chat_id and user_id for a structured log line; {} for
    anything but an Update (a job's error has none)."""
    if not isinstance(update, Update):
        return {}
    chat, user = update.effective_chat, update.effective_user
    fields: dict[str, Any] = {"update_id": update.update_id, "update_type": update_kind(update)}
    if chat is not None:
        fields["chat_id"] = chat.id
    if user is not None:
        fields["user_id"] = user.id
    return fields


# Control characters (NUL above all: PostgreSQL text cannot hold it) and UTF-16 halves
# that are not a pair (UTF-8 cannot encode them) can arrive in a forged update's names.
_UNSTORABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")


def storable(text: str) -> str:
    """A name or title as it can be stored and shown: what no database or message could
    carry is replaced by U+FFFD."""
    return _UNSTORABLE.sub("\ufffd", text)


def _maybe(text: str | None) -> str | None:
    return None if text is None else storable(text)


def person(user: User) -> Person:
    return Person(
        user_id=user.id,
        first_name=storable(user.first_name),
        last_name=_maybe(user.last_name),
        username=_maybe(user.username),
        language_code=_maybe(user.language_code),
    )


def chat_info(chat: Chat) -> ChatInfo:
    return ChatInfo(
        chat_id=chat.id, type=chat.type, title=_maybe(chat.title), username=_maybe(chat.username)
    )


def is_group(chat: Chat | None) -> bool:
    return chat is not None and chat.type in {Chat.GROUP, Chat.SUPERGROUP}


def member_sender(message: Message) -> bool:
    """A person wrote this (not a bot, the anonymous admin, a channel or Telegram)."""
    user = message.from_user
    return is_member_sender(
        user_id=user.id if user else None,
        is_bot=bool(user and user.is_bot),
        sender_chat_id=message.sender_chat.id if message.sender_chat else None,
        chat_id=message.chat.id,
    )


def replied_to(message: Message | None) -> Message | None:
    """The message a command replies to. Not the start of a forum topic: in a topic every
    message replies to it unless the sender replied to another, so taking it would act on
    whoever opened the topic."""
    replied = message.reply_to_message if message is not None else None
    if replied is None or replied.forum_topic_created is not None:
        return None
    return replied


def replied_person(message: Message | None) -> User | None:
    """The person whose message a command replies to (replied_to; not a bot, the anonymous
    admin or a channel, and not a service message such as a join or a pin, whose sender is
    whoever added or pinned): whom `/tag`, `/tier set`, `/coupon grant` and the like act on."""
    replied = replied_to(message)
    if replied is None or replied.from_user is None or not member_sender(replied):
        return None
    if is_service(replied):
        return None  # "Alice added Carol", "X pinned …": its sender is not the one meant
    return replied.from_user


def is_service(message: Message, update: Update | None = None) -> bool:
    """A service message (a join, a pin, a new title …; `update`: the one carrying it, if
    at hand). A text never is one, so a text is spared PTB's fifty checks."""
    if message.text:
        return False
    return bool(filters.StatusUpdate.ALL.check_update(update or Update(0, message=message)))


def message_kind(message: Message) -> str:
    """What sort of message it is (never its text): a command when Telegram marked a
    bot_command at its very start (as it routes commands; "/ hi" or a path is text)."""
    if message.text:
        command = any(
            e.type == MessageEntity.BOT_COMMAND and e.offset == 0 for e in message.entities
        )
        return COMMAND if command else "text"
    return next((kind for kind in MEDIA if getattr(message, kind, None)), "other")


def tap_of(update: Update) -> Tap:
    """The chat and message a button was tapped on (an inline or inaccessible message is
    nowhere the bot sent a button from: it never matches)."""
    query = update.callback_query
    message = query.message if query is not None else None
    if message is None or not message.is_accessible:
        return Tap(chat_id=0, message_id=0)
    return Tap(chat_id=message.chat.id, message_id=message.message_id)


def sent_at(update: Update, clock: Callable[[], dt.datetime] = utc_now) -> dt.datetime:
    """The time Telegram stamped on the update, so redeliveries keep their original day.

    A tap carries the time its message was sent, not the tap's: it is judged now, by
    `clock` (callbacks that can be taps pass the app's, `Deps.clock`).
    """
    if update.callback_query is not None:
        return clock()
    message = update.effective_message
    if message is not None:
        return message.date.astimezone(dt.UTC)
    member = update.chat_member or update.my_chat_member
    if member is not None:
        return member.date.astimezone(dt.UTC)
    return clock()


async def reader_language(update: Update, context: Context) -> str:
    """Group replies use the group's language; private replies the user's own."""
    chat, d = update.effective_chat, deps(context)
    if is_group(chat):
        assert chat is not None
        return (await d.settings_of(chat.id)).language
    user = update.effective_user
    return language_for(user.language_code if user else None, d.defaults.language)


async def reply(update: Update, text: str) -> None:
    """Answer in the chat the update came from, quoting the message when there is one."""
    message = update.effective_message
    if message is not None:
        await message.reply_text(text)
