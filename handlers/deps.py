"""What handlers are given by the composition root: the unit of work factory, a few caches,
the clock, and the workers they hand work to (seen through small Protocols, built in bot/)."""

from __future__ import annotations

import asyncio
import datetime as dt
import time
from collections.abc import Awaitable, Callable, Hashable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol

from telegram import Bot
from telegram.error import TelegramError
from telegram.ext import CallbackContext, ContextTypes, ExtBot

from campaigns.members import PRESENT_STATUSES
from campaigns.moderation import Watch
from campaigns.ports import UnitOfWork
from campaigns.ports.members import MessageSeen
from campaigns.services.chats import chat_settings
from campaigns.services.checkin import CheckedIn
from campaigns.settings import ChatSettings
from campaigns.stats import Cooldown
from handlers.books import ReplyBooks

ADMIN_TTL = 600.0
SETTINGS_TTL = 60.0
MEMBER_TTL = 60.0


class AdminCache:
    """getChatAdministrators results per group, kept for ten minutes or until admins change."""

    def __init__(
        self, ttl: float = ADMIN_TTL, monotonic: Callable[[], float] = time.monotonic
    ) -> None:
        self.ttl, self.monotonic = ttl, monotonic
        self._cache: dict[int, tuple[float, frozenset[int]]] = {}  # chat -> (asked at, ids)

    async def admin_ids(
        self, bot: Bot, chat_id: int, max_age: float | None = None
    ) -> frozenset[int]:
        """Ids of the group's admins, asked again when the list kept is older than `max_age`
        seconds (the TTL by default); an API failure yields no admins (refuse, never grant)."""
        hit = self._cache.get(chat_id)
        oldest = self.ttl if max_age is None else min(self.ttl, max_age)
        if hit and self.monotonic() - hit[0] < oldest:
            return hit[1]
        try:
            admins = await bot.get_chat_administrators(chat_id)
        except TelegramError:
            return frozenset()
        ids = frozenset(a.user.id for a in admins)
        self._cache[chat_id] = (self.monotonic(), ids)
        return ids

    def forget(self, chat_id: int) -> None:
        """Admins changed: ask Telegram again next time."""
        self._cache.pop(chat_id, None)


class TelegramGate:
    """campaigns.access.Gate answered by Telegram: admins from the cached administrator list
    (plus the bot's owners), membership from getChatMember. Failures answer no."""

    def __init__(
        self,
        bot: Bot,
        admins: AdminCache,
        owner_ids: frozenset[int],
        members: dict[Any, float],
        admin_max_age: float | None = None,
    ) -> None:
        self.bot, self.admins, self.owner_ids, self._members = bot, admins, owner_ids, members
        self.admin_max_age = admin_max_age  # None: the cache's TTL

    def is_owner(self, user_id: int) -> bool:
        return user_id in self.owner_ids

    async def is_admin(self, chat_id: int, user_id: int) -> bool:
        if user_id in self.owner_ids:
            return True
        return user_id in await self.admins.admin_ids(self.bot, chat_id, self.admin_max_age)

    async def is_member(self, chat_id: int, user_id: int) -> bool:
        if self._members.get((chat_id, user_id), 0.0) > time.monotonic():
            return True
        try:
            member = await self.bot.get_chat_member(chat_id, user_id)
        except TelegramError:
            return False
        present = member.status in PRESENT_STATUSES or bool(getattr(member, "is_member", False))
        if present:  # only a yes is remembered, briefly: a leave must count at once
            self._members[(chat_id, user_id)] = time.monotonic() + MEMBER_TTL
        return present


class Kick(Protocol):
    """The outbox sender, as handlers see it: new rows are waiting, send them now."""

    def kick(self) -> None: ...


class ActivitySink(Protocol):
    """Where member messages wait to be written in batches (the activity buffer)."""

    async def add(self, message: MessageSeen) -> None:
        """Queue one message."""

    async def flush(self) -> int:
        """Write what is waiting now (before reading counts that must include it)."""

    def moving(self, old_chat_id: int, new_chat_id: int) -> AbstractAsyncContextManager[None]:
        """Hold writes while a group moves to its supergroup id; waiting messages follow it."""


class DealPosts(Protocol):
    """Keeps deal posts' counts current without editing one more often than Telegram allows."""

    async def refresh(
        self, deal_id: int, now: dt.datetime | None = None, *, chat_id: int | None = None
    ) -> None:
        """The deal's counts changed: edit its post now, or once later if it was just edited
        or its group (`chat_id`, when the caller knows it) has no room to spare."""


class CardEdits(Protocol):
    """Cards (team cards) kept current: the newest edit of each wins, sent within the
    group's budget (bot/edits.py), so a rush of taps never waits on Telegram's limits."""

    async def put(self, chat_id: int, key: Hashable, edit: Callable[[], Awaitable[None]]) -> None:
        """Edit now, or keep this as the card's newest edit for later."""


@dataclass(frozen=True)
class Ack:
    """One member's answer to something many members do at once (a check-in), in the forms
    a coalescing worker may need: alone as a reply, as a line in a shared group message, and
    privately with the detail a line leaves out."""

    user_id: int
    alone: str  # the full reply, when it goes to the group by itself
    line: str  # its line among others in one group message
    reply_to: int | None = None  # the member's message, quoted when the ack goes alone
    private: str | None = None  # the detail, sent privately when only the line was shown


class Acknowledgements(Protocol):
    """Answers many members trigger at once, coalesced within the group's share of
    Telegram's limits (bot/acks.py): every member answered, in order, never refused."""

    async def add(self, chat_id: int, ack: Ack) -> None:
        """Answer now if the group is quiet, else in the group's next message or edit."""


