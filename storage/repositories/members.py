"""Users, memberships and their cached counters; leaderboards are ranked in SQL."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import (
    BigInteger,
    Date,
    Integer,
    Table,
    and_,
    bindparam,
    case,
    func,
    literal,
    literal_column,
    null,
    or_,
    select,
    true,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql import ColumnElement

from campaigns.members import EventKind, Membership, MemberStats, MemberStatus, Person, Ranked
from campaigns.ports.members import Contact, Counters, Seen
from storage.models import (
    ChatRow,
    EventRow,
    MemberMonthRow,
    MembershipRow,
    ProcessedUpdateRow,
    UserRow,
    UtcDateTime,
)
from storage.repositories.base import (
    Repository,
    asyncpg_statement,
    aware,
    insert_for,
    json_rows,
    per_statement,
    prepared,
    rows_param,
    sqlite_statement,
)
from storage.repositories.updates import CLAIM_ON_SQLITE, SqlUpdateLog

M = MembershipRow
MM = MemberMonthRow
MT = cast(Table, M.__table__)
PT = cast(Table, ProcessedUpdateRow.__table__)
UT = cast(Table, UserRow.__table__)
ET = cast(Table, EventRow.__table__)
# Literals, as the partial index's WHERE says them: a planner matches the index only then.
PRESENCE_KINDS: list[Any] = [
    literal_column(f"'{EventKind.JOIN}'"),
    literal_column(f"'{EventKind.LEAVE}'"),
]


def _upsert_user(insert: Any) -> Any:
    """Insert or refresh users' names from JSON rows; an unchanged row is left alone (no
    write, no dead row on PostgreSQL), so seeing the same people again costs a read."""
    columns = [UT.c.id, UT.c.first_name, UT.c.last_name, UT.c.username, UT.c.language_code]
    source = json_rows(insert, *columns).add_columns(bindparam("now", type_=UtcDateTime()))
    stmt = insert(UT).from_select([*(c.name for c in columns), "updated_at"], source)
    new = stmt.excluded
    changed = or_(
        UT.c.first_name.is_distinct_from(new.first_name),
        UT.c.last_name.is_distinct_from(new.last_name),
        UT.c.username.is_distinct_from(new.username),
        and_(
            new.language_code.is_not(None),
            UT.c.language_code.is_distinct_from(new.language_code),
        ),
    )
    return stmt.on_conflict_do_update(
        index_elements=["id"],
        set_={
            "first_name": new.first_name,
            "last_name": new.last_name,
            "username": new.username,
            "language_code": func.coalesce(new.language_code, UT.c.language_code),
            "updated_at": new.updated_at,
        },
        where=changed,
    )


_UPSERT_USER = prepared(_upsert_user)


def _active_again(new: Any) -> dict[str, Any]:
    """What a message (or a check-in) at `new.last_active_at` does to a stored membership:
    it adds `new.messages`, moves the last active time forward, and someone who speaks
    after they were seen leaving has come back."""
    last = new.last_active_at
    back = and_(MT.c.present.is_(False), MT.c.left_at < last)
    return {
        "messages": MT.c.messages + new.messages,
        "last_active_at": case(
            (or_(MT.c.last_active_at.is_(None), MT.c.last_active_at < last), last),
            else_=MT.c.last_active_at,
        ),
        "present": case((back, True), else_=MT.c.present),
        "status": case((back, str(MemberStatus.MEMBER)), else_=MT.c.status),
    }


_FIRST_SEEN = {  # a member first seen speaking: in the group before the bot, join date unknown
    "status": str(MemberStatus.MEMBER),
    "present": True,
    "joined_at": None,
    "checkins": 0,
    "streak": 0,
    "best_streak": 0,
    "points": 0,
}


def _count_messages(insert: Any) -> Any:
    columns = [MT.c.chat_id, MT.c.user_id, MT.c.last_active_at, MT.c.messages]
    first_seen = [literal(v) if v is not None else null() for v in _FIRST_SEEN.values()]
    source = json_rows(insert, *columns).add_columns(*first_seen)
    stmt = insert(MT).from_select([*(c.name for c in columns), *_FIRST_SEEN], source)
    return stmt.on_conflict_do_update(
        index_elements=["chat_id", "user_id"], set_=_active_again(stmt.excluded)
    )


_COUNT_MESSAGES = prepared(_count_messages)


def _seen_in(insert: Any, *, only_if: ColumnElement[bool] | None = None) -> Any:
    first_seen = [literal(v) if v is not None else null() for v in _FIRST_SEEN.values()]
    chats = cast(Table, ChatRow.__table__)
    source = (
        select(
            chats.c.id,
            UT.c.id,
            bindparam("at", type_=UtcDateTime()),
            literal(0, Integer),
            *first_seen,
        )
        .select_from(chats.join(UT, true()))  # one row of each, or none
        .where(
            chats.c.telegram_id == bindparam("chat_id"),
            chats.c.active.is_(True),
            UT.c.id == bindparam("user_id", type_=BigInteger),
            *([] if only_if is None else [only_if]),
        )
    )
    stmt = insert(MT).from_select(
        ["chat_id", "user_id", "last_active_at", "messages", *_FIRST_SEEN], source
    )
    return stmt.on_conflict_do_update(
        index_elements=["chat_id", "user_id"], set_=_active_again(stmt.excluded)
    ).returning(
        MT.c.chat_id, MT.c.streak, MT.c.best_streak, MT.c.points, MT.c.last_checkin_day, MT.c.tier
    )


_SEEN_IN = prepared(_seen_in)
_SEEN_IN_ON_SQLITE = sqlite_statement(_seen_in(sqlite.insert))


def _claim_and_see(insert: Any) -> Any:
    """PostgreSQL: the update's claim and seen_in as data-modifying CTEs of one statement;
    the member is touched only if the claim inserted its row."""
    claim = (
        insert(PT)
        .values(
            bot_id=bindparam("bot_id", type_=BigInteger),
            update_id=bindparam("update_id", type_=BigInteger),
            scope="handler",
            processed_at=bindparam("at", type_=UtcDateTime()),
        )
        .on_conflict_do_nothing(index_elements=["bot_id", "update_id", "scope"])
        .returning(PT.c.update_id)
        .cte("claim")
    )
    claimed = select(claim.c.update_id).exists()
    seen = _seen_in(insert, only_if=claimed).cte("seen")
    member = [select(c).scalar_subquery().label(c.name) for c in seen.c]
    return select(claimed.label("claimed"), *member)


_CLAIM_AND_SEE = prepared(_claim_and_see)


_COUNTERS = ("chat_id", "streak", "best_streak", "points", "last_checkin_day", "tier")


def _done_on() -> Any:
    """The member whose counters hold a check-in on :day, in an active group."""
    chats = cast(Table, ChatRow.__table__)
    return (
        select(*(MT.c[name] for name in _COUNTERS))
        .select_from(MT.join(chats, chats.c.id == MT.c.chat_id))
        .where(
            chats.c.telegram_id == bindparam("chat_id", type_=BigInteger),
            chats.c.active.is_(True),
            MT.c.user_id == bindparam("user_id", type_=BigInteger),
            MT.c.last_checkin_day == bindparam("day", type_=Date),
        )
    )


def _claim_if_done(insert: Any) -> Any:
    """PostgreSQL, run on its own (no BEGIN, no COMMIT): the update's claim only if the
    member's counters hold the day's check-in, and those counters. It reads the row without
    locking it, so a rush's repeated 签到 never wait for an activity batch that holds it.
    The claim need not be durable (see services.checkin._refused): set_config makes this
    statement's own transaction commit without waiting for the disk."""
    done = _done_on().cte("done")
    claim = (
        insert(PT)
        .from_select(
            ["bot_id", "update_id", "scope", "processed_at"],
            select(
                bindparam("bot_id", type_=BigInteger),
                bindparam("update_id", type_=BigInteger),
                literal("handler"),
                bindparam("at", type_=UtcDateTime()),
            ).where(
                select(done.c.chat_id).exists(),
                func.set_config("synchronous_commit", "off", true()).is_not(None),
            ),
        )
        .on_conflict_do_nothing(index_elements=["bot_id", "update_id", "scope"])
        .returning(PT.c.update_id)
        .cte("claim")
    )
    return select(select(claim.c.update_id).exists().label("claimed"), *done.c)


