"""Member summaries, lifecycle stages, RFM scores and segment counts.

The rules are campaigns/segments.py (stage_of, score_group); here they run over a whole group
in the database, one statement each, so a group of a million members is scored without
loading it (tests/storage/test_segments.py holds the SQL to the rules on random groups).

Times are compared as whole seconds since the epoch, as campaigns.segments.days_since counts
them: `epoch_seconds` is the one expression for it on SQLite and PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import math
import sqlite3
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import (
    BigInteger,
    Column,
    Date,
    Index,
    Integer,
    MetaData,
    Table,
    and_,
    bindparam,
    case,
    delete,
    func,
    literal,
    null,
    or_,
    select,
    text,
    union_all,
    update,
)
from sqlalchemy import cast as sa_cast
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.functions import FunctionElement

from campaigns.members import EventKind
from campaigns.ports.segments import ActiveDay, ListedMember, MemberSegments, StageChange
from campaigns.segments import (
    ACTIVE_DAY_CUTOFFS,
    MAX_DAYS,
    ORDER_CUTOFFS,
    QUINTILE_MIN,
    RECENCY_CUTOFFS,
    SEGMENT_GRID,
    SPEND_CUTOFFS,
    Cutoffs,
    Stage,
    StageThresholds,
    band_cutoffs,
)
from storage.inline_sqlite import long_statements
from storage.local_day import local_day, local_day_within
from storage.models import (
    ChatRow,
    EventRow,
    MemberDayRow,
    MemberMonthRow,
    MembershipRow,
    OrderRow,
    SegmentCountRow,
    UserRow,
)
from storage.repositories import stats as daily
from storage.repositories.activity import SqlEvents
from storage.repositories.base import (
    Repository,
    insert_for,
    json_rows,
    prepared,
    rows_param,
)
from storage.repositories.orders import SqlOrders

MT = cast(Table, MembershipRow.__table__)
ET = cast(Table, EventRow.__table__)
MD = cast(Table, MemberDayRow.__table__)
MM = cast(Table, MemberMonthRow.__table__)
SC = cast(Table, SegmentCountRow.__table__)
OT = cast(Table, OrderRow.__table__)
UT = cast(Table, UserRow.__table__)
CH = cast(Table, ChatRow.__table__)
NEVER = MAX_DAYS * 10  # the recency of a member with no order (activity) at all
DIMENSIONS = ("stage", "rfm", "tier")
KEYS_AT_ONCE = 5_000  # rows rewritten by key in one statement (within both drivers' limits)
REWRITTEN_BY_KEY = 50_000  # more changed scores than this: one UPDATE over the group instead


def _scratch(name: str, *columns: Column[Any]) -> Table:
    """A temporary table of the rebuild's (created and dropped inside its transaction, so a
    failure leaves none behind)."""
    return Table(name, MetaData(), *columns, prefixes=["TEMPORARY"])


class epoch_seconds(FunctionElement[int]):
    """Whole seconds since the epoch of a stored time (floor)."""

    type = BigInteger()
    inherit_cache = True


@compiles(epoch_seconds, "postgresql")
def _epoch_pg(element: Any, compiler: Any, **kw: Any) -> str:
    # date_part is a double (exact to the microsecond until 2106); extract() is a numeric,
    # three times the work per row, which a histogram of a million members pays in full.
    return f"CAST(floor(date_part('epoch', {compiler.process(element.clauses, **kw)})) AS BIGINT)"


@compiles(epoch_seconds, "sqlite")
def _epoch_sqlite(element: Any, compiler: Any, **kw: Any) -> str:
    at = compiler.process(element.clauses, **kw)
    if sqlite3.sqlite_version_info >= (3, 38):  # the same seconds, as an integer: twice as fast
        return f"unixepoch({at})"
    return f"CAST(strftime('%s', {at}) AS INTEGER)"


class month_start(FunctionElement[dt.date]):
    """The first day of a date's month."""

    type = Date()
    inherit_cache = True


@compiles(month_start, "postgresql")
def _month_start_pg(element: Any, compiler: Any, **kw: Any) -> str:
    # A date as a timestamp without a time zone: date_trunc then needs no zone's rules.
    day = compiler.process(element.clauses, **kw)
    return f"CAST(date_trunc('month', CAST({day} AS TIMESTAMP)) AS DATE)"


@compiles(month_start, "sqlite")
def _month_start_sqlite(element: Any, compiler: Any, **kw: Any) -> str:
    return f"date({compiler.process(element.clauses, **kw)}, 'start of month')"


def _new_days(insert: Any) -> Any:
    columns = [MD.c.chat_id, MD.c.user_id, MD.c.day]
    return (
        insert(MD)
        .from_select([c.name for c in columns], json_rows(insert, *columns))
        .on_conflict_do_nothing(index_elements=["chat_id", "user_id", "day"])
        .returning(MD.c.chat_id, MD.c.user_id, MD.c.day)
    )


def _bump_months(insert: Any) -> Any:
    columns = [MM.c.chat_id, MM.c.user_id, MM.c.month, MM.c.active_days, MM.c.orders, MM.c.spend]
    zero = literal(0, BigInteger).label("points_earned")
    stmt = insert(MM).from_select(
        [*(c.name for c in columns), "points_earned"],
        json_rows(insert, *columns).add_columns(zero),
    )
    new = stmt.excluded
    return stmt.on_conflict_do_update(
        index_elements=["chat_id", "user_id", "month"],
        set_={
            "active_days": MM.c.active_days + new.active_days,
            "orders": MM.c.orders + new.orders,
            "spend": MM.c.spend + new.spend,
        },
    )


