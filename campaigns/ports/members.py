"""People and memberships: names, presence, counters, points and referral codes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from campaigns.members import ChatInfo, Membership, MemberStats, Person, Ranked


@dataclass(frozen=True)
class MessageSeen:
    """One member message, buffered for a batched write."""

    update_id: int
    chat: ChatInfo
    person: Person
    at: dt.datetime
    kind: str


@dataclass(frozen=True)
class Counters:
    """A member's stored check-in numbers, as a check-in reads them (row locked)."""

    chat_pk: int
    streak: int
    best_streak: int
    points: int
    last_checkin_day: dt.date | None
    tier: int = 0  # the membership tier's level: its multiplier applies to the check-in


@dataclass(frozen=True)
class Seen:
    """Members.claim_and_see: whether the update was new, and if so the member's counters."""

    claimed: bool
    member: Counters | None


@dataclass(frozen=True)
class Contact:
    """Whom a private notice goes to, and in which language."""

    user_id: int
    display_name: str
    language_code: str | None
    reachable: bool


class Users(Protocol):
    async def upsert(self, people: Sequence[Person]) -> None: ...

    async def set_reachable(self, user_id: int, reachable: bool) -> None:
        """Record whether the bot may message the user privately."""

    async def contacts(self, user_ids: Sequence[int]) -> dict[int, Contact]: ...

    async def birthday(self, user_id: int) -> tuple[str, int] | None:
        """The user's birthday ("MM-DD") and the first year it counts, if set."""

    async def set_birthday(
        self, user_id: int, birthday: str | None, counts_from: int | None
    ) -> bool:
        """Store (or with None, clear) the birthday; False when there is no such user."""


class Members(Protocol):
    async def get(self, chat_pk: int, user_id: int) -> Membership | None:
        """The stored state, locked for this transaction."""

    async def lock(self, chat_pk: int, user_ids: Sequence[int]) -> set[int]:
        """Lock these members' rows in id order; returns the ids that exist."""

    async def create(
        self,
        chat_pk: int,
        user_id: int,
        *,
        status: str,
        present: bool,
        at: dt.datetime,
        joined: bool = True,
    ) -> bool:
        """Insert the membership; False if a concurrent writer created it first.

        `joined` is False for someone first seen already in the group (they were there before
        the bot, or their join was missed): their join date is unknown, never "now".
        """

    async def update_presence(
        self, chat_pk: int, user_id: int, *, status: str, present: bool | None, at: dt.datetime
    ) -> None:
        """Store the status; with `present` given, also the join or leave time."""

    async def count_messages(
        self, chat_pk: int, counts: dict[int, tuple[int, dt.datetime, dt.datetime]]
    ) -> None:
        """Add message counts per user: (count, first_at, last_at); registers unknown members."""

    async def seen_in(self, chat_id: int, user_id: int, at: dt.datetime) -> Counters | None:
        """In the active group whose Telegram id is `chat_id`: the member, registered if new
        and counted active at `at` as a message is (count_messages, adding none), locked for
        this transaction. None when the bot has no such active group, or no such user."""

    async def claim_and_see(
        self, bot_id: int, update_id: int, chat_id: int, user_id: int, at: dt.datetime
    ) -> Seen:
        """UpdateLog.claim of the update (scope "handler") and, only if it was new, seen_in:
        one statement on PostgreSQL, where each round trip counts in a check-in rush."""

    async def claim_if_done(
        self, bot_id: int, update_id: int, chat_id: int, user_id: int, day: dt.date, at: dt.datetime
    ) -> Seen | None:
        """If the member's counters hold a check-in on `day` (in an active group): claim
        the update (scope "handler"; `claimed` False for a replay) and return the counters.
        Otherwise None, and nothing is written. A read of the member's row that takes no
        lock; on PostgreSQL one statement, meant for UnitOfWork.alone(). The claim need not
        be durable (services.checkin._refused): on PostgreSQL the transaction it runs in
        commits without waiting for the disk, so never call it amid other writes."""

    async def add_points(self, chat_pk: int, user_id: int, delta: int) -> int:
        """Adjust the cached balance; returns the new balance."""

    async def take_points(self, chat_pk: int, user_id: int, amount: int) -> int | None:
        """Lower the balance by `amount` only if it holds that much (a conditional UPDATE:
        never negative, whatever runs at once); the new balance, or None (nothing changed)."""

    async def balance(self, chat_pk: int, user_id: int) -> int | None:
        """The member's points (None: never seen in the group)."""

    async def add_earned(self, chat_pk: int, user_id: int, points: int, month: dt.date) -> None:
        """Count `points` (> 0) as earned: the lifetime total and the `month` bucket. Called
        with every positive ledger entry actually stored, in its transaction."""

    async def stats(self, chat_pk: int, user_id: int) -> MemberStats | None: ...

    async def ref_code(self, chat_pk: int, user_id: int) -> str | None: ...

    async def is_present(self, chat_pk: int, user_id: int) -> bool | None:
        """Stored presence without locking: None when the member was never seen."""

    async def assign_ref_code(self, chat_pk: int, user_id: int, code: str) -> bool:
        """Give the member a referral code unless they have one; False on a taken code."""

    async def by_ref_code(self, code: str) -> tuple[int, int] | None:
        """(chat_pk, user_id) of the member whose code this is."""

    async def set_title(self, chat_pk: int, user_id: int, title: str) -> None: ...

    async def present_at(self, chat_pk: int, at: dt.datetime) -> int:
        """How many members were in the group at `at` (as far as the bot saw)."""

    async def all_stats(self, chat_pk: int) -> list[MemberStats]: ...

    async def top(self, chat_pk: int, by: str, limit: int, alive_since: dt.date) -> list[Ranked]:
        """Top lines; streaks count only if the last check-in is on or after `alive_since`."""

    async def rank_of(
        self, chat_pk: int, user_id: int, by: str, alive_since: dt.date
    ) -> Ranked | None: ...
