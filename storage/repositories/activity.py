"""The activity log, check-ins and the points ledger: append-only tables.

A check-in runs these on every 签到: their statements are built once (see base.prepared)
and run on the connection directly.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import BigInteger, Date, Table, bindparam, func, select

from campaigns.checkin import CheckinAward, PreviousCheckin
from campaigns.members import EventKind
from storage.models import CheckinRow, EventRow, LedgerRow, UtcDateTime
from storage.repositories.base import Repository, json_rows, prepared, rows_param

CT = cast(Table, CheckinRow.__table__)
LT = cast(Table, LedgerRow.__table__)
_CHAT = bindparam("chat_pk", type_=BigInteger)
_USER = bindparam("user_id", type_=BigInteger)
_DAY = bindparam("day", type_=Date)

ET = cast(Table, EventRow.__table__)
_EVENT_COLUMNS = [ET.c.chat_id, ET.c.user_id, ET.c.kind, ET.c.at, ET.c.value, ET.c.meta]
_EVENTS = prepared(
    lambda insert: insert(ET).from_select(
        [c.name for c in _EVENT_COLUMNS], json_rows(insert, *_EVENT_COLUMNS)
    )
)

_PREVIOUS = (
    select(CT.c.day, CT.c.streak)
    .where(CT.c.chat_id == _CHAT, CT.c.user_id == _USER, CT.c.day < _DAY)
    .order_by(CT.c.day.desc())
    .limit(1)
)

_ADD_CHECKIN = prepared(
    lambda insert: (
        insert(CT)
        .values(
            chat_id=_CHAT,
            user_id=_USER,
            day=_DAY,
            at=bindparam("at", type_=UtcDateTime()),
            streak=bindparam("streak"),
            points=bindparam("points"),
        )
        .on_conflict_do_nothing(index_elements=["chat_id", "user_id", "day"])
        .returning(CT.c.id)
    )
)

_MINE = (
    select(CT.c.at)
    .where(CT.c.chat_id == _CHAT, CT.c.user_id == _USER, CT.c.day == _DAY)
    .scalar_subquery()
)
_RANK = (
    select(func.count())
    .select_from(CT)
    .where(CT.c.chat_id == _CHAT, CT.c.day == _DAY, CT.c.at <= _MINE)
)

_ADD_ENTRY = prepared(
    lambda insert: (
        insert(LT)
        .values(
            chat_id=_CHAT,
            user_id=_USER,
            delta=bindparam("delta"),
            reason=bindparam("reason"),
            idempotency_key=bindparam("key"),
            at=bindparam("at", type_=UtcDateTime()),
        )
        .on_conflict_do_nothing(index_elements=["idempotency_key"])
        .returning(LT.c.id)
    )
)


class SqlEvents(Repository):
    async def add(
        self,
        rows: Sequence[tuple[int, int, EventKind, dt.datetime, int | None, dict[str, str] | None]],
    ) -> None:
        if not rows:
            return
        rows_ = [
            {"chat_id": c, "user_id": u, "kind": str(k), "at": at, "value": v, "meta": meta}
            for c, u, k, at, v, meta in rows
        ]
        await self.run(_EVENTS(self.session), {"rows": rows_param(self.session, rows_)})


class SqlCheckins(Repository):
    async def previous(self, chat_pk: int, user_id: int, day: dt.date) -> PreviousCheckin | None:
        params = {"chat_pk": chat_pk, "user_id": user_id, "day": day}
        row = (await self.run(_PREVIOUS, params)).first()
        return PreviousCheckin(day=row.day, streak=row.streak) if row else None

    async def add(self, chat_pk: int, user_id: int, award: CheckinAward, at: dt.datetime) -> bool:
        """ON CONFLICT DO NOTHING keeps the transaction usable when a double tap loses."""
        params: dict[str, Any] = {
            "chat_pk": chat_pk,
            "user_id": user_id,
            "day": award.day,
            "at": at,
            "streak": award.streak,
            "points": award.total,
        }
        return (await self.run(_ADD_CHECKIN(self.session), params)).first() is not None

    async def rank_on(self, chat_pk: int, user_id: int, day: dt.date) -> int:
        """Place in today's check-in order, by check-in time."""
        params = {"chat_pk": chat_pk, "user_id": user_id, "day": day}
        count = (await self.run(_RANK, params)).scalar()
        return int(count or 1)


class SqlLedger(Repository):
    async def add(
        self, chat_pk: int, user_id: int, *, delta: int, reason: str, key: str, at: dt.datetime
    ) -> bool:
        params = {
            "chat_pk": chat_pk,
            "user_id": user_id,
            "delta": delta,
            "reason": reason,
            "key": key,
            "at": at,
        }
        return (await self.run(_ADD_ENTRY(self.session), params)).first() is not None
