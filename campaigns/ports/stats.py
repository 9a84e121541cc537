"""Storage of the daily rollup and the figures /stats counts once per period (campaigns/
stats.py says what each KPI means; storage only sums and counts)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from campaigns.stats import DayTotals, PeriodFacts


@dataclass(frozen=True)
class FactWindow:
    """What PeriodFacts counts for one period: instants [since, until) for presence, joins
    and orders; local days (both included) for the active members of WAU and MAU."""

    since: dt.datetime
    until: dt.datetime
    week: tuple[dt.date, dt.date]
    month: tuple[dt.date, dt.date]


class Stats(Protocol):
    async def days(self, chat_pk: int, start: dt.date, end: dt.date) -> list[DayTotals]:
        """The stored rollup rows from `start` to `end` (days without a row are absent)."""
        ...

    async def facts(self, chat_pk: int, windows: Sequence[FactWindow]) -> list[PeriodFacts]:
        """The distinct counts of each window, in order."""
        ...

    async def lock_rollup(self, chat_pk: int) -> None:
        """Inside a transaction that rewrites the group's rollup rows: no write of the group
        adds to them until it ends, and none that has added is still uncommitted."""
        ...

    async def recompute(
        self, chat_pk: int, start: dt.date, end: dt.date, timezone: str
    ) -> list[DayTotals]:
        """The same days counted afresh from the raw tables (days with nothing are absent)."""
        ...

    async def replace(
        self, chat_pk: int, start: dt.date, end: dt.date, rows: Sequence[DayTotals]
    ) -> None:
        """The stored rows of these days become exactly `rows`."""
        ...
