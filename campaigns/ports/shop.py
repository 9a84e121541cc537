"""The points shop's items and redemptions, and the expiry reminders (one per member and
expiry day) with the notice that points expired (once per reminder)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from campaigns.shop import NewItem, ShopItem, ShopItemKind


@dataclass(frozen=True)
class ShopOrder:
    """One redemption, for the operator who hands custom items over (/shop orders)."""

    id: int
    item_id: int
    item_name: str
    kind: ShopItemKind
    user_id: int
    member_name: str
    price: int
    coupon_code: str | None
    at: dt.datetime


class Shop(Protocol):
    async def add(self, chat_pk: int, new: NewItem, name: str, at: dt.datetime) -> ShopItem:
        """Store a new item of the group's shop."""

    async def item(self, item_id: int) -> ShopItem | None: ...

    async def items(self, chat_pk: int) -> list[ShopItem]:
        """The group's active items, oldest first."""

    async def end(self, item_id: int) -> bool:
        """Stop selling the item; False if it had ended already."""

    async def take_stock(self, item_id: int) -> bool:
        """One more sold, only while the item is active and (with a stock) not sold out: a
        conditional UPDATE, so the last one goes to one member only."""

    async def record(
        self,
        item: ShopItem,
        user_id: int,
        *,
        key: str,
        coupon_code: str | None,
        at: dt.datetime,
    ) -> int | None:
        """The redemption, once per key (the ledger entry's): its id (the order number), or
        None if the key exists."""

    async def last_redeemed(
        self, chat_pk: int, user_id: int, *, item_id: int | None = None,
        kind: ShopItemKind | None = None,
    ) -> dt.datetime | None:  # fmt: skip
        """When the member last redeemed this item (or an item of this kind)."""

    async def orders(
        self, chat_pk: int, limit: int, *, kinds: Sequence[ShopItemKind]
    ) -> list[ShopOrder]:
        """The group's latest redemptions of items of these kinds, newest first."""

    async def reminded(self, chat_pk: int, *, since: dt.date) -> dict[int, list[dt.date]]:
        """Member -> the expiry days they were reminded of, from `since` on."""

    async def remind_once(
        self, chat_pk: int, user_id: int, *, expires_on: dt.date, at: dt.datetime
    ) -> bool:
        """Note a reminder of points expiring on `expires_on`; False if one was noted."""

    async def note_expired(
        self, chat_pk: int, user_id: int, *, expires_on: dt.date, at: dt.datetime
    ) -> bool:
        """Note that the member was told points of the reminder of `expires_on` expired (a
        new row, told already, when there was no such reminder); False if they were told."""
