"""The activity log, check-ins and the points ledger: append-only tables.

A check-in runs these on every 签到: their statements are built once (see base.prepared)
and run on the connection directly.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import BigInteger, Date, Table, bindparam, case, func, select, text, update

from campaigns.checkin import CheckinAward, PreviousCheckin
from campaigns.members import EventKind
from campaigns.ports.activity import ExpiryStanding, PointsEntry, RecordedCheckin, StatementLine
from campaigns.tiers import month_of
from storage.models import (
    CheckinRow,
    EventRow,
    LedgerRow,
    MembershipRow,
    ShopItemRow,
    ShopRedemptionRow,
    UtcDateTime,
)
from storage.repositories import stats as daily
from storage.repositories.base import (
    Repository,
    aware,
    dollar_params,
    encoder,
    insert_for,
    json_rows,
    prepared,
    rows_param,
)

CT = cast(Table, CheckinRow.__table__)
LT = cast(Table, LedgerRow.__table__)
MT = cast(Table, MembershipRow.__table__)
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


# PostgreSQL stores a decided check-in in one statement (data-modifying CTEs; SQLite has
# none, and there a statement is a call on the loop's thread, not a round trip). Every
# part after the check-in row runs only if that row was inserted; the balance moves by the
# ledger entries actually stored; the member's streak and day follow only the latest day
# (not moved back by a backlog); the rank counts the day's other check-ins at or before
# this one (the statement does not see its own row), plus one. Points earned (positive entries
# stored) move the member's running total and their month bucket (`:month`, the first day
# of the check-in's local month), for membership tiers.
_RECORD_PG_SQL = """
WITH ins AS (
    INSERT INTO checkins (chat_id, user_id, day, at, streak, points)
    VALUES (:chat_pk, :user_id, :day, :at, CAST(:streak AS INTEGER), CAST(:total AS INTEGER))
    ON CONFLICT (chat_id, user_id, day) DO NOTHING
    RETURNING id
), led AS (
    INSERT INTO points_ledger (chat_id, user_id, delta, reason, idempotency_key, at)
    SELECT :chat_pk, :user_id, e.delta, e.reason, e.key, :at
    FROM (VALUES (CAST(:d1 AS BIGINT), CAST(:r1 AS VARCHAR), CAST(:k1 AS VARCHAR)),
                 (CAST(:d2 AS BIGINT), CAST(:r2 AS VARCHAR), CAST(:k2 AS VARCHAR))
    ) AS e (delta, reason, key)
    WHERE e.delta <> 0 AND EXISTS (SELECT 1 FROM ins)
    ON CONFLICT (idempotency_key) DO NOTHING
    RETURNING delta
), mem AS (
    UPDATE memberships SET
        checkins = checkins + 1,
        streak = CASE WHEN last_checkin_day IS NULL OR last_checkin_day <= :day
                      THEN CAST(:streak AS INTEGER) ELSE streak END,
        last_checkin_day = CASE WHEN last_checkin_day IS NULL OR last_checkin_day <= :day
                                THEN :day ELSE last_checkin_day END,
        best_streak = GREATEST(best_streak, CAST(:streak AS INTEGER)),
        points = points + (SELECT COALESCE(SUM(delta), 0) FROM led),
        points_earned = points_earned + (SELECT COALESCE(SUM(delta), 0) FROM led WHERE delta > 0)
    WHERE chat_id = :chat_pk AND user_id = :user_id AND EXISTS (SELECT 1 FROM ins)
    RETURNING points, best_streak, points_earned, spend
), mon AS (
    INSERT INTO member_months (chat_id, user_id, month, active_days, orders, spend, points_earned)
    SELECT :chat_pk, :user_id, :month, 0, 0, 0, g.earned
    FROM (SELECT COALESCE(SUM(delta), 0) AS earned FROM led WHERE delta > 0) AS g
    WHERE g.earned > 0
    ON CONFLICT (chat_id, user_id, month) DO UPDATE
    SET points_earned = member_months.points_earned + EXCLUDED.points_earned
), ev AS (
    INSERT INTO activity_events (chat_id, user_id, kind, at, value)
    SELECT :chat_pk, :user_id, CAST(:kind AS VARCHAR), :at, CAST(:total AS INTEGER) FROM ins
), ds AS (
    INSERT INTO daily_stats (chat_id, day, checkins)
    SELECT :chat_pk, :day, 1 FROM ins
    WHERE pg_advisory_xact_lock_shared(CAST(:rollup_key AS BIGINT)) IS NOT NULL
    ON CONFLICT (chat_id, day) DO UPDATE SET checkins = daily_stats.checkins + 1
)
SELECT mem.points, mem.best_streak, mem.points_earned, mem.spend, 1 + (
    SELECT count(*) FROM checkins AS c
    WHERE c.chat_id = :chat_pk AND c.day = :day AND c.at <= :at
) AS rank
FROM mem
"""
_RECORD_PG = text(_RECORD_PG_SQL).bindparams(
    bindparam("chat_pk", type_=BigInteger),
    bindparam("user_id", type_=BigInteger),
    bindparam("day", type_=Date),
    bindparam("month", type_=Date),
    bindparam("at", type_=UtcDateTime()),
    bindparam("rollup_key", type_=BigInteger),
)
_RECORD_PG_DRIVER, _RECORD_PG_NAMES = dollar_params(_RECORD_PG_SQL)
_NO_ENTRY = PointsEntry(reason="", delta=0, key="")
_DAY1 = dt.timedelta(days=1)

# SQLite on the driver: the statements SQLAlchemy would send for the same record (see
# SqlCheckins.record), in sqlite3's named style; times and days in SQLAlchemy's text form.
_SQLITE_CHECKIN = (
    "INSERT INTO checkins (chat_id, user_id, day, at, streak, points)"
    " VALUES (:chat_pk, :user_id, :day, :at, :streak, :total)"
    " ON CONFLICT (chat_id, user_id, day) DO NOTHING RETURNING id"
)
_SQLITE_ENTRY = (
    "INSERT INTO points_ledger (chat_id, user_id, delta, reason, idempotency_key, at)"
    " VALUES (:chat_pk, :user_id, :delta, :reason, :key, :at)"
    " ON CONFLICT (idempotency_key) DO NOTHING RETURNING id"
)
_SQLITE_MEMBER = (
    "UPDATE memberships SET checkins = checkins + 1,"
    " streak = CASE WHEN last_checkin_day IS NULL OR last_checkin_day <= :day"
    " THEN :streak ELSE streak END,"
    " last_checkin_day = CASE WHEN last_checkin_day IS NULL OR last_checkin_day <= :day"
    " THEN :day ELSE last_checkin_day END,"
    " best_streak = MAX(best_streak, :streak), points = points + :gained,"
    " points_earned = points_earned + :earned"
    " WHERE chat_id = :chat_pk AND user_id = :user_id"
    " RETURNING points, best_streak, points_earned, spend"
)
_SQLITE_MONTH = (
    "INSERT INTO member_months (chat_id, user_id, month, active_days, orders, spend,"
    " points_earned) VALUES (:chat_pk, :user_id, :month, 0, 0, 0, :earned)"
    " ON CONFLICT (chat_id, user_id, month) DO UPDATE"
    " SET points_earned = member_months.points_earned + excluded.points_earned"
)
_SQLITE_EVENT = (
    "INSERT INTO activity_events (chat_id, user_id, kind, at, value)"
    " VALUES (:chat_pk, :user_id, :kind, :at, :total)"
)
_SQLITE_EVENTS = (
    "INSERT INTO activity_events (chat_id, user_id, kind, at, value, meta)"
    " VALUES (?, ?, ?, ?, ?, ?)"
)


_META_TEXTS: dict[tuple[str, str], str] = {}  # {"type": kind} of messages, {"via": source}


def _json(meta: dict[str, str]) -> str:
    """An event's meta as the JSON rows path stores it (json_extract's compact text).
    Most metas are one of a few one-key texts, kept once encoded: encoding one per message
    cost more than inserting the message's row."""
    if len(meta) != 1:
        return json.dumps(meta, separators=(",", ":"), ensure_ascii=False)
    ((name, value),) = meta.items()
    text = _META_TEXTS.get((name, value)) if isinstance(value, str) else None
    if text is None:
        text = json.dumps(meta, separators=(",", ":"), ensure_ascii=False)
        if isinstance(value, str) and len(_META_TEXTS) < 256:
            _META_TEXTS[(name, value)] = text
    return text