class DashboardLinks(Protocol):
    """Where the dashboard opens (bot/dashboard builds them, signed): the Mini App's URL for
    a private chat's web_app button, a group's t.me link, a one-time desktop sign-in."""

    def app_url(self) -> str: ...

    def group_link(self, chat_id: int) -> str: ...

    def login_link(self, user_id: int, language: str, name: str) -> tuple[str, int]:
        """The link and the minutes it stays usable."""


class Handled(StrEnum):
    """How one update ended, for the metrics; when several handlers ran, the worst counts."""

    OK = "ok"
    DUPLICATE = "duplicate"  # a redelivery: its first delivery already answered
    REFUSED = "refused"  # a domain refusal, answered to the member
    TELEGRAM_ERROR = "telegram_error"  # Telegram refused a request (429, 403, network)
    ERROR = "error"  # an unexpected exception: a bug


class Outcomes(Protocol):
    """Where the use-case decorator says how the update it handles went (the metrics)."""

    def mark(self, outcome: Handled) -> None: ...


class Unobserved:
    """Outcomes nobody counts: Deps built without the composition root (tests, CLI)."""

    def mark(self, outcome: Handled) -> None:
        pass


def utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass
class Deps:
    """Services for handlers; `application.bot_data.deps` (see BotData)."""

    uow: Callable[[], UnitOfWork]
    defaults: ChatSettings
    owner_ids: frozenset[int]
    buffer: ActivitySink
    deal_posts: DealPosts
    acks: Acknowledgements
    cards: CardEdits
    # What handlers take for "now" when the update carries no time (taps): tests pass theirs.
    clock: Callable[[], dt.datetime] = utc_now
    admins: AdminCache = field(default_factory=AdminCache)
    outbox: Kick | None = None  # set by the composition root once the sender exists
    dashboard: DashboardLinks | None = None  # None: DASHBOARD_URL is not set
    outcomes: Outcomes = field(default_factory=Unobserved)
    rights_noticed: dict[int, float] = field(default_factory=dict)
    # /stats per group, at most once a minute (the charts' CPU), on `clock`.
    stats_asked: Cooldown = field(default_factory=Cooldown)
    # The text each post or card shows now, so a timer refresh edits only what changed.
    shown: dict[tuple[int, int], str] = field(default_factory=dict)
    reachable: set[int] = field(default_factory=set)
    # Anti-spam's memory between messages (flood and repeat windows, newcomers' counts).
    watch: Watch = field(default_factory=Watch)
    books: ReplyBooks = field(default_factory=ReplyBooks)  # watch words and FAQs by group
    checked_in: CheckedIn = field(default_factory=CheckedIn)  # a hint for repeated 签到
    # Each group's newest join-captcha prompt: its message id and when it was sent.
    prompts: dict[int, tuple[int, dt.datetime]] = field(default_factory=dict)
    prompt_locks: dict[int, asyncio.Lock] = field(default_factory=dict)  # one render at a time
    _members: dict[Any, float] = field(default_factory=dict)
    _once: dict[object, float] = field(default_factory=dict)
    _settings: dict[int, tuple[float, ChatSettings]] = field(default_factory=dict)

    async def settings_of(self, chat_id: int) -> ChatSettings:
        """A group's settings, cached briefly (replies need the language on every command)."""
        hit = self._settings.get(chat_id)
        if hit and hit[0] > time.monotonic():
            return hit[1]
        value = await chat_settings(self.uow(), chat_id=chat_id, defaults=self.defaults)
        self._settings[chat_id] = (time.monotonic() + SETTINGS_TTL, value)
        return value

    def once_a_day(self, key: object) -> bool:
        """True the first time for `key` in 24 hours (notices that must not become spam)."""
        now = time.monotonic()
        if self._once.get(key, 0.0) > now:
            return False
        self._once[key] = now + 24 * 3600
        return True

    def forget_member(self, chat_id: int, user_id: int) -> None:
        """A leave was seen: Telegram's cached "member" answer no longer holds."""
        self._members.pop((chat_id, user_id), None)

    def gate(self, bot: Bot, admin_max_age: float | None = None) -> TelegramGate:
        """Who may act on a group, as the use cases ask it; `admin_max_age`: how old a kept
        admin list may be for this caller (the dashboard, where a demoted admin must lose
        access within a minute without the bot seeing the change)."""
        return TelegramGate(bot, self.admins, self.owner_ids, self._members, admin_max_age)

    def forget_settings(self, chat_id: int) -> None:
        """Another process changed the group's settings: read them again next time."""
        self._settings.pop(chat_id, None)
        self.books.forget(chat_id)  # its watch words and FAQs, or their switches, too

    def settings_changed(self, chat_id: int, value: ChatSettings) -> None:
        self._settings[chat_id] = (time.monotonic() + SETTINGS_TTL, value)
        self.books.forget(chat_id)


class BotData:
    """`application.bot_data`, typed (PTB's ContextTypes): the Deps the composition root
    built. Handlers reach their dependencies only through it."""

    def __init__(self) -> None:
        self._deps: Deps | None = None

    @property
    def deps(self) -> Deps:
        if self._deps is None:
            raise RuntimeError("the application was not started: no Deps yet")
        return self._deps

    @deps.setter
    def deps(self, value: Deps) -> None:
        self._deps = value

    @property
    def started(self) -> bool:
        return self._deps is not None


Context = CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], BotData]
CONTEXT_TYPES = ContextTypes(bot_data=BotData)


def deps(context: Context) -> Deps:
    """The Deps the application was built with."""
    return context.bot_data.deps
