"""Cheap dispatch: which handler an update goes to, decided in a few attribute reads.

PTB asks every handler of a group whether it wants the update, in turn. With forty-odd
`CommandHandler`s and filters composed of PTB's merged filters (`GROUPS & MESSAGE & …`, each
`&` a call chain, `StatusUpdate.ALL` fifty checks), deciding that a plain group message is
chatter cost about 60 µs: a quarter of what handling it costs bare PTB. Here the same
decisions are single functions, and every command is one handler that looks its name up.

Each filter below says which PTB composition it replaces; `tests/handlers/test_routing.py`
holds them to those compositions on generated updates (hypothesis), and the command router
to the `CommandHandler`s it replaces.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Coroutine, Mapping
from typing import Any

from telegram import Chat, Message, MessageEntity, Update
from telegram.ext import BaseHandler, CallbackQueryHandler, CommandHandler
from telegram.ext.filters import BaseFilter, UpdateFilter

from handlers.extract import is_service

Callback = Callable[[Update, Any], Coroutine[Any, Any, Any]]
GROUP_TYPES = frozenset({Chat.GROUP, Chat.SUPERGROUP})


def _is_command(message: Message) -> bool:
    """filters.COMMAND: the text starts with a bot command entity."""
    entities = message.entities
    if not entities:
        return False
    return entities[0].type == MessageEntity.BOT_COMMAND and not entities[0].offset


def _in_groups(message: Message | None) -> bool:
    return message is not None and message.chat.type in GROUP_TYPES


class _Fast(UpdateFilter):
    """An update filter whose whole test is `filter`: PTB's `check_update` first asks seven
    attributes whether the update holds a message at all, which every test here answers."""

    __slots__ = ()

    def check_update(self, update: Update) -> bool:
        return bool(self.filter(update))


class _GroupMessages(_Fast):
    """GROUPS & UpdateType.MESSAGE & (TEXT | ~StatusUpdate.ALL): a member's message in a
    group, not a service message (a text never is one, so it is spared the fifty checks)."""

    __slots__ = ()

    def filter(self, update: Update) -> bool:
        message = update.message
        if message is None or message.chat.type not in GROUP_TYPES:
            return False
        return not is_service(message, update)


class _GroupEdits(_Fast):
    """GROUPS & UpdateType.EDITED_MESSAGE."""

    __slots__ = ()

    def filter(self, update: Update) -> bool:
        return _in_groups(update.edited_message)


class _PrivateMessages(_Fast):
    """ChatType.PRIVATE & UpdateType.MESSAGE."""

    __slots__ = ()

    def filter(self, update: Update) -> bool:
        message = update.message
        return message is not None and message.chat.type == Chat.PRIVATE


class _JoinsOrLeaves(UpdateFilter):
    """StatusUpdate.NEW_CHAT_MEMBERS | StatusUpdate.LEFT_CHAT_MEMBER (any kind of message,
    so PTB's check that the update holds one is kept: a tap's message is not one)."""

    __slots__ = ()

    def filter(self, update: Update) -> bool:
        message = update.effective_message
        return message is not None and bool(message.new_chat_members or message.left_chat_member)


class _Migrations(UpdateFilter):
    """StatusUpdate.MIGRATE (any kind of message, as above)."""

    __slots__ = ()

    def filter(self, update: Update) -> bool:
        message = update.effective_message
        return message is not None and bool(
            message.migrate_from_chat_id or message.migrate_to_chat_id
        )


class _Heard(_Fast):
    """GROUPS & UpdateType.MESSAGE & (TEXT | CAPTION) & ~COMMAND: what watch words and FAQ
    answers listen to."""

    __slots__ = ()

    def filter(self, update: Update) -> bool:
        message = update.message
        if message is None or message.chat.type not in GROUP_TYPES:
            return False
        return bool(message.text or message.caption) and not _is_command(message)


class _Guarded(_Fast):
    """GROUP_MESSAGES | (GROUPS & UpdateType.EDITED_MESSAGE): what anti-spam reads."""

    __slots__ = ()

    def filter(self, update: Update) -> bool:
        return _GROUP_MESSAGES.filter(update) or _GROUP_EDITS.filter(update)


class _Said(_Fast):
    """`chat & Regex(pattern)` without the regex's matches (no caller reads them): the
    chat's filter first, so most messages never meet the regex."""

    __slots__ = ("chat", "pattern")

    def __init__(self, chat: _Fast, pattern: str) -> None:
        super().__init__(name=f"{chat.name} saying {pattern}")
        self.chat, self.pattern = chat, re.compile(pattern)

    def filter(self, update: Update) -> bool:
        message = update.effective_message
        if not self.chat.filter(update) or message is None or not message.text:
            return False
        return self.pattern.search(message.text) is not None