_SQLITE_DAY = (
    "INSERT INTO daily_stats (chat_id, day, checkins) VALUES (:chat_pk, :day, 1)"
    " ON CONFLICT (chat_id, day) DO UPDATE SET checkins = checkins + 1"
)
_SQLITE_RANK = "SELECT count(*) FROM checkins WHERE chat_id = :chat_pk AND day = :day AND at <= :at"


class SqlEvents(Repository):
    async def add(
        self,
        rows: Sequence[tuple[int, int, EventKind, dt.datetime, int | None, dict[str, str] | None]],
        *,
        roll_up: bool = True,
    ) -> None:
        if not rows:
            return
        inline = await self.inline_sqlite()
        if inline is not None:
            # A row per message of an activity batch: sqlite3's executemany binds them in C,
            # where building and reading back one JSON parameter cost twice the insert.
            encode = encoder(self.session)
            await inline.executemany_inline(
                _SQLITE_EVENTS,
                [
                    (c, u, str(k), encode(at), v, None if meta is None else _json(meta))
                    for c, u, k, at, v, meta in rows
                ],
            )
        else:
            rows_ = [
                {"chat_id": c, "user_id": u, "kind": str(k), "at": at, "value": v, "meta": meta}
                for c, u, k, at, v, meta in rows
            ]
            await self.run(_EVENTS(self.session), {"rows": rows_param(self.session, rows_)})
        if roll_up:
            await self.roll_up(rows)

    async def roll_up(
        self,
        rows: Sequence[tuple[int, int, EventKind, dt.datetime, int | None, dict[str, str] | None]],
    ) -> None:
        await daily.add_events(self, rows)


