"""The points shop: items, stock by a conditional UPDATE, redemptions once per key, and the
points-expiry reminders (once per member and expiry day) and notices (once per reminder)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select, update

from campaigns.ports.shop import ShopOrder
from campaigns.shop import NewItem, ShopItem, ShopItemKind, ShopItemStatus
from storage.models import PointsReminderRow, ShopItemRow, ShopRedemptionRow, UserRow
from storage.repositories.base import Repository, aware, insert_for
from storage.repositories.members import name_of

I = ShopItemRow  # noqa: E741 - the table's one-letter alias, as in SQL
R = ShopRedemptionRow
PR = PointsReminderRow


def _item(row: ShopItemRow) -> ShopItem:
    return ShopItem(
        id=row.id, chat_pk=row.chat_id, kind=ShopItemKind(row.kind), name=row.name,
        price=int(row.price), offer_id=row.offer_id, stock=row.stock, sold=row.sold,
        status=ShopItemStatus(row.status), makeup_every_days=row.makeup_every_days,
        created_at=aware(row.created_at) or row.created_at,
    )  # fmt: skip


class SqlShop(Repository):
    async def add(self, chat_pk: int, new: NewItem, name: str, at: dt.datetime) -> ShopItem:
        row = ShopItemRow(
            chat_id=chat_pk, kind=str(new.kind), name=name, price=new.price,
            offer_id=new.offer_id, stock=new.stock, sold=0, status=str(ShopItemStatus.ACTIVE),
            makeup_every_days=new.makeup_every_days, created_at=at,
        )  # fmt: skip
        self.session.add(row)
        await self.session.flush()
        return _item(row)

    async def item(self, item_id: int) -> ShopItem | None:
        row = await self.session.get(ShopItemRow, item_id, populate_existing=True)
        return _item(row) if row is not None else None

    async def items(self, chat_pk: int) -> list[ShopItem]:
        rows = await self.session.scalars(
            select(I)
            .where(I.chat_id == chat_pk, I.status == str(ShopItemStatus.ACTIVE))
            .order_by(I.id)
        )
        return [_item(row) for row in rows]

    async def end(self, item_id: int) -> bool:
        result = await self.session.execute(
            update(I)
            .where(I.id == item_id, I.status == str(ShopItemStatus.ACTIVE))
            .values(status=str(ShopItemStatus.ENDED))
            .returning(I.id)
            .execution_options(synchronize_session=False)
        )
        return result.first() is not None

    async def take_stock(self, item_id: int) -> bool:
        result = await self.session.execute(
            update(I)
            .where(
                I.id == item_id,
                I.status == str(ShopItemStatus.ACTIVE),
                I.stock.is_(None) | (I.sold < I.stock),
            )
            .values(sold=I.sold + 1)
            .returning(I.id)
            .execution_options(synchronize_session=False)
        )
        return result.first() is not None

    async def record(
        self,
        item: ShopItem,
        user_id: int,
        *,
        key: str,
        coupon_code: str | None,
        at: dt.datetime,
    ) -> int | None:
        result = await self.session.execute(
            insert_for(self.session, R)
            .values(
                item_id=item.id,
                chat_id=item.chat_pk,
                user_id=user_id,
                kind=str(item.kind),
                price=item.price,
                idempotency_key=key,
                coupon_code=coupon_code,
                at=at,
            )
            .on_conflict_do_nothing(index_elements=["idempotency_key"])
            .returning(R.id)
        )
        row = result.first()
        return int(row[0]) if row is not None else None

    async def last_redeemed(
        self, chat_pk: int, user_id: int, *, item_id: int | None = None,
        kind: ShopItemKind | None = None,
    ) -> dt.datetime | None:  # fmt: skip
        query: Any = select(func.max(R.at)).where(R.chat_id == chat_pk, R.user_id == user_id)
        if item_id is not None:
            query = query.where(R.item_id == item_id)
        if kind is not None:
            query = query.where(R.kind == str(kind))
        return aware(await self.session.scalar(query))

    async def orders(
        self, chat_pk: int, limit: int, *, kinds: Sequence[ShopItemKind]
    ) -> list[ShopOrder]:
        rows = await self.session.execute(
            select(R, I.name, UserRow)
            .join(I, I.id == R.item_id)
            .outerjoin(UserRow, UserRow.id == R.user_id)
            .where(R.chat_id == chat_pk, R.kind.in_([str(kind) for kind in kinds]))
            .order_by(R.at.desc(), R.id.desc())
            .limit(limit)
        )
        return [
            ShopOrder(
                id=r.id,
                item_id=r.item_id,
                item_name=name,
                kind=ShopItemKind(r.kind),
                user_id=r.user_id,
                member_name=name_of(user) if user else str(r.user_id),
                price=int(r.price),
                coupon_code=r.coupon_code,
                at=aware(r.at) or r.at,
            )
            for r, name, user in rows
        ]

    async def reminded(self, chat_pk: int, *, since: dt.date) -> dict[int, list[dt.date]]:
        rows = await self.session.execute(
            select(PR.user_id, PR.expires_on)
            .where(PR.chat_id == chat_pk, PR.expires_on >= since)
            .order_by(PR.user_id, PR.expires_on)
        )
        found: dict[int, list[dt.date]] = {}
        for user_id, day in rows:
            found.setdefault(int(user_id), []).append(day)
        return found

    async def remind_once(
        self, chat_pk: int, user_id: int, *, expires_on: dt.date, at: dt.datetime
    ) -> bool:
        result = await self.session.execute(
            insert_for(self.session, PR)
            .values(chat_id=chat_pk, user_id=user_id, expires_on=expires_on, at=at)
            .on_conflict_do_nothing()
            .returning(PR.id)
        )
        return result.first() is not None

    async def note_expired(
        self, chat_pk: int, user_id: int, *, expires_on: dt.date, at: dt.datetime
    ) -> bool:
        marked = await self.session.execute(
            update(PR)
            .where(
                PR.chat_id == chat_pk,
                PR.user_id == user_id,
                PR.expires_on == expires_on,
                PR.told_at.is_(None),
            )
            .values(told_at=at)
            .returning(PR.id)
            .execution_options(synchronize_session=False)
        )
        if marked.first() is not None:
            return True
        result = await self.session.execute(
            insert_for(self.session, PR)
            .values(chat_id=chat_pk, user_id=user_id, expires_on=expires_on, at=at, told_at=at)
            .on_conflict_do_nothing()
            .returning(PR.id)
        )
        return result.first() is not None
