"""Alerts to admins: the stocks and leaves their conditions read, and the sent-once rows.

What is low and what is a spike is campaigns/alerts.py's; here the rows are only narrowed
(live offers and deals that have a stock limit, groups with a leave lately), and an alert is
claimed with INSERT … ON CONFLICT DO NOTHING on its unique key, so of two processes one sends.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import or_, select

from campaigns.alerts import AlertKey, AlertKind, StockFact
from campaigns.coupons import OfferPurpose
from storage.models import AlertSentRow, CouponTemplateRow, DailyStatsRow, DealRow
from storage.repositories.base import Repository, insert_for

T, D, A = CouponTemplateRow, DealRow, AlertSentRow


class SqlAlerts(Repository):
    async def stocks(self, now: dt.datetime) -> dict[int, list[StockFact]]:
        offers = await self.session.execute(
            select(T.chat_id, T.id, T.name, T.stock, T.issued)
            .where(
                T.stock.is_not(None),
                T.active.is_(True),
                T.purpose == OfferPurpose.OFFER,
                or_(T.valid_until.is_(None), T.valid_until > now),
            )
            .order_by(T.id)
        )
        deals = await self.session.execute(
            select(D.chat_id, D.id, D.title, D.stock, D.taken)
            .where(D.stock.is_not(None), D.ended_at.is_(None), D.ends_at > now)
            .order_by(D.id)
        )
        found: dict[int, list[StockFact]] = {}
        for kind, rows in ((AlertKind.OFFER_STOCK, offers), (AlertKind.DEAL_STOCK, deals)):
            for chat_pk, object_id, name, stock, taken in rows:
                found.setdefault(chat_pk, []).append(StockFact(kind, object_id, name, stock, taken))
        return found

    async def groups_with_leaves(self, since: dt.date) -> list[int]:
        rows = await self.session.scalars(
            select(DailyStatsRow.chat_id)
            .where(DailyStatsRow.day >= since, DailyStatsRow.leaves > 0)
            .distinct()
            .order_by(DailyStatsRow.chat_id)
        )
        return list(rows)

    async def claim(self, key: AlertKey, at: dt.datetime) -> bool:
        stmt = (
            insert_for(self.session, A)
            .values(
                chat_id=key.chat_pk,
                kind=key.kind,
                object_id=key.object_id,
                day=key.day,
                sent_at=at,
            )
            .on_conflict_do_nothing(index_elements=["chat_id", "kind", "object_id", "day"])
            .returning(A.id)
        )
        return (await self.session.execute(stmt)).scalar() is not None
