"""Shop orders, stored once per external id."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class OrderTotals:
    """One member's orders in a group, for the export and segmentation."""

    orders: int
    spend: int
    last_order_at: dt.datetime | None


@dataclass(frozen=True)
class PlacedOrder:
    """One order as the dashboard lists it."""

    external_id: str
    user_id: int
    amount: int  # minor units
    currency: str
    at: dt.datetime
    coupon_codes: tuple[str, ...]
    source: str


class Orders(Protocol):
    async def add(
        self,
        chat_pk: int,
        *,
        external_id: str,
        user_id: int,
        amount: int,
        currency: str,
        at: dt.datetime,
        coupon_codes: Sequence[str],
        items: Sequence[str],
        category: str | None = None,
        source: str,
    ) -> int | None:
        """Store the order; None if this external id is already stored (a replay)."""

    async def count_of(self, chat_pk: int, user_id: int) -> int: ...

    async def any_in(self, chat_pk: int) -> bool:
        """Whether the group has any order at all (RFM reads orders, else activity)."""

    async def totals(self, chat_pk: int) -> dict[int, OrderTotals]: ...

    async def placed(
        self, chat_pk: int, user_ids: Sequence[int], since: dt.datetime
    ) -> dict[int, list[tuple[dt.datetime, int]]]:
        """The members' orders in the group from `since`: when, and the amount in minor
        units (what a report measures a journey's or an offer's members by)."""

    async def recent(self, chat_pk: int, limit: int) -> list[PlacedOrder]:
        """The group's latest orders, newest first."""