_GROUP_MESSAGES = _GroupMessages(name="group messages")
_GROUP_EDITS = _GroupEdits(name="group edits")
_PRIVATE_MESSAGES = _PrivateMessages(name="private messages")
GROUP_MESSAGES: BaseFilter = _GROUP_MESSAGES
GUARDED: BaseFilter = _Guarded(name="group messages or edits")
PRIVATE_MESSAGES: BaseFilter = _PRIVATE_MESSAGES
JOINS_OR_LEAVES: BaseFilter = _JoinsOrLeaves(name="joins or leaves")
MIGRATIONS: BaseFilter = _Migrations(name="migrations")
HEARD: BaseFilter = _Heard(name="heard in groups")


def said_in_groups(pattern: str) -> BaseFilter:
    """GROUPS & UpdateType.MESSAGE & Regex(pattern), without the matches."""
    return _Said(_GROUP_MESSAGES, pattern)


def said_in_private(pattern: str) -> BaseFilter:
    """ChatType.PRIVATE & UpdateType.MESSAGE & Regex(pattern), without the matches."""
    return _Said(_PRIVATE_MESSAGES, pattern)


class Commands(CommandHandler[Any, Any]):
    """Every command as one handler: the name is looked up in a dict, instead of each
    update being offered to one CommandHandler per command. It matches exactly what those
    handlers did (the first entity a bot command at offset 0, addressed to no bot or to this
    one, any case), and `commands` still lists every name (the private fallback asks it)."""

    __slots__ = ("routes",)

    def __init__(self, routes: Mapping[str, Callback], only: BaseFilter) -> None:
        lowered = {name.lower(): callback for name, callback in routes.items()}
        if len(lowered) != len(routes):
            raise ValueError("two callbacks for one command")
        self.routes = lowered
        super().__init__(list(lowered), self._unrouted, filters=only)

    @staticmethod
    async def _unrouted(update: Update, context: Any) -> None:  # never called: see below
        raise AssertionError("Commands.handle_update routes every command")

    def route(self, update: Update) -> Callback:
        """The callback of the command `check_update` accepted."""
        message = update.effective_message
        assert message is not None and message.text and message.entities
        name = message.text[1 : message.entities[0].length].partition("@")[0]
        return self.routes[name.lower()]

    async def handle_update(
        self, update: Update, application: Any, check_result: Any, context: Any
    ) -> Any:
        self.collect_additional_context(context, update, application, check_result)
        return await self.route(update)(update, context)


class Taps(BaseHandler[Update, Any, Any]):
    """The CallbackQueryHandlers of one group as one handler: each is asked in order, as
    PTB would ask them, but only for a tap; every other update is turned away by one check
    instead of by each of them."""

    __slots__ = ("handlers",)

    def __init__(self, handlers: list[CallbackQueryHandler[Any, Any]]) -> None:
        super().__init__(self._unrouted)
        self.handlers = handlers

    @staticmethod
    async def _unrouted(update: Update, context: Any) -> None:  # never called: see below
        raise AssertionError("Taps.handle_update hands every tap to its handler")

    def check_update(self, update: object) -> Any:
        if not (isinstance(update, Update) and update.callback_query):
            return None
        for handler in self.handlers:
            check = handler.check_update(update)
            if not (check is None or check is False):
                return handler, check
        return None

    async def handle_update(
        self, update: Update, application: Any, check_result: Any, context: Any
    ) -> Any:
        handler, check = check_result
        return await handler.handle_update(update, application, check, context)