def _later(column: Any, value: Any) -> Any:
    """The later of a stored value (None: none yet) and a new one."""
    return case((column.is_(None) | (column < value), value), else_=column)


def _bump_members(insert: Any) -> Any:
    got = json_rows(
        insert,
        MT.c.chat_id,
        MT.c.user_id,
        Column("n", Integer),
        Column("nw", Integer),
        Column("day", Date),
    ).subquery()
    return (
        update(MT)
        .where(MT.c.chat_id == got.c.chat_id, MT.c.user_id == got.c.user_id)
        .values(
            active_days=MT.c.active_days + got.c.n,
            w_days=MT.c.w_days + got.c.nw,
            last_active_day=_later(MT.c.last_active_day, got.c.day),
        )
    )


_NEW_DAYS = prepared(_new_days)
_BUMP_MONTHS = prepared(_bump_months)
_BUMP_MEMBERS = prepared(_bump_members)


def _day(value: Any) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))


def month_of(day: dt.date) -> dt.date:
    return day.replace(day=1)


class SqlSegments(Repository):
    async def active_days(self, days: Sequence[ActiveDay]) -> int:
        if not days:
            return 0
        in_window = {(d.chat_pk, d.user_id, d.day): d.in_window for d in days}
        unique = sorted(in_window)
        rows = [{"chat_id": c, "user_id": u, "day": day} for c, u, day in unique]
        params = {"rows": rows_param(self.session, rows)}
        returned: list[Any] = list(await self.run(_NEW_DAYS(self.session), params))
        new: list[tuple[int, int, dt.date]] = [(int(r[0]), int(r[1]), _day(r[2])) for r in returned]
        if not new:
            return 0
        per_day = Counter((chat_pk, day) for chat_pk, _user, day in new)
        await daily.add_days(self, {key: {"active": n} for key, n in per_day.items()})
        per_month: Counter[tuple[int, int, dt.date]] = Counter()
        latest: dict[tuple[int, int], dt.date] = {}
        for chat_pk, user_id, day in new:
            per_month[(chat_pk, user_id, month_of(day))] += 1
            key = (chat_pk, user_id)
            latest[key] = max(latest.get(key, day), day)
        await self._months(
            [
                {"chat_id": c, "user_id": u, "month": m, "active_days": n, "orders": 0, "spend": 0}
                for (c, u, m), n in sorted(per_month.items())
            ]
        )
        gained = Counter((c, u) for c, u, _ in new)
        windowed = Counter((c, u) for c, u, d in new if in_window.get((c, u, d), True))
        members = [
            {"chat_id": c, "user_id": u, "n": n, "nw": windowed[(c, u)], "day": latest[(c, u)]}
            for (c, u), n in sorted(gained.items())
        ]
        await self.run(_BUMP_MEMBERS(self.session), {"rows": rows_param(self.session, members)})
        return len(new)

    async def _months(self, rows: list[dict[str, Any]]) -> None:
        await self.run(_BUMP_MONTHS(self.session), {"rows": rows_param(self.session, rows)})

    async def order_seen(
        self,
        chat_pk: int,
        user_id: int,
        amount: int,
        at: dt.datetime,
        month: dt.date,
        *,
        in_window: bool = True,
    ) -> None:
        inside = 1 if in_window else 0
        await self.session.execute(
            update(MT)
            .where(MT.c.chat_id == chat_pk, MT.c.user_id == user_id)
            .values(
                orders=MT.c.orders + 1,
                spend=MT.c.spend + amount,
                w_orders=MT.c.w_orders + inside,
                w_spend=MT.c.w_spend + amount * inside,
                last_order_at=_later(MT.c.last_order_at, at),
                last_active_at=_later(MT.c.last_active_at, at),  # buying is activity too
            )
            .execution_options(synchronize_session=False)
        )
        row = {
            "chat_id": chat_pk,
            "user_id": user_id,
            "month": month,
            "active_days": 0,
            "orders": 1,
            "spend": amount,
        }
        await self._months([row])

    async def thresholds(self, chat_pk: int) -> StageThresholds:
        stored = await self.session.scalar(select(CH.c.segments).where(CH.c.id == chat_pk))
        return StageThresholds.model_validate(stored or {})

    async def set_thresholds(self, chat_pk: int, thresholds: StageThresholds) -> None:
        await self.session.execute(
            update(CH).where(CH.c.id == chat_pk).values(segments=thresholds.model_dump())
        )

    async def keep_window(self, chat_pk: int, window_from: dt.date) -> bool:
        start = month_of(window_from)
        old = await self.session.scalar(select(CH.c.rfm_from).where(CH.c.id == chat_pk))
        old = _day(old) if old is not None else None
        if old == start:
            return False
        # Claim the move first: a second process doing the same waits on this row, then
        # finds it moved (rowcount 0) and leaves the counters alone.
        claimed = await self.session.execute(
            update(CH)
            .where(
                CH.c.id == chat_pk, CH.c.rfm_from.is_(None) if old is None else CH.c.rfm_from == old
            )
            .values(rfm_from=start)
        )
        if not claimed.rowcount:  # type: ignore[attr-defined]
            return False
        if old is None or start < old:
            await self._sum_window(chat_pk, start)
        else:
            await self._take_out(chat_pk, old, start)
        return True

    async def _sum_window(self, chat_pk: int, start: dt.date) -> None:
        """Every member's window counters, summed afresh from the buckets since `start`."""
        await self.session.execute(
            update(MT)
            .where(await self._group(chat_pk))
            .where((MT.c.w_orders != 0) | (MT.c.w_spend != 0) | (MT.c.w_days != 0))
            .values(w_orders=0, w_spend=0, w_days=0)
            .execution_options(synchronize_session=False)
        )
        sums = _bucket_sums(chat_pk, MM.c.month >= start)
        await self.session.execute(
            update(MT)
            .where(MT.c.chat_id == chat_pk, MT.c.user_id == sums.c.user_id)
            .values(w_orders=sums.c.orders, w_spend=sums.c.spend, w_days=sums.c.days)
            .execution_options(synchronize_session=False)
        )

    async def _take_out(self, chat_pk: int, old: dt.date, start: dt.date) -> None:
        """The months from `old` up to `start` left the window: out of the counters."""
        gone = _bucket_sums(chat_pk, (MM.c.month >= old) & (MM.c.month < start))
        await self.session.execute(
            update(MT)
            .where(MT.c.chat_id == chat_pk, MT.c.user_id == gone.c.user_id)
            .values(
                w_orders=MT.c.w_orders - gone.c.orders,
                w_spend=MT.c.w_spend - gone.c.spend,
                w_days=MT.c.w_days - gone.c.days,
            )
            .execution_options(synchronize_session=False)
        )

    async def rebuild(self, chat_pk: int, timezone: str, window_from: dt.date | None) -> int:
        # The usual 64 MB per hash step: 512 MB measured no faster at 10,000,000 messages
        # (106 s against 107 s), and a plan holds several steps.
        await self._reading_much()
        # The member days the messages say, first: on SQLite this first write takes the
        # database's write lock, so what follows reads what no writer changes meanwhile.
        messages = (await rows_of(self.session, ET, chat_pk), ET.c.kind == str(EventKind.MESSAGE))
        said = select(
            ET.c.chat_id, ET.c.user_id,
            (await self._local_day(ET.c.at, timezone, ET.c.chat_id == chat_pk)).label("day"),
        ).where(*messages)  # fmt: skip
        missing: Any
        if self.session.get_bind().dialect.name == "postgresql":
            # EXCEPT, not NOT EXISTS: a set operation is hashed or sorted. PostgreSQL planned
            # the anti-join as a nested loop over member_days when the first rebuild found it
            # empty, and the rows this very INSERT adds made each step longer (20 minutes
            # and counting for a million messages).
            missing = said.except_(
                select(MD.c.chat_id, MD.c.user_id, MD.c.day).where(MD.c.chat_id == chat_pk)
            )
        else:
            # SQLite has no hash: its EXCEPT sorts both sides, while NOT EXISTS is one probe
            # of the unique index per message (4.4 s against 10 s for 1,000,000 messages with
            # nothing missing; about even with every day missing). Repeats of a day within
            # the messages meet ON CONFLICT below.
            heard = said.subquery()
            missing = select(heard.c.chat_id, heard.c.user_id, heard.c.day).where(
                ~select(MD.c.id)
                .where(
                    MD.c.chat_id == heard.c.chat_id,
                    MD.c.user_id == heard.c.user_id,
                    MD.c.day == heard.c.day,
                )
                .exists()
            )
        await self.session.execute(
            insert_for(self.session, MD)
            .from_select(["chat_id", "user_id", "day"], missing)
            .on_conflict_do_nothing(index_elements=["chat_id", "user_id", "day"])
        )
        o_day = await self._local_day(OT.c.at, timezone, OT.c.chat_id == chat_pk)
        counted = await self._count_months(chat_pk, o_day)
        await self._mend_months(chat_pk, counted)
        fixed = await self._rebuild_members(chat_pk, counted, window_from)
        await (await self.session.connection()).run_sync(counted.drop)
        return fixed

    async def _mend_months(self, chat_pk: int, counted: Table) -> None:
        """The group's monthly buckets made to say what `counted` does."""
        c = counted.c
        # What the buckets should say where they say otherwise: the counted months the table
        # has with other figures or lacks (id NULL), and the months it has that the log has
        # neither a member day nor an order of (zeroed; an equality anti-join on the counted
        # months, not a range per bucket). Gathered first, then written by id: an upsert of
        # every bucket costs twice an UPDATE per row, and locks even the unchanged ones.
        diff = _scratch(
            "rebuild_diff",
            Column("id", BigInteger), Column("user_id", BigInteger, nullable=False),
            Column("month", Date, nullable=False), Column("days", BigInteger, nullable=False),
            Column("orders", BigInteger, nullable=False),
            Column("spend", BigInteger, nullable=False),
        )  # fmt: skip
        conn = await self.session.connection()
        await conn.run_sync(diff.create)
        columns = ["id", "user_id", "month", "days", "orders", "spend"]
        zero = literal(0, BigInteger)

        def counts_something(bucket: Any) -> ColumnElement[bool]:
            return or_(bucket.active_days != 0, bucket.orders != 0, bucket.spend != 0)

        if self.session.get_bind().dialect.name == "postgresql":
            # Both in one pass: a hash full join reads the buckets and the counted months
            # once, where the two statements below read each twice (19 s for ten million
            # messages' 6.7 million months against 12.6 million buckets).
            kept = select(MM).where(MM.c.chat_id == chat_pk).subquery()
            k = kept.c
            both = counted.join(kept, and_(k.user_id == c.user_id, k.month == c.month), full=True)
            await self.session.execute(
                diff.insert().from_select(
                    columns,
                    select(
                        k.id, func.coalesce(c.user_id, k.user_id), func.coalesce(c.month, k.month),
                        func.coalesce(c.days, zero), func.coalesce(c.orders, zero),
                        func.coalesce(c.spend, zero),
                    )
                    .select_from(both)
                    .where(
                        k.id.is_(None)
                        | (c.user_id.is_(None) & counts_something(k))
                        | (k.active_days != c.days)
                        | (k.orders != c.orders)
                        | (k.spend != c.spend)
                    ),
                )
            )  # fmt: skip
        else:
            stored = and_(MM.c.chat_id == chat_pk, MM.c.user_id == c.user_id, MM.c.month == c.month)
            await self.session.execute(
                diff.insert().from_select(
                    columns,
                    select(MM.c.id, c.user_id, c.month, c.days, c.orders, c.spend)
                    .select_from(counted.outerjoin(MM, stored))
                    .where(
                        MM.c.id.is_(None)
                        | (MM.c.active_days != c.days)
                        | (MM.c.orders != c.orders)
                        | (MM.c.spend != c.spend)
                    ),
                )
            )
            counts_it = select(c.user_id).where(c.user_id == MM.c.user_id, c.month == MM.c.month)
            await self.session.execute(
                diff.insert().from_select(
                    columns,
                    select(MM.c.id, MM.c.user_id, MM.c.month, zero, zero, zero).where(
                        MM.c.chat_id == chat_pk, counts_something(MM.c), ~counts_it.exists()
                    ),
                )
            )
        await self._analyzed(diff)
        d = diff.c
        await self.session.execute(
            update(MM)
            .where(MM.c.id == d.id)
            .values(active_days=d.days, orders=d.orders, spend=d.spend)
            .execution_options(synchronize_session=False)
        )
        # Months the table lacks. ON CONFLICT: the bot may have added one meanwhile.
        upsert = insert_for(self.session, MM).from_select(
            ["chat_id", "user_id", "month", "active_days", "orders", "spend", "points_earned"],
            select(literal(chat_pk), d.user_id, d.month, d.days, d.orders, d.spend, zero).where(
                d.id.is_(None)
            ),
        )
        new = upsert.excluded
        await self.session.execute(
            upsert.on_conflict_do_update(
                index_elements=["chat_id", "user_id", "month"],
                set_={"active_days": new.active_days, "orders": new.orders, "spend": new.spend},
            )
        )
        await conn.run_sync(diff.drop)

    async def _local_day(self, at: Any, timezone: str, *where: ColumnElement[bool]) -> Any:
        """The local day of `at`, over the rows `where` selects: as fast as the database
        can (storage.local_day.local_day_within), knowing their first and last instant."""
        # One at a time: each is then a single step of an index on (chat_id, at).
        first = await self.session.scalar(select(func.min(at)).where(*where))
        last = await self.session.scalar(select(func.max(at)).where(*where))
        if first is None or last is None:
            return local_day(at, literal(timezone))
        return local_day_within(at, timezone, first, last, self.session.get_bind().dialect.name)

    async def _count_months(self, chat_pk: int, o_day: Any) -> Table:
        """Per member and month, what the member days and orders count: a temporary table,
        read three times by what follows (per bucket, per missing bucket, per member) instead
        of the log being grouped again each time.

        The member days' months go in first, then the orders' months are added to them by
        key: a union of both grouped again sorted (SQLite) or hashed (PostgreSQL) all 7
        million member-months of a big group once more, for the 666,000 orders' sake."""
        counted = _scratch(
            "rebuild_counted",
            Column("user_id", BigInteger, nullable=False),
            Column("month", Date, nullable=False),
            Column("days", BigInteger, nullable=False),
            Column("last_day", Date),
            Column("orders", BigInteger, nullable=False),
            Column("spend", BigInteger, nullable=False),
            Column("last_order", OT.c.at.type),
        )
        columns = ["user_id", "month", "days", "last_day", "orders", "spend", "last_order"]
        conn = await self.session.connection()
        await conn.run_sync(counted.create)
        day_month, order_month = month_start(MD.c.day), month_start(o_day)
        await self.session.execute(
            counted.insert().from_select(
                columns,
                select(
                    MD.c.user_id, day_month, func.count(), func.max(MD.c.day), literal(0),
                    literal(0), sa_cast(null(), OT.c.at.type),
                ).where(MD.c.chat_id == chat_pk).group_by(MD.c.user_id, day_month),
            )
        )  # fmt: skip
        key = Index(f"{counted.name}_key", counted.c.user_id, counted.c.month, unique=True)
        await conn.run_sync(key.create)
        months = insert_for(self.session, counted).from_select(
            columns,
            select(
                OT.c.user_id, order_month, literal(0), sa_cast(null(), Date), func.count(),
                cast_int(func.sum(OT.c.amount)), func.max(OT.c.at),
            ).where(OT.c.chat_id == chat_pk).group_by(OT.c.user_id, order_month),
        )  # fmt: skip
        ordered = months.excluded
        await self.session.execute(
            months.on_conflict_do_update(
                index_elements=["user_id", "month"],
                set_={
                    "orders": ordered.orders,
                    "spend": ordered.spend,
                    "last_order": ordered.last_order,
                },
            )
        )
        if self.session.get_bind().dialect.name == "postgresql":
            # Only the orders' upsert wants the key. Kept, PostgreSQL summed the members
            # through it, a random read of the table per row: 18 s of 22 for ten million
            # messages' months, where the hash of a plain scan takes a few.
            await conn.run_sync(key.drop)
        await self._analyzed(counted)
        return counted

    async def _analyzed(self, scratch: Table, key: Sequence[Any] = ()) -> None:
        """A filled scratch table ready to be joined: PostgreSQL's planner told its size (no
        autovacuum reaches a temporary table), SQLite given an index on `key` to look up."""
        if self.session.get_bind().dialect.name == "postgresql":
            await self.session.execute(text(f"ANALYZE {scratch.name}"))
        elif key:
            index = Index(f"{scratch.name}_key", *key)
            await (await self.session.connection()).run_sync(index.create)

    async def _rebuild_members(
        self, chat_pk: int, counted: Table, window_from: dt.date | None
    ) -> int:
        """Each member's summary from the counted months; members with none emptied. The
        window is whole months (keep_window stores a month's first day), as the writes and
        _sum_window count it."""
        c = counted.c
        inside = literal(True) if window_from is None else c.month >= month_of(window_from)
        per_member = (
            select(
                c.user_id,
                cast_int(func.sum(c.days)).label("active_days"),
                func.max(c.last_day).label("last_active_day"),
                cast_int(func.sum(case((inside, c.days), else_=0))).label("w_days"),
                cast_int(func.sum(c.orders)).label("orders"),
                cast_int(func.sum(c.spend)).label("spend"),
                func.max(c.last_order).label("last_order_at"),
                cast_int(func.sum(case((inside, c.orders), else_=0))).label("w_orders"),
                cast_int(func.sum(case((inside, c.spend), else_=0))).label("w_spend"),
            )
            .group_by(c.user_id)
            .subquery()
        )
        empty: dict[str, Any] = {
            "active_days": 0, "last_active_day": None, "w_days": 0, "orders": 0, "spend": 0,
            "last_order_at": None, "w_orders": 0, "w_spend": 0,
        }  # fmt: skip
        done = await self.session.execute(
            update(MT)
            .where(
                MT.c.chat_id == chat_pk,
                MT.c.user_id == per_member.c.user_id,
                or_(*(MT.c[name].is_distinct_from(per_member.c[name]) for name in empty)),
            )
            .values({name: per_member.c[name] for name in empty})
            .execution_options(synchronize_session=False)
        )
        emptied = await self.session.execute(
            update(MT)
            .where(
                MT.c.chat_id == chat_pk,
                or_(*(MT.c[name].is_distinct_from(value) for name, value in empty.items())),
                ~select(c.user_id).where(c.user_id == MT.c.user_id).exists(),
            )
            .values(empty)
            .execution_options(synchronize_session=False)
        )
        return int(done.rowcount) + int(emptied.rowcount)  # type: ignore[attr-defined]

    async def refresh(
        self, chat_pk: int, now: dt.datetime, thresholds: StageThresholds
    ) -> list[StageChange]:
        """stage_of and score_group over the group: the histograms of R, F and M give the
        quintile cut-offs (per distinct value, a few thousand recencies and frequencies), then
        one read finds the rows whose stage or scores change, and only they are rewritten,
        by key. Members without a stage yet come from their partial index."""
        group = await self._group(chat_pk)
        stage = stage_expression(now, thresholds)
        # The group's row first, locked: two refreshes of one group take turns, so one that
        # read an older basis cannot write its segments after another stored a newer one.
        # (NO KEY UPDATE: rows that refer to the group are still written meanwhile.)
        basis = await self.session.scalar(
            select(CH.c.rfm_by_orders).where(CH.c.id == chat_pk).with_for_update(key_share=True)
        )
        by_orders = await SqlOrders(self.session).any_in(chat_pk)
        r, f, m, segment = await self._scores(group, now, by_orders=by_orders)
        present = MT.c.present.is_(True)
        changed = (
            MT.c.rfm_r.is_distinct_from(r)
            | MT.c.rfm_f.is_distinct_from(f)
            | MT.c.rfm_m.is_distinct_from(m)
        )
        # A segment is written with its scores, from them and what F and M counted: while
        # that is what it was, equal scores mean an equal segment. When it changed (the
        # group's first or last order), the stored scores' segment is checked too (cheaper
        # than the new scores' all over again: reached only when they equal the stored ones).
        if basis is None or bool(basis) != by_orders:
            changed = changed | MT.c.rfm_segment.is_distinct_from(
                segment_expression(MT.c.rfm_r, MT.c.rfm_f, MT.c.rfm_m if by_orders else MT.c.rfm_f)
            )
            await self.session.execute(
                update(CH).where(CH.c.id == chat_pk).values(rfm_by_orders=by_orders)
            )
        rescore = (present & changed) | (MT.c.present.is_(False) & MT.c.rfm_r.is_not(None))
        restage = MT.c.stage.is_not(None) & (MT.c.stage != stage)
        # One read of the group for both (each is a whole read of a wide table). A first
        # run, or a day that moves many, returns more than is worth rewriting by key: the
        # stage changes are then read on their own and the scores rewritten in one UPDATE.
        await self._gathering_cheap()
        found = (
            await self.session.execute(
                select(
                    MT.c.id,
                    MT.c.user_id,
                    MT.c.stage,
                    stage.label("new"),
                    case((rescore, 1), else_=0).label("rescore"),
                )
                .where(group, restage | rescore)
                .limit(REWRITTEN_BY_KEY + 1)
            )
        ).all()
        scored = update(MT).values(
            rfm_r=case((present, r), else_=None),
            rfm_f=case((present, f), else_=None),
            rfm_m=case((present, m), else_=None),
            rfm_segment=case((present, segment), else_=None),
        )
        if len(found) > REWRITTEN_BY_KEY:
            found = (
                await self.session.execute(
                    select(MT.c.id, MT.c.user_id, MT.c.stage, stage.label("new")).where(
                        group, restage
                    )
                )
            ).all()
            await self.session.execute(
                scored.where(group, rescore).execution_options(synchronize_session=False)
            )
        else:
            await self._by_key(scored, [row.id for row in found if row.rescore])
        restaged = sorted(
            (row for row in found if row.stage is not None and row.stage != row.new),
            key=lambda row: int(row.user_id),
        )
        await self.session.execute(
            update(MT)
            .where(MT.c.chat_id == chat_pk, MT.c.stage.is_(None))
            .values(stage=stage, stage_since=now)
            .execution_options(synchronize_session=False)
        )
        await self._by_key(
            update(MT).values(stage=stage, stage_since=now), [row.id for row in restaged]
        )
        changes = [StageChange(int(r.user_id), str(r.stage), str(r.new)) for r in restaged]
        await SqlEvents(self.session).add(
            [
                (chat_pk, c.user_id, EventKind.STAGE, now, None, {"from": c.old, "to": c.new})
                for c in changes
            ]
        )
        return changes

    async def _scores(
        self, group: ColumnElement[bool], now: dt.datetime, *, by_orders: bool
    ) -> tuple[Any, Any, Any, Any]:
        """R, F, M and the segment of a membership row as SQL expressions, by the group's
        quintile cut-offs (the fixed ones below QUINTILE_MIN scored members)."""
        measures = rfm_measures(now, by_orders=by_orders)
        n, bands = await self._bands(and_(group, MT.c.present.is_(True)), measures)
        cutoffs: tuple[Cutoffs, Cutoffs, Cutoffs]
        if n >= QUINTILE_MIN:
            cutoffs = (
                band_cutoffs(bands.get(0, {}), lower_is_better=True),
                band_cutoffs(bands.get(1, {})),
                band_cutoffs(bands.get(2, {})),
            )
        else:
            frequency = ORDER_CUTOFFS if by_orders else ACTIVE_DAY_CUTOFFS
            cutoffs = (RECENCY_CUTOFFS, frequency, SPEND_CUTOFFS)
        r, f, m = rfm_score_expressions(now, measures, *cutoffs)
        return r, f, m, segment_expression(r, f, m if by_orders else f)

    async def _by_key(self, statement: Any, ids: Sequence[int]) -> None:
        """An UPDATE of the membership rows `ids`, a batch of keys at a time."""
        statement = statement.where(MT.c.id.in_(bindparam("ids", expanding=True)))
        statement = statement.execution_options(synchronize_session=False)
        for at in range(0, len(ids), KEYS_AT_ONCE):
            await self.session.execute(statement, {"ids": list(ids[at : at + KEYS_AT_ONCE])})

    async def _bands(
        self, where: ColumnElement[bool], measures: RfmMeasures
    ) -> tuple[int, dict[int, dict[int, tuple[int, int]]]]:
        """How many members `where` selects and, per measure (0 R, 1 F, 2 M), the least and
        most value of each quintile score among them: campaigns.segments.quintile_cutoffs
        in the database, over the measures' histograms (one read of the group on
        PostgreSQL, by grouping sets)."""
        facts = select(
            measures.recency.label("rd"),
            measures.frequency.label("fr"),
            measures.monetary.label("mo"),
        ).where(where)
        h: Any
        g: Any
        if self.session.get_bind().dialect.name == "postgresql":
            g = facts.subquery()
            which = case((func.grouping(g.c.rd) == 0, 0), (func.grouping(g.c.fr) == 0, 1), else_=2)
            h = (
                select(
                    which.label("m"),
                    func.coalesce(g.c.rd, g.c.fr, g.c.mo).label("v"),
                    func.count().label("c"),
                )
                .group_by(func.grouping_sets(g.c.rd, g.c.fr, g.c.mo))
                .subquery()
            )
        else:
            g = facts.cte("facts")
            h = union_all(
                *(
                    select(
                        literal(i).label("m"), column.label("v"), func.count().label("c")
                    ).group_by(column)
                    for i, column in enumerate((g.c.rd, g.c.fr, g.c.mo))
                )
            ).subquery()
        k = select(
            h.c.m,
            h.c.v,
            cast_int(h.c.c).label("c"),
            cast_int(func.sum(h.c.c).over(partition_by=h.c.m, order_by=h.c.v)).label("upto"),
            cast_int(func.sum(h.c.c).over(partition_by=h.c.m)).label("n"),
        ).subquery()
        worse = case((k.c.m == 0, k.c.n - k.c.upto), else_=k.c.upto - k.c.c)  # R: lower is better
        scored = select(k.c.m, _mid_rank(worse, k.c.c, k.c.n).label("s"), k.c.v, k.c.c).subquery()
        rows = await self.session.execute(
            select(
                scored.c.m,
                scored.c.s,
                func.min(scored.c.v),
                func.max(scored.c.v),
                func.sum(scored.c.c),
            ).group_by(scored.c.m, scored.c.s)
        )
        bands: dict[int, dict[int, tuple[int, int]]] = {}
        n = 0
        for measure, score, least, most, members in rows:
            bands.setdefault(int(measure), {})[int(score)] = (int(least), int(most))
            if int(measure) == 1:
                n += int(members)
        return n, bands

    async def _reading_much(self) -> None:
        """For the rest of the transaction, on PostgreSQL: hashes and sorts in memory, and no
        JIT (compiling the statements costs more than it saves); on SQLite: statements on the
        connection's thread, not the loop's."""
        if self.session.get_bind().dialect.name == "postgresql":
            await self.session.execute(text("SET LOCAL work_mem = '64MB'"))
            await self.session.execute(text("SET LOCAL jit = off"))
        else:
            await long_statements(self.session)  # off the loop's thread (seconds on a big group)

    async def _gathering_cheap(self) -> None:
        """On PostgreSQL, for the rest of the transaction: gathering rows from parallel
        workers priced at a tenth of the default. The changes read's filter is estimated
        to keep nearly every row (it keeps few), and under its LIMIT the default price of
        gathering all of those made the planner scan serially: 0.8 s against 0.45 s with
        two workers on a million members. The statements after it write by key."""
        if self.session.get_bind().dialect.name == "postgresql":
            await self.session.execute(text("SET LOCAL parallel_tuple_cost = 0.01"))

    async def _group(self, chat_pk: int) -> ColumnElement[bool]:
        """The group's membership rows (memberships_of), for a statement that reads all of
        them, with the transaction set for such reads (_reading_much)."""
        await self._reading_much()
        return await memberships_of(self.session, chat_pk)

    async def save_counts(self, chat_pk: int, day: dt.date) -> None:
        """One pass over the group: stages count everyone, RFM segments and tiers the
        present members."""
        await self.session.execute(delete(SC).where(SC.c.chat_id == chat_pk, SC.c.day == day))
        found = await self.session.execute(
            select(MT.c.present, MT.c.stage, MT.c.rfm_segment, MT.c.tier, func.count())
            .where(MT.c.chat_id == chat_pk)  # one index alone (chat_segments; SQLite: summary)
            .group_by(MT.c.present, MT.c.stage, MT.c.rfm_segment, MT.c.tier)
        )
        counts: Counter[tuple[str, str]] = Counter()
        for present, stage, segment, tier, n in found:
            if stage is not None:
                counts[("stage", str(stage))] += int(n)
            if present and segment is not None:
                counts[("rfm", str(segment))] += int(n)
            if present:
                counts[("tier", str(tier))] += int(n)
        rows = [
            {"chat_id": chat_pk, "day": day, "dimension": dimension, "key": key, "members": n}
            for (dimension, key), n in sorted(counts.items())
        ]
        if rows:
            await self.session.execute(insert_for(self.session, SC), rows)

    async def counts_on(self, chat_pk: int, dimension: str, day: dt.date) -> dict[str, int] | None:
        rows = (
            await self.session.execute(
                select(SC.c.key, SC.c.members).where(
                    SC.c.chat_id == chat_pk, SC.c.day == day, SC.c.dimension == dimension
                )
            )
        ).all()
        if not rows:
            kept = await self.session.scalar(
                select(SC.c.id).where(SC.c.chat_id == chat_pk, SC.c.day == day).limit(1)
            )
            return {} if kept is not None else None
        return {str(key): int(n) for key, n in rows}

    async def of_members(self, chat_pk: int) -> dict[int, MemberSegments]:
        rows = await self.session.execute(
            select(
                MT.c.user_id, MT.c.stage, MT.c.rfm_r, MT.c.rfm_f, MT.c.rfm_m, MT.c.rfm_segment,
                MT.c.tier,
            ).where(MT.c.chat_id == chat_pk)
        )  # fmt: skip
        return {
            int(r.user_id): MemberSegments(
                r.stage, r.rfm_r, r.rfm_f, r.rfm_m, r.rfm_segment, int(r.tier)
            )
            for r in rows
        }

    async def members_in(
        self, chat_pk: int, dimension: str, key: str, *, offset: int, limit: int
    ) -> tuple[int, list[ListedMember]]:
        column = _dimension(dimension)
        value: Any = int(key) if dimension == "tier" else key
        where = and_(MT.c.chat_id == chat_pk, column == value, _counted(dimension))
        total = int(
            await self.session.scalar(select(func.count()).select_from(MT).where(where)) or 0
        )
        rows = await self.session.execute(
            select(
                MT.c.user_id,
                UT.c.first_name,
                UT.c.last_name,
                UT.c.username,
                MT.c.stage,
                MT.c.rfm_segment,
                MT.c.points,
                MT.c.orders,
                MT.c.spend,
            )
            .join(UT, UT.c.id == MT.c.user_id)
            .where(where)
            .order_by(MT.c.points.desc(), MT.c.user_id)
            .offset(offset)
            .limit(limit)
        )
        return total, [
            ListedMember(
                user_id=int(r.user_id),
                name=" ".join(p for p in (r.first_name, r.last_name) if p),
                username=r.username,
                stage=r.stage,
                segment=r.rfm_segment,
                points=int(r.points),
                orders=int(r.orders),
                spend=int(r.spend),
            )
            for r in rows
        ]


