"""Users, memberships and their cached counters; leaderboards are ranked in SQL."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import Table, and_, bindparam, case, func, or_, select, update
from sqlalchemy.sql import ColumnElement

from campaigns.checkin import CheckinAward
from campaigns.members import Membership, MemberStats, MemberStatus, Person, Ranked
from campaigns.ports.members import Contact
from storage.models import MembershipRow, UserRow
from storage.repositories.base import Repository, aware, insert_for

M = MembershipRow


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
    )


class SqlUsers(Repository):
    async def upsert(self, people: Sequence[Person]) -> None:
        """Insert or refresh names; one statement for the whole batch."""
        if not people:
            return
        table = UserRow.__table__
        stmt = insert_for(self.session, table).values(
            [
                {
                    "id": p.user_id,
                    "first_name": p.first_name[:255],
                    "last_name": p.last_name[:255] if p.last_name else None,
                    "username": p.username,
                    "language_code": p.language_code,
                    "updated_at": dt.datetime.now(dt.UTC),
                }
                for p in sorted(people, key=lambda p: p.user_id)
            ]
        )
        excluded = stmt.excluded
        await self.session.execute(
            stmt.on_conflict_do_update(
                index_elements=["id"],
                set_={
                    "first_name": excluded.first_name,
                    "last_name": excluded.last_name,
                    "username": excluded.username,
                    "language_code": func.coalesce(excluded.language_code, table.c.language_code),
                    "updated_at": excluded.updated_at,
                },
            )
        )

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
        an unknown join date (they were in the group before the bot, or the join was missed)."""
        if not counts:
            return
        table = cast(Table, M.__table__)
        gone = table.c.present.is_(False)
        ins = insert_for(self.session, table)
        await self.session.execute(
            ins.values(
                [
                    {
                        "chat_id": chat_pk,
                        "user_id": uid,
                        "status": MemberStatus.MEMBER,
                        "present": True,
                        "joined_at": None,
                        "last_active_at": last,
                        "messages": 0,
                        "checkins": 0,
                        "streak": 0,
                        "best_streak": 0,
                        "points": 0,
                    }
                    for uid, (_n, _first, last) in sorted(counts.items())
                ]
            ).on_conflict_do_nothing(index_elements=["chat_id", "user_id"])
        )
        stmt = (
            update(table)
            .where(table.c.chat_id == chat_pk, table.c.user_id == bindparam("uid"))
            .values(
                messages=table.c.messages + bindparam("n"),
                last_active_at=case(
                    (
                        or_(
                            table.c.last_active_at.is_(None),
                            table.c.last_active_at < bindparam("last"),
                        ),
                        bindparam("last"),
                    ),
                    else_=table.c.last_active_at,
                ),
                # Someone who speaks after they were seen leaving has come back.
                present=case(
                    (and_(gone, table.c.left_at < bindparam("last")), True), else_=table.c.present
                ),
                status=case(
                    (and_(gone, table.c.left_at < bindparam("last")), str(MemberStatus.MEMBER)),
                    else_=table.c.status,
                ),
            )
        )
        connection = await self.session.connection()
        await connection.execute(
            stmt,
            [{"uid": uid, "n": n, "last": last} for uid, (n, _f, last) in sorted(counts.items())],
        )

    async def record_checkin(self, chat_pk: int, user_id: int, award: CheckinAward) -> None:
        row = await self._row(chat_pk, user_id)
        assert row is not None, "check_in registers the member first"
        row.checkins += 1
        if row.last_checkin_day is None or award.day >= row.last_checkin_day:
            row.last_checkin_day = award.day
            row.streak = award.streak
        row.best_streak = max(row.best_streak, award.streak)
        await self.session.flush()

    async def add_points(self, chat_pk: int, user_id: int, delta: int) -> int:
        result = await self.session.execute(
            update(M)
            .where(M.chat_id == chat_pk, M.user_id == user_id)
            .values(points=M.points + delta)
            .returning(M.points)
            .execution_options(synchronize_session=False)
        )
        return int(result.scalar_one())

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
        joined_before = or_(M.joined_at.is_(None), M.joined_at <= at)
        still_there = or_(M.present.is_(True), M.left_at > at)
        count = await self.session.scalar(
            select(func.count())
            .select_from(M)
            .where(M.chat_id == chat_pk, joined_before, still_there)
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
