"""The daily rollup (daily_stats) and the distinct counts /stats needs once per period.

Every write of a fact adds to its group's local day in the same transaction, so /stats reads
at most a few hundred rollup rows and never scans the event log:

counter                     added by                          recomputed from
joins, leaves, messages     SqlEvents.add                     activity_events by kind
active                      SqlSegments.active_days (a        member_days
                            member day stored the first time)
checkins                    SqlCheckins.record (in its own    checkins.day, not makeup
                            statement on PostgreSQL)
makeups                     SqlCheckins.makeup (补签卡)       checkins.day, makeup
invites_confirmed           SqlInvites.move to confirmed      invites.confirmed_at
coupons_claimed             SqlCoupons.issue                  coupons.issued_at
coupons_redeemed, discount  SqlCoupons.redeem                 coupons.redeemed_at
orders, gmv, first_orders   SqlOrders.add (an older order     orders (first: each
                            imported late moves the first)    buyer's earliest)

A fact lands on the local day of its own time (`storage/local_day.py`, the group's timezone
as stored when it is written), however late it is written: a late activity batch or an old
order imported today adds to its own day. `recompute` counts the same from the raw tables
(`growthbot stats --rebuild` stores it; a property test holds the two equal).
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, cast

from sqlalchemy import (
    BigInteger,
    Column,
    Date,
    Table,
    and_,
    case,
    delete,
    func,
    literal,
    literal_column,
    select,
    text,
    true,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.sql import ColumnElement

from campaigns.members import COMMAND, EventKind, counts_as_message
from campaigns.ports.stats import FactWindow
from campaigns.referral import InviteStatus
from campaigns.stats import COUNTERS, DayTotals, PeriodFacts
from storage.local_day import local_day
from storage.models import (
    ChatRow,
    CheckinRow,
    CouponRow,
    DailyStatsRow,
    EventRow,
    InviteRow,
    MemberDayRow,
    MembershipRow,
    OrderRow,
    UtcDateTime,
)
from storage.repositories.base import Repository, insert_for, json_rows, prepared, rows_param
from storage.repositories.members import present_then

DS = cast(Table, DailyStatsRow.__table__)
CH = cast(Table, ChatRow.__table__)
ET = cast(Table, EventRow.__table__)
MD = cast(Table, MemberDayRow.__table__)
MT = cast(Table, MembershipRow.__table__)
OT = cast(Table, OrderRow.__table__)
CT = cast(Table, CheckinRow.__table__)
IT = cast(Table, InviteRow.__table__)
CO = cast(Table, CouponRow.__table__)
BY_DAY: Any = literal_column("1")  # the local day, first column (it has a bound time zone)
_COUNTS = [Column(name, BigInteger) for name in COUNTERS]
EVENT_COUNTERS = {EventKind.JOIN: "joins", EventKind.LEAVE: "leaves", EventKind.MESSAGE: "messages"}


# PostgreSQL advisory locks on a group's rollup, one key per group (the bigint form, in a
# range of its own): every statement that adds to the rollup takes its groups' keys shared,
# in that same statement (no round trip more on the hot path), and holds them to the end of
# its transaction; `growthbot stats --rebuild` takes the group's key exclusively around its
# recount and rewrite. So a rebuild waits until every write that has already added to the
# group's rows has committed (its raw facts are then in the recount), and a write adding
# later waits for the rebuild and adds to the rewritten rows (its raw facts, uncommitted
# while the rebuild counted, were not in the recount): nothing is lost or counted twice.
# SQLite needs none of it: every writing transaction holds the database's write lock.
ROLLUP_LOCKS = 0x5354_0000_0000  # "ST" << 32: the keys are this + the group's pk


def _rollup_shared(insert: Any, chat_pk: Any) -> ColumnElement[bool]:
    """The condition that takes the group's rollup lock shared, row by row (true)."""
    if insert is postgresql.insert:
        key = literal(ROLLUP_LOCKS, BigInteger) + chat_pk
        return func.pg_advisory_xact_lock_shared(key).is_not(None)
    return true()


def _add_on_conflict(stmt: Any) -> Any:
    return stmt.on_conflict_do_update(
        index_elements=["chat_id", "day"],
        set_={name: DS.c[name] + stmt.excluded[name] for name in COUNTERS},
    )


