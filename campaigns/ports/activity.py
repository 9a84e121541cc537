"""Append-only activity: member events, daily check-ins, the points ledger."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Protocol

from campaigns.checkin import CheckinAward, PreviousCheckin
from campaigns.members import EventKind


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