async def memberships_of(session: AsyncSession, chat_pk: int) -> ColumnElement[bool]:
    """The group's membership rows, for a statement that reads all or much of them
    (rows_of)."""
    return await rows_of(session, MT, chat_pk)


async def rows_of(session: AsyncSession, table: Table, chat_pk: int) -> ColumnElement[bool]:
    """The group's rows of `table` (keyed by `id`, with a `chat_id`), for a statement that
    reads all or much of them. SQLite would look each one up through an index leading with
    chat_id, which for a group holding much of the table costs up to ten times a plain scan
    (seven for an audience of a million members; 20.5 s against 0.8 s to read ten million
    logged messages in their index's order of time): there `chat_id + 0` keeps such indexes
    out (a covering one may still be scanned whole)."""
    chat_id, key = table.c.chat_id, table.c.id
    if session.get_bind().dialect.name != "sqlite":
        return chat_id == chat_pk
    rows = int(await session.scalar(select(func.max(key))) or 0)
    enough = select(literal(1)).where(chat_id == chat_pk).limit(rows // 8 + 1).subquery()
    held = int(await session.scalar(select(func.count()).select_from(enough)) or 0)
    if held <= rows // 8:
        return chat_id == chat_pk
    await long_statements(session)  # a whole big group: off the loop's thread
    return chat_id + 0 == chat_pk


def _dimension(dimension: str) -> Any:
    """The column a dimension is kept in (a tier by its level)."""
    columns = {"stage": MT.c.stage, "rfm": MT.c.rfm_segment, "tier": MT.c.tier}
    if dimension not in columns:
        raise ValueError(f"no such dimension {dimension!r}")
    return columns[dimension]


def _counted(dimension: str) -> ColumnElement[bool]:
    """Who a dimension counts: stages count everyone (left too), the others present members."""
    return literal(True) if dimension == "stage" else MT.c.present.is_(True)


def stage_expression(now: dt.datetime, thresholds: StageThresholds) -> Any:
    """campaigns.segments.stage_of as a SQL expression over a membership row."""
    since = func.coalesce(MT.c.last_active_at, MT.c.joined_at)
    new_cut = now - dt.timedelta(days=thresholds.new_days)
    silent_cut = now - dt.timedelta(days=thresholds.silent_days)
    dormant_cut = now - dt.timedelta(days=thresholds.dormant_days)
    stamp = MT.c.joined_at.type
    return case(
        (MT.c.present.is_(False), literal(str(Stage.LEFT))),
        (
            and_(MT.c.joined_at.is_not(None), MT.c.joined_at > bindparam(None, new_cut, stamp)),
            literal(str(Stage.NEW)),
        ),
        (since.is_(None), literal(str(Stage.DORMANT))),
        (since > bindparam(None, silent_cut, stamp), literal(str(Stage.ACTIVE))),
        (since > bindparam(None, dormant_cut, stamp), literal(str(Stage.SILENT))),
        else_=literal(str(Stage.DORMANT)),
    )


def _fixed(value: Any, cutoffs: Cutoffs, *, lower_is_better: bool = False) -> Any:
    """campaigns.segments.fixed_score in SQL."""
    return _plus_one(
        [
            case(((value <= c) if lower_is_better else (value >= c), 1), else_=0)
            for c in cutoffs
            if c is not None
        ]
    )


def _plus_one(terms: Sequence[Any]) -> Any:
    total: Any = literal(1, Integer)
    for term in terms:
        total = total + term
    return total


def _mid_rank(worse: Any, ties: Any, n: Any) -> Any:
    """campaigns.segments.mid_rank_score in SQL (integer division on both databases)."""
    raw = 1 + (5 * (2 * worse + ties)) // (2 * n)
    return case((raw > 5, 5), else_=raw)


def _bucket_sums(chat_pk: int, months: ColumnElement[bool]) -> Any:
    """Per member: the orders, spend and active days of the buckets in `months`."""
    return (
        select(
            MM.c.user_id,
            func.sum(MM.c.orders).label("orders"),
            func.sum(MM.c.spend).label("spend"),
            func.sum(MM.c.active_days).label("days"),
        )
        .where(MM.c.chat_id == chat_pk, months)
        .group_by(MM.c.user_id)
        .subquery()
    )


@dataclass(frozen=True)
class RfmMeasures:
    """A membership row's R, F and M as score_group reads them (recency in whole days, a
    member with no order or activity at all at NEVER), and the instant recency counts from."""

    last: Any
    recency: Any
    frequency: Any
    monetary: Any


def rfm_measures(now: dt.datetime, *, by_orders: bool) -> RfmMeasures:
    """In a group without orders, recency and frequency come from activity."""
    last = MT.c.last_order_at if by_orders else MT.c.last_active_at
    now_s = math.floor(now.timestamp())
    elapsed = (literal(now_s, BigInteger) - epoch_seconds(last)) // 86_400
    recency = case((last.is_(None), NEVER), (elapsed < 0, 0), else_=elapsed)
    frequency = MT.c.w_orders if by_orders else MT.c.w_days
    return RfmMeasures(last, recency, frequency, MT.c.w_spend)


def rfm_score_expressions(
    now: dt.datetime,
    measures: RfmMeasures,
    recency: Cutoffs,
    frequency: Cutoffs,
    monetary: Cutoffs,
) -> tuple[Any, Any, Any]:
    """R, F and M of a membership row by the group's cut-offs (campaigns.segments.fixed_score),
    with score_group's rule that nothing scores above nothing.

    Recency is compared as an instant, not counted in days per row: with e the whole seconds
    of the last order, days_since <= c exactly when e >= now - (c + 1) days + 1 s."""
    now_s = math.floor(now.timestamp())
    stamp = MT.c.joined_at.type
    r_terms: list[Any] = [
        case((measures.last >= bindparam(None, _instant(now_s - (c + 1) * 86_400 + 1), stamp), 1),
             else_=0)
        for c in recency
        if c is not None
    ]  # fmt: skip
    nothing = measures.last.is_(None)
    r = case((nothing, 1), else_=_plus_one(r_terms))
    f = case((nothing | (measures.frequency <= 0), 1), else_=_fixed(measures.frequency, frequency))
    m = case((nothing | (measures.monetary <= 0), 1), else_=_fixed(measures.monetary, monetary))
    return r, f, m


def _instant(seconds: int) -> dt.datetime:
    return dt.datetime.fromtimestamp(seconds, dt.UTC)


def cast_int(value: Any) -> Any:
    """A count or a sum of counts as an integer (PostgreSQL sums bigints as numeric)."""
    return sa_cast(value, BigInteger)


def segment_expression(r: Any, f: Any, m: Any) -> Any:
    """campaigns.segments.segment_of in SQL: FM is the mean of F and M, rounded half up.
    Nested by R, so a row is compared at most ten times, not once per cell of the grid."""
    fm = (f + m + 1) // 2
    by_r = [
        (
            r == score_r,
            case(*[(fm == 5 - i, literal(str(segment))) for i, segment in enumerate(row)]),
        )
        for score_r, row in SEGMENT_GRID.items()
    ]
    return case(*by_r, else_=None)