def _bump_at(insert: Any) -> Any:
    """Rows (chat, instant, counters) added to the local day of each instant, in the group's
    timezone as stored: the day is decided in SQL (storage/local_day.py)."""
    rows = json_rows(
        insert, Column("chat_id", BigInteger), Column("at", UtcDateTime()), *_COUNTS
    ).subquery("r")
    day = local_day(rows.c.at, CH.c.timezone)
    source = (
        select(rows.c.chat_id, day.label("day"), *(func.sum(rows.c[n]).label(n) for n in COUNTERS))
        .select_from(rows.join(CH, CH.c.id == rows.c.chat_id))
        .where(_rollup_shared(insert, rows.c.chat_id))  # SQLite's upsert needs a WHERE too
        .group_by(rows.c.chat_id, day)
    )
    return _add_on_conflict(insert(DS).from_select(["chat_id", "day", *COUNTERS], source))


def _bump_day(insert: Any) -> Any:
    """Rows (chat, local day, counters), one per day, added to the stored days."""
    rows = json_rows(insert, Column("chat_id", BigInteger), Column("day", Date), *_COUNTS).subquery(
        "r"
    )
    source = select(rows.c.chat_id, rows.c.day, *(rows.c[n] for n in COUNTERS)).where(
        _rollup_shared(insert, rows.c.chat_id)  # SQLite's upsert after a SELECT needs a WHERE
    )
    return _add_on_conflict(insert(DS).from_select(["chat_id", "day", *COUNTERS], source))


_BUMP_AT = prepared(_bump_at)
_BUMP_DAY = prepared(_bump_day)


def _full(counts: Mapping[str, int]) -> dict[str, int]:
    return {**dict.fromkeys(COUNTERS, 0), **counts}


async def add_at(
    repo: Repository, entries: Iterable[tuple[int, dt.datetime, Mapping[str, int]]]
) -> None:
    """Inside the fact's transaction: add counters to the local day of each fact's time."""
    rows = [{"chat_id": c, "at": at, **_full(counts)} for c, at, counts in entries]
    if rows:
        await repo.run(_BUMP_AT(repo.session), {"rows": rows_param(repo.session, rows)})


async def add_days(
    repo: Repository, counts: Mapping[tuple[int, dt.date], Mapping[str, int]]
) -> None:
    """Inside the fact's transaction: add counters to days already known to be local."""
    rows = [{"chat_id": c, "day": day, **_full(n)} for (c, day), n in sorted(counts.items())]
    if rows:
        await repo.run(_BUMP_DAY(repo.session), {"rows": rows_param(repo.session, rows)})


async def add_events(
    repo: Repository, rows: Sequence[tuple[int, int, EventKind, dt.datetime, Any, Any]]
) -> None:
    """Joins, leaves and messages of an event batch. Grouped to the minute first (every
    timezone in use is a whole number of minutes from UTC): a flush of many messages is a
    row or two, not one per message."""
    per_minute: Counter[tuple[int, dt.datetime, str]] = Counter()
    for chat_pk, _user, kind, at, _value, meta in rows:
        counter = EVENT_COUNTERS.get(kind)
        if kind == EventKind.MESSAGE and not counts_as_message((meta or {}).get("type")):
            continue  # a command: its sender is active (member_days), it is no message
        if counter is not None:
            per_minute[(chat_pk, at.replace(second=0, microsecond=0), counter)] += 1
    await add_at(repo, [(c, at, {name: n}) for (c, at, name), n in sorted(per_minute.items())])


def _totals(row: Any) -> DayTotals:
    return DayTotals(_date(row.day), **{name: int(getattr(row, name)) for name in COUNTERS})


def _date(value: Any) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))