_CLAIM_IF_DONE_ON_ASYNCPG = asyncpg_statement(_claim_if_done(postgresql.insert))
_DONE_ON = _done_on()
_DONE_ON_SQLITE = sqlite_statement(_DONE_ON)


def present_then(memberships: Table, at: dt.datetime) -> ColumnElement[bool]:
    """A member present at `at` (campaigns.members.present_at): joined by then (or there
    before the bot) and, as of then, not gone. /referral report's start and /stats' members
    both count with it.

    The row holds the first join, the latest join (`present_since`) and, while away, the
    latest leave: that decides everyone unless they rejoined after `at`, when only the log
    knows whether they were away at `at` (left and back) or there (left later, came back
    later still). For those few rows, and only those (CASE), the latest join or leave at or
    before `at` is read from the log through its partial index of joins and leaves
    (ix_activity_events_presence): no scan of the group's events."""
    m = memberships.c
    rejoined_after = and_(
        m.present_since.is_not(None),
        m.present_since > at,
        or_(m.joined_at.is_(None), m.present_since != m.joined_at),
    )
    latest = (
        select(ET.c.kind)
        .where(
            ET.c.chat_id == m.chat_id,
            ET.c.user_id == m.user_id,
            ET.c.kind.in_(PRESENCE_KINDS),
            ET.c.at <= at,
        )
        .order_by(ET.c.at.desc(), ET.c.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    as_of_row = or_(m.present.is_(True), m.left_at > at)
    return and_(
        or_(m.joined_at.is_(None), m.joined_at <= at),
        case(
            (rejoined_after, func.coalesce(latest, str(EventKind.JOIN)) == str(EventKind.JOIN)),
            else_=as_of_row,
        ),
    )


def _counters(row: Sequence[Any] | None) -> Counters | None:
    """seen_in's RETURNING (chat_id, streak, best_streak, points, last_checkin_day, tier),
    through SQLAlchemy or straight from sqlite3 (the day then still its text)."""
    if row is None:
        return None
    chat_pk, streak, best, points, day, tier = row
    return Counters(
        chat_pk=chat_pk, streak=streak, best_streak=best, points=points,
        last_checkin_day=dt.date.fromisoformat(day) if isinstance(day, str) else day,
        tier=tier or 0,
    )  # fmt: skip


def _claim_and_see_on_sqlite(
    driver: Any, bot_id: int, update_id: int, chat_id: int, user_id: int, at: dt.datetime
) -> Seen:
    """claim_and_see's two statements, compiled from the same Core statements (a test holds
    the two paths to the same rows and answers)."""
    claim = {"bot_id": bot_id, "update_id": update_id, "scope": "handler", "at": at}
    if driver.execute(CLAIM_ON_SQLITE.sql, CLAIM_ON_SQLITE.params(claim)).fetchone() is None:
        return Seen(False, None)
    seen = {"chat_id": chat_id, "user_id": user_id, "at": at}
    row = driver.execute(_SEEN_IN_ON_SQLITE.sql, _SEEN_IN_ON_SQLITE.params(seen)).fetchone()
    return Seen(True, _counters(row))


def _claim_if_done_on_sqlite(driver: Any, params: dict[str, Any]) -> Seen | None:
    """claim_if_done's read and claim (SQLite: no DML in a CTE), in the caller's
    transaction."""
    row = driver.execute(_DONE_ON_SQLITE.sql, _DONE_ON_SQLITE.params(params)).fetchone()
    if row is None:
        return None
    claim = {**params, "scope": "handler"}
    claimed = driver.execute(CLAIM_ON_SQLITE.sql, CLAIM_ON_SQLITE.params(claim)).fetchone()
    return Seen(claimed is not None, _counters(row))


def name_of(user: UserRow) -> str:
    return Person(
        user_id=user.id,
        first_name=user.first_name,
        last_name=user.last_name,
        username=user.username,
    ).display_name


def _stats(m: MembershipRow, user: UserRow) -> MemberStats:
    return MemberStats(
        user_id=m.user_id,
        username=user.username,
        display_name=name_of(user),
        status=m.status,
        joined_at=aware(m.joined_at),
        left_at=aware(m.left_at),
        last_active_at=aware(m.last_active_at),
        messages=m.messages,
        checkins=m.checkins,
        streak=m.streak,
        best_streak=m.best_streak,
        points=m.points,
        last_checkin_day=m.last_checkin_day,
        title=m.title,
        tier=m.tier or 0,
    )


class SqlUsers(Repository):
    async def upsert(self, people: Sequence[Person]) -> None:
        """Insert or refresh names: one statement, the people as JSON rows in id order."""
        if not people:
            return
        rows = [
            {
                "id": p.user_id,
                "first_name": p.first_name[:255],
                "last_name": p.last_name[:255] if p.last_name else None,
                "username": p.username,
                "language_code": p.language_code,
            }
            for p in sorted(people, key=lambda p: p.user_id)
        ]
        params = {"rows": rows_param(self.session, rows), "now": dt.datetime.now(dt.UTC)}
        await self.run(_UPSERT_USER(self.session), params)

    async def set_reachable(self, user_id: int, reachable: bool) -> None:
        await self.session.execute(
            update(UserRow)
            .where(UserRow.id == user_id)
            .values(reachable=reachable)
            .execution_options(synchronize_session=False)
        )

    async def contacts(self, user_ids: Sequence[int]) -> dict[int, Contact]:
        if not user_ids:
            return {}
        rows = await self.session.scalars(
            select(UserRow)
            .where(UserRow.id.in_(sorted(set(user_ids))))
            .execution_options(populate_existing=True)
        )
        return {u.id: Contact(u.id, name_of(u), u.language_code, bool(u.reachable)) for u in rows}

    async def birthday(self, user_id: int) -> tuple[str, int] | None:
        row = (
            await self.session.execute(
                select(UserRow.birthday, UserRow.birthday_from).where(UserRow.id == user_id)
            )
        ).first()
        if row is None or row.birthday is None:
            return None
        return str(row.birthday), int(row.birthday_from or 0)

    async def set_birthday(
        self, user_id: int, birthday: str | None, counts_from: int | None
    ) -> bool:
        result = await self.session.execute(
            update(UserRow)
            .where(UserRow.id == user_id)
            .values(birthday=birthday, birthday_from=counts_from)
            .execution_options(synchronize_session=False)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]


class SqlMembers(Repository):
    async def _row(self, chat_pk: int, user_id: int) -> MembershipRow | None:
        return await self.session.scalar(
            select(M).where(M.chat_id == chat_pk, M.user_id == user_id).with_for_update()
        )

    async def is_present(self, chat_pk: int, user_id: int) -> bool | None:
        present = await self.session.scalar(
            select(M.present).where(M.chat_id == chat_pk, M.user_id == user_id)
        )
        return None if present is None else bool(present)

    async def lock(self, chat_pk: int, user_ids: Sequence[int]) -> set[int]:
        rows = await self.session.scalars(
            select(M.user_id)
            .where(M.chat_id == chat_pk, M.user_id.in_(sorted(set(user_ids))))
            .order_by(M.user_id)
            .with_for_update()
        )
        return {int(uid) for uid in rows}

    async def get(self, chat_pk: int, user_id: int) -> Membership | None:
        row = await self._row(chat_pk, user_id)
        if row is None:
            return None
        return Membership(
            status=row.status,
            present=row.present,
            joined_at=aware(row.joined_at),
            left_at=aware(row.left_at),
            present_since=aware(row.present_since),
        )

    async def create(
        self,
        chat_pk: int,
        user_id: int,
        *,
        status: str,
        present: bool,
        at: dt.datetime,
        joined: bool = True,
    ) -> bool:
        created = await self.session.execute(
            insert_for(self.session, M.__table__)
            .values(
                chat_id=chat_pk,
                user_id=user_id,
                status=status,
                present=present,
                joined_at=at if present and joined else None,
                present_since=at if present else None,
                left_at=None if present else at,
                messages=0,
                checkins=0,
                streak=0,
                best_streak=0,
                points=0,
            )
            .on_conflict_do_nothing(index_elements=["chat_id", "user_id"])
            .returning(M.id)
        )
        return created.first() is not None

    async def update_presence(
        self, chat_pk: int, user_id: int, *, status: str, present: bool | None, at: dt.datetime
    ) -> None:
        values: dict[str, object] = {"status": status}
        if present is True:
            # A rejoin keeps the first join date (or its absence): leaving and coming back
            # never makes a member new again.
            values.update(present=True, present_since=at, left_at=None)
        elif present is False:
            values.update(present=False, left_at=at)
        await self.session.execute(
            update(M)
            .where(M.chat_id == chat_pk, M.user_id == user_id)
            .values(**values)
            .execution_options(synchronize_session=False)
        )

    async def count_messages(
        self, chat_pk: int, counts: dict[int, tuple[int, dt.datetime, dt.datetime]]
    ) -> None:
        """Bump counters atomically; a member first seen by a message is registered then, with
        an unknown join date (they were in the group before the bot, or the join was missed).
        One statement, the members as JSON rows in id order."""
        if not counts:
            return
        rows = [
            {"chat_id": chat_pk, "user_id": uid, "last_active_at": last, "messages": n}
            for uid, (n, _first, last) in sorted(counts.items())
        ]
        for some in per_statement(self.session, rows):
            await self.run(_COUNT_MESSAGES(self.session), {"rows": rows_param(self.session, some)})

    async def seen_in(self, chat_id: int, user_id: int, at: dt.datetime) -> Counters | None:
        """One upsert: the keys come from the group's and the user's rows, so an unknown or
        inactive group, or a user never stored, inserts nothing and returns nothing."""
        params = {"chat_id": chat_id, "user_id": user_id, "at": at}
        return _counters((await self.run(_SEEN_IN(self.session), params)).first())

    async def claim_and_see(
        self, bot_id: int, update_id: int, chat_id: int, user_id: int, at: dt.datetime
    ) -> Seen:
        if self.session.get_bind().dialect.name != "postgresql":  # no DML in an SQLite CTE
            driver = await self.driver()
            if driver is not None:  # a check-in's first two statements, on sqlite3 itself
                return _claim_and_see_on_sqlite(driver, bot_id, update_id, chat_id, user_id, at)
            claimed = await SqlUpdateLog(self.session).claim(bot_id, update_id, at)
            return Seen(claimed, await self.seen_in(chat_id, user_id, at) if claimed else None)
        params = {
            "bot_id": bot_id,
            "update_id": update_id,
            "chat_id": chat_id,
            "user_id": user_id,
            "at": at,
        }
        row = (await self.run(_CLAIM_AND_SEE(self.session), params)).one()
        return Seen(bool(row.claimed), _counters(row[1:] if row.chat_id is not None else None))

    async def claim_if_done(
        self, bot_id: int, update_id: int, chat_id: int, user_id: int, day: dt.date, at: dt.datetime
    ) -> Seen | None:
        params = {
            "bot_id": bot_id,
            "update_id": update_id,
            "chat_id": chat_id,
            "user_id": user_id,
            "day": day,
            "at": at,
        }
        if self.session.get_bind().dialect.name == "postgresql":
            connection = await self.session.connection()
            compiled = _CLAIM_IF_DONE_ON_ASYNCPG
            found = (
                await connection.exec_driver_sql(compiled.sql, tuple(compiled.args(params)))
            ).first()
            return None if found is None else Seen(bool(found[0]), _counters(found[1:]))
        driver = await self.driver()
        if driver is not None:  # on sqlite3 itself, compiled from the same statements
            return _claim_if_done_on_sqlite(driver, params)
        member = _counters((await self.run(_DONE_ON, params)).first())
        if member is None:
            return None
        return Seen(await SqlUpdateLog(self.session).claim(bot_id, update_id, at), member)

    async def add_points(self, chat_pk: int, user_id: int, delta: int) -> int:
        result = await self.session.execute(
            update(M)
            .where(M.chat_id == chat_pk, M.user_id == user_id)
            .values(points=M.points + delta)
            .returning(M.points)
            .execution_options(synchronize_session=False)
        )
        return int(result.scalar_one())

    async def take_points(self, chat_pk: int, user_id: int, amount: int) -> int | None:
        result = await self.session.execute(
            update(M)
            .where(M.chat_id == chat_pk, M.user_id == user_id, M.points >= amount)
            .values(points=M.points - amount)
            .returning(M.points)
            .execution_options(synchronize_session=False)
        )
        found = result.scalar_one_or_none()
        return None if found is None else int(found)

    async def balance(self, chat_pk: int, user_id: int) -> int | None:
        found = await self.session.scalar(
            select(M.points).where(M.chat_id == chat_pk, M.user_id == user_id)
        )
        return None if found is None else int(found)

    async def add_earned(self, chat_pk: int, user_id: int, points: int, month: dt.date) -> None:
        """The running total and the month bucket move together (same transaction)."""
        if points <= 0:
            return
        await self.session.execute(
            update(M)
            .where(M.chat_id == chat_pk, M.user_id == user_id)
            .values(points_earned=M.points_earned + points)
            .execution_options(synchronize_session=False)
        )
        await self.bump_month(chat_pk, user_id, month, points_earned=points)

    async def bump_month(self, chat_pk: int, user_id: int, month: dt.date, **add: int) -> None:
        """Add to a member's month bucket, creating it: one upsert."""
        values = {"active_days": 0, "orders": 0, "spend": 0, "points_earned": 0, **add}
        stmt = insert_for(self.session, MM.__table__).values(
            chat_id=chat_pk, user_id=user_id, month=month, **values
        )
        await self.session.execute(
            stmt.on_conflict_do_update(
                index_elements=["chat_id", "user_id", "month"],
                set_={k: getattr(MM.__table__.c, k) + getattr(stmt.excluded, k) for k in add},
            )
        )

    async def ref_code(self, chat_pk: int, user_id: int) -> str | None:
        return await self.session.scalar(
            select(M.ref_code).where(M.chat_id == chat_pk, M.user_id == user_id)
        )

    async def assign_ref_code(self, chat_pk: int, user_id: int, code: str) -> bool:
        taken = await self.session.scalar(select(M.id).where(M.ref_code == code))
        if taken is not None:
            return False
        result = await self.session.execute(
            update(M)
            .where(M.chat_id == chat_pk, M.user_id == user_id, M.ref_code.is_(None))
            .values(ref_code=code)
            .returning(M.id)
            .execution_options(synchronize_session=False)
        )
        return result.first() is not None

    async def by_ref_code(self, code: str) -> tuple[int, int] | None:
        row = (
            await self.session.execute(select(M.chat_id, M.user_id).where(M.ref_code == code))
        ).first()
        return (int(row[0]), int(row[1])) if row else None

    async def set_title(self, chat_pk: int, user_id: int, title: str) -> None:
        await self.session.execute(
            update(M)
            .where(M.chat_id == chat_pk, M.user_id == user_id)
            .values(title=title)
            .execution_options(synchronize_session=False)
        )

    async def present_at(self, chat_pk: int, at: dt.datetime) -> int:
        count = await self.session.scalar(
            select(func.count()).select_from(M).where(M.chat_id == chat_pk, present_then(MT, at))
        )
        return int(count or 0)

    async def stats(self, chat_pk: int, user_id: int) -> MemberStats | None:
        result = await self.session.execute(
            select(M, UserRow)
            .join(UserRow, UserRow.id == M.user_id)
            .where(M.chat_id == chat_pk, M.user_id == user_id)
            .execution_options(populate_existing=True)
        )
        row = result.first()
        return _stats(row[0], row[1]) if row else None

    async def all_stats(self, chat_pk: int) -> list[MemberStats]:
        result = await self.session.execute(
            select(M, UserRow)
            .join(UserRow, UserRow.id == M.user_id)
            .where(M.chat_id == chat_pk)
            .order_by(M.joined_at.is_(None), M.joined_at, M.user_id)
        )
        return [_stats(m, u) for m, u in result]

    def _board(
        self, chat_pk: int, by: str, alive_since: dt.date
    ) -> tuple[Any, ColumnElement[bool]]:
        """The ranked value and who is on the board: present members with something to show."""
        if by == "streak":
            alive = M.last_checkin_day >= alive_since
            return M.streak, and_(M.chat_id == chat_pk, M.present.is_(True), alive, M.streak > 0)
        return M.points, and_(M.chat_id == chat_pk, M.present.is_(True), M.points > 0)

    async def top(self, chat_pk: int, by: str, limit: int, alive_since: dt.date) -> list[Ranked]:
        value, where = self._board(chat_pk, by, alive_since)
        ranked = (
            select(
                func.rank().over(order_by=value.desc()).label("rank"),
                M.user_id,
                value.label("value"),
                UserRow,
            )
            .join(UserRow, UserRow.id == M.user_id)
            .where(where)
            .order_by(value.desc(), M.user_id)
            .limit(limit)
        )
        result = await self.session.execute(ranked)
        return [
            Ranked(
                rank=int(r.rank),
                user_id=r.user_id,
                display_name=name_of(r.UserRow),
                value=int(r.value),
            )
            for r in result
        ]

    async def rank_of(
        self, chat_pk: int, user_id: int, by: str, alive_since: dt.date
    ) -> Ranked | None:
        value, where = self._board(chat_pk, by, alive_since)
        mine = await self.session.execute(
            select(value, UserRow)
            .join(UserRow, UserRow.id == M.user_id)
            .where(where, M.user_id == user_id)
        )
        row = mine.first()
        if row is None:
            return None
        ahead = await self.session.scalar(
            select(func.count()).select_from(M).where(where, value > row[0])
        )
        return Ranked(
            rank=int(ahead or 0) + 1,
            user_id=user_id,
            display_name=name_of(row[1]),
            value=int(row[0]),
        )
