"""The points shop's items and redemptions, and the once-per-window expiry reminders."""

from __future__ import annotations

import datetime as dt
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
    ) -> bool:
        """The redemption, once per key (the ledger entry's); False if the key exists."""

    async def last_redeemed(
        self, chat_pk: int, user_id: int, *, item_id: int | None = None,
        kind: ShopItemKind | None = None,
    ) -> dt.datetime | None:  # fmt: skip
        """When the member last redeemed this item (or an item of this kind)."""

    async def orders(self, chat_pk: int, limit: int) -> list[ShopOrder]:
        """The group's latest redemptions, newest first."""

    async def remind_once(
        self, chat_pk: int, user_id: int, *, expires_on: dt.date, after: dt.date, at: dt.datetime
    ) -> bool:
        """Note a reminder of points expiring by `expires_on`, unless one that covers a day
        after `after` was noted already (so a member hears once per window); False then."""
