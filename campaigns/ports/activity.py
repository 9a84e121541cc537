"""Append-only activity: member events, daily check-ins, the points ledger."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from campaigns.checkin import CheckinAward, PreviousCheckin
from campaigns.members import EventKind


class Events(Protocol):
    async def add(
        self,
        rows: Sequence[tuple[int, int, EventKind, dt.datetime, int | None, dict[str, str] | None]],
        *,
        roll_up: bool = True,
    ) -> None:
        """Append (chat_pk, user_id, kind, at, value, meta) rows and count them in the daily
        rollup. `roll_up=False`: the caller counts them with roll_up later in the same
        transaction (an activity batch, whose day counters' lock must come last)."""

    async def roll_up(
        self,
        rows: Sequence[tuple[int, int, EventKind, dt.datetime, int | None, dict[str, str] | None]],
    ) -> None:
        """Count rows added with `roll_up=False` in the daily rollup, as add would have."""


@dataclass(frozen=True)
class PointsEntry:
    """One ledger entry a check-in grants: stored once per key, and only if the check-in is."""

    reason: str
    delta: int
    key: str


@dataclass(frozen=True)
class RecordedCheckin:
    """What storing a check-in leaves on the member's row, and their place that day."""

    balance: int
    best_streak: int
    rank: int
    earned: int = 0  # the member's lifetime points earned, after this check-in
    spend: int = 0  # and lifetime spend: enough to tell whether a promotion is possible


@dataclass(frozen=True)
class StatementLine:
    """One ledger entry as a member's statement shows it (`item`: a shop entry's item)."""

    at: dt.datetime
    delta: int
    reason: str
    item: str | None = None
    item_kind: str | None = None


@dataclass(frozen=True)
class ExpiryStanding:
    """What the expiry rule needs of one member: points earned in entries before each
    cutoff asked for (`earned`, in their order), every debit so far (as a positive number),
    and the balance."""

    user_id: int
    earned: tuple[int, ...]
    debits: int
    balance: int

    @property
    def earned_before(self) -> int:
        """Earned before the first cutoff."""
        return self.earned[0]


class Checkins(Protocol):
    async def makeup(
        self,
        chat_pk: int,
        user_id: int,
        *,
        day: dt.date,
        streak: int,
        today_streak: int | None,
        at: dt.datetime,
    ) -> bool:
        """A make-up card's check-in on `day` (no points) with `streak`; today's row, when
        `today_streak` is given, carries it on; the member's counters follow (check-ins,
        streak, best streak, last day). False, and nothing written, if `day` has one."""

    async def previous(
        self, chat_pk: int, user_id: int, day: dt.date
    ) -> PreviousCheckin | None: ...

    async def record(
        self,
        chat_pk: int,
        user_id: int,
        award: CheckinAward,
        at: dt.datetime,
        entries: Sequence[PointsEntry],
    ) -> RecordedCheckin | None:
        """Store a check-in the rules have decided, with all it writes: the check-in row, the
        ledger `entries` (each once per key; the balance moves by those stored), the
        member's counters (streak and day only if no later check-in is stored), the points
        earned (positive entries stored: the running total and the month bucket of the
        check-in's local day) and the CHECKIN event. None, and nothing written, if the
        member has a check-in that day. The member's row must be locked by this
        transaction (Members.seen_in does).

        One call rather than five because on PostgreSQL it is one statement: a round trip
        each was most of a check-in's time in a morning rush.
        """


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

    async def chats_of(self, user_id: int) -> list[int]:
        """The groups (pks) where the member has ledger entries, oldest group first."""

    async def statement(self, chat_pk: int, user_id: int, limit: int) -> list[StatementLine]:
        """The member's latest entries in the group, newest first."""

    async def expiry_standings(self, chat_pk: int, *cutoffs: dt.datetime) -> list[ExpiryStanding]:
        """Members who may have points expiring at one of the `cutoffs` (ascending): earned
        before the last more than all their debits, with a positive balance (a pre-filter:
        campaigns.shop.expiring decides how much; for everyone else it is zero). One pass
        over the group's ledger, however many cutoffs."""
