"""What the use cases need from storage. storage/ implements these; tests may fake them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, Self

from campaigns.checkin import CheckinAward, PreviousCheckin
from campaigns.members import ChatInfo, EventKind, Membership, MemberStats, Person, Ranked
from campaigns.settings import ChatSettings


@dataclass(frozen=True)
class ChatRecord:
    """A registered group: its internal key survives a supergroup migration."""

    pk: int
    chat_id: int
    title: str | None
    active: bool
    settings: ChatSettings


@dataclass(frozen=True)
class MessageSeen:
    """One member message, buffered for a batched write."""

    update_id: int
    chat: ChatInfo
    person: Person
    at: dt.datetime
    kind: str


class UpdateLog(Protocol):
    async def claim(
        self, bot_id: int, update_id: int, at: dt.datetime, scope: str = "handler"
    ) -> bool:
        """Record the update as processed in `scope`; False if it already was."""

    async def claim_many(
        self, bot_id: int, update_ids: Sequence[int], at: dt.datetime, scope: str = "handler"
    ) -> set[int]:
        """Record many; returns the ids that were new."""

    async def prune(self, before: dt.datetime) -> int:
        """Forget records older than `before` (Telegram keeps updates for 24 hours)."""


class Chats(Protocol):
    async def get(self, chat_id: int) -> ChatRecord | None: ...

    async def register(
        self, chat: ChatInfo, *, active: bool, bot_status: str | None, defaults: ChatSettings
    ) -> ChatRecord:
        """Create the group or refresh its title and activity."""

    async def save_settings(self, pk: int, settings: ChatSettings) -> None: ...

    async def migrate(self, old_chat_id: int, new_chat_id: int) -> bool:
        """Move a group to its new supergroup id, keeping its data."""


class Users(Protocol):
    async def upsert(self, people: Sequence[Person]) -> None: ...


class Members(Protocol):
    async def get(self, chat_pk: int, user_id: int) -> Membership | None:
        """The stored state, locked for this transaction."""

    async def create(
        self, chat_pk: int, user_id: int, *, status: str, present: bool, at: dt.datetime
    ) -> bool:
        """Insert the membership; False if a concurrent writer created it first."""

    async def update_presence(
        self, chat_pk: int, user_id: int, *, status: str, present: bool | None, at: dt.datetime
    ) -> None:
        """Store the status; with `present` given, also the join or leave time."""

    async def count_messages(
        self, chat_pk: int, counts: dict[int, tuple[int, dt.datetime, dt.datetime]]
    ) -> None:
        """Add message counts per user: (count, first_at, last_at); registers unknown members."""

    async def record_checkin(self, chat_pk: int, user_id: int, award: CheckinAward) -> None: ...

    async def add_points(self, chat_pk: int, user_id: int, delta: int) -> int:
        """Adjust the cached balance; returns the new balance."""

    async def stats(self, chat_pk: int, user_id: int) -> MemberStats | None: ...

    async def all_stats(self, chat_pk: int) -> list[MemberStats]: ...

    async def top(self, chat_pk: int, by: str, limit: int, alive_since: dt.date) -> list[Ranked]:
        """Top lines; streaks count only if the last check-in is on or after `alive_since`."""

    async def rank_of(
        self, chat_pk: int, user_id: int, by: str, alive_since: dt.date
    ) -> Ranked | None: ...


class Events(Protocol):
    async def add(
        self,
        rows: Sequence[tuple[int, int, EventKind, dt.datetime, int | None, dict[str, str] | None]],
    ) -> None:
        """Append (chat_pk, user_id, kind, at, value, meta) rows."""


class Checkins(Protocol):
    async def previous(
        self, chat_pk: int, user_id: int, day: dt.date
    ) -> PreviousCheckin | None: ...

    async def add(self, chat_pk: int, user_id: int, award: CheckinAward, at: dt.datetime) -> bool:
        """Insert the check-in; False if this member already checked in that day."""

    async def rank_on(self, chat_pk: int, user_id: int, day: dt.date) -> int: ...


class Ledger(Protocol):
    async def add(
        self,
        chat_pk: int,
        user_id: int,
        *,
        delta: int,
        reason: str,
        key: str,
        at: dt.datetime,
    ) -> bool:
        """Append an entry once per idempotency key; False if the key exists."""


class UnitOfWork(Protocol):
    """One transaction: enter, use the repositories, commit once (or leave to roll back)."""

    @property
    def updates(self) -> UpdateLog: ...

    @property
    def chats(self) -> Chats: ...

    @property
    def users(self) -> Users: ...

    @property
    def members(self) -> Members: ...

    @property
    def events(self) -> Events: ...

    @property
    def checkins(self) -> Checkins: ...

    @property
    def ledger(self) -> Ledger: ...

    async def __aenter__(self) -> Self: ...

    async def __aexit__(self, *exc: object) -> None: ...

    async def commit(self) -> None: ...
