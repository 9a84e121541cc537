"""Shop orders, stored once per external id."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import func, select

from campaigns.ports.orders import OrderTotals, PlacedOrder
from storage.models import OrderRow
from storage.repositories import stats as daily
from storage.repositories.base import Repository, aware, insert_for

Ord = OrderRow


class SqlOrders(Repository):
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
        table = Ord.__table__
        stmt = (
            insert_for(self.session, table)
            .values(
                chat_id=chat_pk,
                external_id=external_id,
                user_id=user_id,
                amount=amount,
                currency=currency,
                at=at,
                coupon_codes={"codes": list(coupon_codes)},
                items={"items": list(items), "category": category} if items or category else None,
                source=source,
                created_at=dt.datetime.now(dt.UTC),
            )
            .on_conflict_do_nothing(index_elements=["chat_id", "external_id"])
            .returning(table.c.id)
        )
        value = (await self.session.execute(stmt)).scalar()
        if value is None:
            return None
        await self._roll_up(chat_pk, int(value), user_id, amount, at)
        return int(value)

    async def _roll_up(
        self, chat_pk: int, order_id: int, user_id: int, amount: int, at: dt.datetime
    ) -> None:
        """The order's day gains an order and its amount; if it is the buyer's earliest (an
        old order imported late may be), the first order moves to its day."""
        before = aware(
            await self.session.scalar(
                select(func.min(Ord.at)).where(
                    Ord.chat_id == chat_pk, Ord.user_id == user_id, Ord.id != order_id
                )
            )
        )
        first = before is None or before > at
        entries = [(chat_pk, at, {"orders": 1, "gmv": amount, "first_orders": int(first)})]
        if first and before is not None:
            entries.append((chat_pk, before, {"first_orders": -1}))
        await daily.add_at(self, entries)

    async def count_of(self, chat_pk: int, user_id: int) -> int:
        count = await self.session.scalar(
            select(func.count())
            .select_from(Ord)
            .where(Ord.chat_id == chat_pk, Ord.user_id == user_id)
        )
        return int(count or 0)

    async def any_in(self, chat_pk: int) -> bool:
        found = await self.session.scalar(select(Ord.id).where(Ord.chat_id == chat_pk).limit(1))
        return found is not None

    async def totals(self, chat_pk: int) -> dict[int, OrderTotals]:
        rows = await self.session.execute(
            select(Ord.user_id, func.count(), func.sum(Ord.amount), func.max(Ord.at))
            .where(Ord.chat_id == chat_pk)
            .group_by(Ord.user_id)
        )
        return {
            int(uid): OrderTotals(int(n), int(spend or 0), aware(last))
            for uid, n, spend, last in rows
        }

    async def placed(
        self, chat_pk: int, user_ids: Sequence[int], since: dt.datetime
    ) -> dict[int, list[tuple[dt.datetime, int]]]:
        return await placed_by(self, chat_pk, user_ids, since)

    async def recent(self, chat_pk: int, limit: int) -> list[PlacedOrder]:
        rows = await self.session.scalars(
            select(Ord).where(Ord.chat_id == chat_pk).order_by(Ord.at.desc(), Ord.id.desc())
            .limit(limit)
        )  # fmt: skip
        found = []
        for row in rows:
            at = aware(row.at)
            assert at is not None
            codes = (row.coupon_codes or {}).get("codes", [])
            found.append(
                PlacedOrder(row.external_id, row.user_id, row.amount, row.currency, at,
                            tuple(str(c) for c in codes), row.source)
            )  # fmt: skip
        return found


async def placed_by(
    repo: Repository, chat_pk: int, user_ids: Sequence[int], since: dt.datetime
) -> dict[int, list[tuple[dt.datetime, int]]]:
    """`Orders.placed`, also what a journey report's outcomes read: 500 members a query."""
    orders: dict[int, list[tuple[dt.datetime, int]]] = {}
    users = list(user_ids)
    for start in range(0, len(users), 500):
        chunk = users[start : start + 500]
        for uid, at, amount in await repo.session.execute(
            select(Ord.user_id, Ord.at, Ord.amount).where(
                Ord.chat_id == chat_pk, Ord.user_id.in_(chunk), Ord.at >= since
            )
        ):
            placed = aware(at)
            assert placed is not None
            orders.setdefault(int(uid), []).append((placed, int(amount)))
    return orders
