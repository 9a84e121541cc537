"""What handlers are given by the composition root: the unit of work factory and a few caches."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from telegram import Bot
from telegram.error import TelegramError
from telegram.ext import CallbackContext, ExtBot

from campaigns.ports import UnitOfWork
from campaigns.services.chats import chat_settings
from campaigns.settings import ChatSettings
from handlers.buffer import ActivityBuffer

ADMIN_TTL = 600.0
SETTINGS_TTL = 60.0


class AdminCache:
    """getChatAdministrators results per group, kept for ten minutes or until admins change."""

    def __init__(self, ttl: float = ADMIN_TTL) -> None:
        self.ttl = ttl
        self._cache: dict[int, tuple[float, frozenset[int]]] = {}

    async def admin_ids(self, bot: Bot, chat_id: int) -> frozenset[int]:
        """Ids of the group's admins; an API failure yields no admins (refuse, never grant)."""
        hit = self._cache.get(chat_id)
        if hit and hit[0] > time.monotonic():
            return hit[1]
        try:
            admins = await bot.get_chat_administrators(chat_id)
        except TelegramError:
            return frozenset()
        ids = frozenset(a.user.id for a in admins)
        self._cache[chat_id] = (time.monotonic() + self.ttl, ids)
        return ids

    def forget(self, chat_id: int) -> None:
        """Admins changed: ask Telegram again next time."""
        self._cache.pop(chat_id, None)


@dataclass
class Deps:
    """Services for handlers; stored in application.bot_data['deps']."""

    uow: Callable[[], UnitOfWork]
    defaults: ChatSettings
    owner_ids: frozenset[int]
    buffer: ActivityBuffer
    admins: AdminCache = field(default_factory=AdminCache)
    rights_noticed: dict[int, float] = field(default_factory=dict)
    # Deal posts are edited at most once per interval; changes in between are coalesced.
    deal_edit_interval: float = 5.0
    deal_edited: dict[int, float] = field(default_factory=dict)
    deal_pending: dict[int, asyncio.Task[None]] = field(default_factory=dict)
    # The text each post or card shows now, so a timer refresh edits only what changed.
    shown: dict[tuple[int, int], str] = field(default_factory=dict)
    reachable: set[int] = field(default_factory=set)
    _settings: dict[int, tuple[float, ChatSettings]] = field(default_factory=dict)

    async def settings_of(self, chat_id: int) -> ChatSettings:
        """A group's settings, cached briefly (replies need the language on every command)."""
        hit = self._settings.get(chat_id)
        if hit and hit[0] > time.monotonic():
            return hit[1]
        value = await chat_settings(self.uow(), chat_id=chat_id, defaults=self.defaults)
        self._settings[chat_id] = (time.monotonic() + SETTINGS_TTL, value)
        return value

    def settings_changed(self, chat_id: int, value: ChatSettings) -> None:
        self._settings[chat_id] = (time.monotonic() + SETTINGS_TTL, value)


def deps(
    context: CallbackContext[
        ExtBot[None], dict[object, object], dict[object, object], dict[object, object]
    ],
) -> Deps:
    """The Deps the application was built with."""
    value = context.application.bot_data["deps"]
    assert isinstance(value, Deps)
    return value