class SqlCheckins(Repository):
    async def makeup(
        self,
        chat_pk: int,
        user_id: int,
        *,
        day: dt.date,
        streak: int,
        today_streak: int | None,
        at: dt.datetime,
    ) -> bool:
        """Yesterday's row (no points, marked a make-up: /stats counts it apart from the
        check-in rate) inserted once; today's row carried on; the member's counters: one
        more check-in, the streak of the latest day, the best streak."""
        inserted = await self.run(
            insert_for(self.session, CT)
            .values(
                chat_id=chat_pk,
                user_id=user_id,
                day=day,
                at=at,
                streak=streak,
                points=0,
                makeup=True,
            )
            .on_conflict_do_nothing(index_elements=["chat_id", "user_id", "day"])
            .returning(CT.c.id)
        )
        if inserted.first() is None:
            return False
        await daily.add_days(self, {(chat_pk, day): {"makeups": 1}})  # not in the rate
        latest = streak if today_streak is None else today_streak
        if today_streak is not None:
            await self.run(
                update(CT)
                .where(CT.c.chat_id == chat_pk, CT.c.user_id == user_id, CT.c.day == day + _DAY1)
                .values(streak=today_streak)
            )
        m = MT.c
        await self.run(
            update(MT)
            .where(m.chat_id == chat_pk, m.user_id == user_id)
            .values(
                checkins=m.checkins + 1,
                streak=case((m.last_checkin_day <= day + _DAY1, latest), else_=m.streak),
                last_checkin_day=case((m.last_checkin_day < day, day), else_=m.last_checkin_day),
                best_streak=case((m.best_streak < latest, latest), else_=m.best_streak),
            )
        )
        return True

    async def previous(self, chat_pk: int, user_id: int, day: dt.date) -> PreviousCheckin | None:
        params = {"chat_pk": chat_pk, "user_id": user_id, "day": day}
        row = (await self.run(_PREVIOUS, params)).first()
        return PreviousCheckin(day=row.day, streak=row.streak) if row else None

    async def record(
        self,
        chat_pk: int,
        user_id: int,
        award: CheckinAward,
        at: dt.datetime,
        entries: Sequence[PointsEntry],
    ) -> RecordedCheckin | None:
        if self.session.get_bind().dialect.name == "postgresql":
            return await self._record_in_one(chat_pk, user_id, award, at, entries)
        driver = await self.driver()
        if driver is None:  # aiosqlite on its own thread: a read-only or in-memory engine
            raise RuntimeError("check-ins are written through a writing engine on a file")
        return self._record_on_sqlite(driver, chat_pk, user_id, award, at, entries)

    async def _record_in_one(
        self,
        chat_pk: int,
        user_id: int,
        award: CheckinAward,
        at: dt.datetime,
        entries: Sequence[PointsEntry],
    ) -> RecordedCheckin | None:
        if len(entries) > 2:
            raise ValueError("a check-in grants at most two ledger entries")
        first, second = [*entries, _NO_ENTRY, _NO_ENTRY][:2]
        params: dict[str, Any] = {
            "chat_pk": chat_pk,
            "user_id": user_id,
            "day": award.day,
            "month": month_of(award.day),
            "at": at,
            "streak": award.streak,
            "total": award.total,
            "kind": str(EventKind.CHECKIN),
            "d1": first.delta,
            "r1": first.reason,
            "k1": first.key,
            "d2": second.delta,
            "r2": second.reason,
            "k2": second.key,
            "rollup_key": daily.ROLLUP_LOCKS + chat_pk,  # shared, as every rollup write
        }
        driver = await self.driver()
        if driver is not None:
            values = [params[name] for name in _RECORD_PG_NAMES]
            found = await driver.fetchrow(_RECORD_PG_DRIVER, *values)
        else:
            found = (await self.run(_RECORD_PG, params)).mappings().first()
        if found is None:
            return None
        return RecordedCheckin(
            balance=int(found["points"]),
            best_streak=int(found["best_streak"]),
            rank=int(found["rank"]),
            earned=int(found["points_earned"]),
            spend=int(found["spend"]),
        )

    def _record_on_sqlite(
        self,
        sqlite: Any,
        chat_pk: int,
        user_id: int,
        award: CheckinAward,
        at: dt.datetime,
        entries: Sequence[PointsEntry],
    ) -> RecordedCheckin | None:
        """The record's statements on sqlite3 itself (Repository.driver): microseconds each,
        on the loop's thread inside the transaction that holds the write lock."""
        encode = encoder(self.session)
        params: dict[str, Any] = {
            "chat_pk": chat_pk,
            "user_id": user_id,
            "day": encode(award.day),
            "at": encode(at),
            "streak": award.streak,
            "total": award.total,
            "kind": str(EventKind.CHECKIN),
        }
        if sqlite.execute(_SQLITE_CHECKIN, params).fetchone() is None:
            return None
        gained = earned = 0
        for entry in entries:
            if not entry.delta:
                continue
            entry_params = {**params, "delta": entry.delta, "reason": entry.reason}
            if sqlite.execute(_SQLITE_ENTRY, {**entry_params, "key": entry.key}).fetchone():
                gained += entry.delta
                earned += max(entry.delta, 0)
        moved = {**params, "gained": gained, "earned": earned}
        points, best, total, spend = sqlite.execute(_SQLITE_MEMBER, moved).fetchone()
        if earned:
            sqlite.execute(_SQLITE_MONTH, {**moved, "month": encode(month_of(award.day))})
        sqlite.execute(_SQLITE_EVENT, params)
        sqlite.execute(_SQLITE_DAY, params)  # the daily rollup (storage/repositories/stats.py)
        (rank,) = sqlite.execute(_SQLITE_RANK, params).fetchone()
        return RecordedCheckin(
            balance=int(points), best_streak=int(best), rank=int(rank), earned=int(total),
            spend=int(spend),
        )  # fmt: skip


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

    async def chats_of(self, user_id: int) -> list[int]:
        rows = await self.run(
            select(LT.c.chat_id).where(LT.c.user_id == user_id).distinct().order_by(LT.c.chat_id)
        )
        return [int(pk) for (pk,) in rows]

    async def statement(self, chat_pk: int, user_id: int, limit: int) -> list[StatementLine]:
        """Newest first; a shop entry names its item (the redemption shares its key)."""
        r, i = ShopRedemptionRow.__table__.c, ShopItemRow.__table__.c
        rows = await self.run(
            select(LT.c.at, LT.c.delta, LT.c.reason, i.name, i.kind)
            .select_from(
                LT.outerjoin(
                    ShopRedemptionRow.__table__, r.idempotency_key == LT.c.idempotency_key
                ).outerjoin(ShopItemRow.__table__, i.id == r.item_id)
            )
            .where(LT.c.chat_id == chat_pk, LT.c.user_id == user_id)
            .order_by(LT.c.at.desc(), LT.c.id.desc())
            .limit(limit)
        )
        return [
            StatementLine(at=aware(row.at) or row.at, delta=int(row.delta), reason=row.reason,
                          item=row.name, item_kind=row.kind)
            for row in rows
        ]  # fmt: skip

    async def expiry_standings(self, chat_pk: int, *cutoffs: dt.datetime) -> list[ExpiryStanding]:
        """One aggregate over the group's ledger (a sum per cutoff), joined to the balances:
        members whose points earned before the last cutoff exceed all their debits, and who
        hold points."""
        assert cutoffs and list(cutoffs) == sorted(cutoffs)
        earned = [
            func.coalesce(
                func.sum(case(((LT.c.delta > 0) & (LT.c.at < cut), LT.c.delta), else_=0)), 0
            )
            for cut in cutoffs
        ]
        debits = func.coalesce(func.sum(case((LT.c.delta < 0, -LT.c.delta), else_=0)), 0)
        m = MT.c
        labelled = [sum_.label(f"earned{n}") for n, sum_ in enumerate(earned)]
        sums = (
            select(LT.c.user_id, *labelled, debits.label("debits"))
            .where(LT.c.chat_id == chat_pk)
            .group_by(LT.c.user_id)
            .having(earned[-1] > debits)
            .subquery()
        )
        columns = [sums.c[f"earned{n}"] for n in range(len(cutoffs))]
        rows = await self.run(
            select(sums.c.user_id, sums.c.debits, m.points, *columns)
            .join(MT, (m.chat_id == chat_pk) & (m.user_id == sums.c.user_id))
            .where(m.points > 0)
            .order_by(sums.c.user_id)
        )
        found = []
        for row in rows:
            earned_by = tuple(int(row[3 + n]) for n in range(len(cutoffs)))
            found.append(
                ExpiryStanding(int(row.user_id), earned_by, int(row.debits), int(row.points))
            )
        return found
