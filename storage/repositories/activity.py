"""The activity log, check-ins and the points ledger: append-only tables."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import func, insert, select

from campaigns.checkin import CheckinAward, PreviousCheckin
from campaigns.members import EventKind
from storage.models import CheckinRow, EventRow, LedgerRow
from storage.repositories.base import Repository, insert_for


class SqlEvents(Repository):
    async def add(
        self,
        rows: Sequence[tuple[int, int, EventKind, dt.datetime, int | None, dict[str, str] | None]],
    ) -> None:
        if not rows:
            return
        await self.session.execute(
            insert(EventRow),
            [
                {"chat_id": c, "user_id": u, "kind": str(k), "at": at, "value": v, "meta": meta}
                for c, u, k, at, v, meta in rows
            ],
        )


class SqlCheckins(Repository):
    async def previous(self, chat_pk: int, user_id: int, day: dt.date) -> PreviousCheckin | None:
        row = (
            await self.session.execute(
                select(CheckinRow.day, CheckinRow.streak)
                .where(
                    CheckinRow.chat_id == chat_pk,
                    CheckinRow.user_id == user_id,
                    CheckinRow.day < day,
                )
                .order_by(CheckinRow.day.desc())
                .limit(1)
            )
        ).first()
        return PreviousCheckin(day=row[0], streak=row[1]) if row else None

    async def add(self, chat_pk: int, user_id: int, award: CheckinAward, at: dt.datetime) -> bool:
        """ON CONFLICT DO NOTHING keeps the transaction usable when a double tap loses."""
        table = CheckinRow.__table__
        stmt = (
            insert_for(self.session, table)
            .values(
                chat_id=chat_pk,
                user_id=user_id,
                day=award.day,
                at=at,
                streak=award.streak,
                points=award.total,
            )
            .on_conflict_do_nothing(index_elements=["chat_id", "user_id", "day"])
            .returning(table.c.id)
        )
        return (await self.session.execute(stmt)).first() is not None

    async def rank_on(self, chat_pk: int, user_id: int, day: dt.date) -> int:
        """Place in today's check-in order, by check-in time."""
        mine = (
            select(CheckinRow.at)
            .where(
                CheckinRow.chat_id == chat_pk, CheckinRow.user_id == user_id, CheckinRow.day == day
            )
            .scalar_subquery()
        )
        count = await self.session.scalar(
            select(func.count())
            .select_from(CheckinRow)
            .where(CheckinRow.chat_id == chat_pk, CheckinRow.day == day, CheckinRow.at <= mine)
        )
        return int(count or 1)


class SqlLedger(Repository):
    async def add(
        self, chat_pk: int, user_id: int, *, delta: int, reason: str, key: str, at: dt.datetime
    ) -> bool:
        table = LedgerRow.__table__
        stmt = (
            insert_for(self.session, table)
            .values(
                chat_id=chat_pk,
                user_id=user_id,
                delta=delta,
                reason=reason,
                idempotency_key=key,
                at=at,
            )
            .on_conflict_do_nothing(index_elements=["idempotency_key"])
            .returning(table.c.id)
        )
        return (await self.session.execute(stmt)).first() is not None