class SqlStats(Repository):
    async def days(self, chat_pk: int, start: dt.date, end: dt.date) -> list[DayTotals]:
        rows = await self.run(
            select(DS)
            .where(DS.c.chat_id == chat_pk, DS.c.day >= start, DS.c.day <= end)
            .order_by(DS.c.day)
        )
        return [_totals(row) for row in rows]

    async def facts(self, chat_pk: int, windows: Sequence[FactWindow]) -> list[PeriodFacts]:
        """Three statements whatever the number of windows: one pass over the group's
        memberships (presence, new members and their first order), the distinct active
        members per run of days, the buyers per window.

        On PostgreSQL without JIT: a big group's pass is costly enough on paper for the
        planner to compile it, and compiling (LLVM, about a second) took longer than the
        pass itself; bench/bench_stats.py measured both ways (README, "Stats at scale")."""
        if self.session.get_bind().dialect.name == "postgresql":
            await self.run(text("SET LOCAL jit = off"))
        # A new member's first order after joining, as the new-member funnel counts it: an
        # order imported with a date before the join is not the community's conversion.
        first_order = (
            select(func.min(OT.c.at))
            .where(
                OT.c.chat_id == MT.c.chat_id,
                OT.c.user_id == MT.c.user_id,
                OT.c.at >= MT.c.joined_at,
            )
            .scalar_subquery()
        )
        member_sums: list[Any] = []
        for w in windows:
            joined = and_(MT.c.joined_at >= w.since, MT.c.joined_at < w.until)
            converted = case((and_(first_order >= w.since, first_order < w.until), 1), else_=0)
            member_sums += [
                _count_if(present_then(MT, w.since)),
                _count_if(present_then(MT, w.until)),
                _count_if(joined),
                func.coalesce(func.sum(case((joined, converted), else_=0)), 0),
            ]
        members = (await self.run(select(*member_sums).where(MT.c.chat_id == chat_pk))).one()
        active = (
            await self.run(
                select(
                    *(
                        self._distinct_active(chat_pk, *span)
                        for w in windows
                        for span in (w.week, w.month)
                    )
                )
            )
        ).one()
        facts = []
        for i, w in enumerate(windows):
            per_buyer = (
                select(OT.c.user_id, func.count().label("n"))
                .where(OT.c.chat_id == chat_pk, OT.c.at >= w.since, OT.c.at < w.until)
                .group_by(OT.c.user_id)
                .subquery()
            )
            counted = select(
                func.count(),
                _count_if(per_buyer.c.n >= 2),
                self._issued_redeemed(chat_pk, w),
                self._joins_confirmed(chat_pk, w),
            ).select_from(per_buyer)
            bought: Any = (await self.run(counted)).one()
            buyers, repeat, redeemed, confirmed = bought
            start, end, new, converted = members[4 * i : 4 * i + 4]
            facts.append(
                PeriodFacts(
                    members_start=int(start or 0),
                    members_end=int(end or 0),
                    wau=int(active[2 * i] or 0),
                    mau=int(active[2 * i + 1] or 0),
                    buyers=int(buyers or 0),
                    repeat_buyers=int(repeat or 0),
                    new_members=int(new or 0),
                    converted=int(converted or 0),
                    issued_redeemed=int(redeemed or 0),
                    joins_confirmed=int(confirmed or 0),
                )
            )
        return facts

    @staticmethod
    def _issued_redeemed(chat_pk: int, w: FactWindow) -> Any:
        """Coupons issued in the window and used by now (the redemption rate's numerator)."""
        return (
            select(func.count())
            .where(
                CO.c.chat_id == chat_pk, CO.c.issued_at >= w.since, CO.c.issued_at < w.until,
                CO.c.redeemed_at.is_not(None),
            )
            .scalar_subquery()
        )  # fmt: skip

    @staticmethod
    def _joins_confirmed(chat_pk: int, w: FactWindow) -> Any:
        """Joins in the window through an invite confirmed by now (the referral share's)."""
        return (
            select(func.count())
            .where(
                IT.c.chat_id == chat_pk, IT.c.joined_at >= w.since, IT.c.joined_at < w.until,
                IT.c.status == InviteStatus.CONFIRMED,
            )
            .scalar_subquery()
        )  # fmt: skip

    @staticmethod
    def _distinct_active(chat_pk: int, first: dt.date, last: dt.date) -> Any:
        return (
            select(func.count(func.distinct(MD.c.user_id)))
            .where(MD.c.chat_id == chat_pk, MD.c.day >= first, MD.c.day <= last)
            .scalar_subquery()
        )

    async def lock_rollup(self, chat_pk: int) -> None:
        """The group's rollup lock, exclusively, to the end of the transaction (PostgreSQL;
        on SQLite the transaction's write lock already keeps every writer out)."""
        if self.session.get_bind().dialect.name == "postgresql":
            key = literal(ROLLUP_LOCKS, BigInteger) + literal(chat_pk, BigInteger)
            await self.run(select(func.pg_advisory_xact_lock(key)))

    async def recompute(
        self, chat_pk: int, start: dt.date, end: dt.date, timezone: str
    ) -> list[DayTotals]:
        """Each counter's GROUP BY over its raw table, by the same local day the writes use."""
        from campaigns.stats import Period

        since, until = Period(start, end).bounds(timezone)
        tz = literal(timezone)
        days: dict[dt.date, Counter[str]] = {}

        async def gather(query: Any, *names: str) -> None:
            for row in await self.run(query):
                day = _date(row[0])
                if start <= day <= end:
                    counts = days.setdefault(day, Counter())
                    found: tuple[Any, ...] = tuple(row[1:])
                    for name, value in zip(names, found, strict=True):
                        counts[name] += int(value or 0)

        def in_range(column: Any) -> ColumnElement[bool]:
            return and_(column >= since, column < until)

        event_day = local_day(ET.c.at, tz)
        await gather(
            select(
                event_day,
                *(_count_if(_counted_as(kind)) for kind in EVENT_COUNTERS),
            )
            .where(ET.c.chat_id == chat_pk, in_range(ET.c.at), ET.c.kind.in_(list(EVENT_COUNTERS)))
            .group_by(BY_DAY),
            *EVENT_COUNTERS.values(),
        )
        await gather(
            select(MD.c.day, func.count())
            .where(MD.c.chat_id == chat_pk, MD.c.day >= start, MD.c.day <= end)
            .group_by(MD.c.day),
            "active",
        )
        await gather(
            select(CT.c.day, _count_if(CT.c.makeup.is_(False)), _count_if(CT.c.makeup.is_(True)))
            .where(CT.c.chat_id == chat_pk, CT.c.day >= start, CT.c.day <= end)
            .group_by(CT.c.day),
            "checkins",
            "makeups",
        )
        confirmed = local_day(IT.c.confirmed_at, tz)
        await gather(
            select(confirmed, func.count())
            .where(IT.c.chat_id == chat_pk, in_range(IT.c.confirmed_at))
            .group_by(BY_DAY),
            "invites_confirmed",
        )
        issued = local_day(CO.c.issued_at, tz)
        await gather(
            select(issued, func.count())
            .where(CO.c.chat_id == chat_pk, in_range(CO.c.issued_at))
            .group_by(BY_DAY),
            "coupons_claimed",
        )
        used = local_day(CO.c.redeemed_at, tz)
        await gather(
            select(used, func.count(), func.sum(func.coalesce(CO.c.discount, 0)))
            .where(CO.c.chat_id == chat_pk, in_range(CO.c.redeemed_at))
            .group_by(BY_DAY),
            "coupons_redeemed",
            "discount",
        )
        ordered = local_day(OT.c.at, tz)
        await gather(
            select(ordered, func.count(), func.sum(OT.c.amount))
            .where(OT.c.chat_id == chat_pk, in_range(OT.c.at))
            .group_by(BY_DAY),
            "orders",
            "gmv",
        )
        firsts = (
            select(func.min(OT.c.at).label("at"))
            .where(OT.c.chat_id == chat_pk)
            .group_by(OT.c.user_id)
            .subquery()
        )
        first_day = local_day(firsts.c.at, tz)
        await gather(
            select(first_day, func.count()).where(in_range(firsts.c.at)).group_by(BY_DAY),
            "first_orders",
        )
        return [DayTotals(day, **days[day]) for day in sorted(days) if any(days[day].values())]

    async def replace(
        self, chat_pk: int, start: dt.date, end: dt.date, rows: Sequence[DayTotals]
    ) -> None:
        await self.run(
            delete(DS).where(DS.c.chat_id == chat_pk, DS.c.day >= start, DS.c.day <= end)
        )
        values = [
            {"chat_id": chat_pk, "day": r.day, **{n: getattr(r, n) for n in COUNTERS}}
            for r in rows
            if start <= r.day <= end
        ]
        if values:
            await self.run(insert_for(self.session, DS).values(values))


def _counted_as(kind: EventKind) -> ColumnElement[bool]:
    """An event counted as `kind`: a message only when campaigns.members.counts_as_message
    says so (not a command), read from the event's meta "type"."""
    if kind is not EventKind.MESSAGE:
        return ET.c.kind == str(kind)
    said = func.coalesce(ET.c.meta["type"].as_string(), "") != COMMAND
    return and_(ET.c.kind == str(kind), said)


def _count_if(condition: ColumnElement[bool]) -> Any:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)
