"""Saved audiences, and the audience language compiled to SQL.

`audience_where` is `campaigns.audience_expr.matches` written as one WHERE clause over
memberships (M) joined to users (U); tests/storage/test_audience_sql.py holds the two to the
same members on random members and random expressions, on SQLite and PostgreSQL. Every
clause it builds is true or false, never NULL (missing dates, stages and languages are
spelled out), so `not` means what it means in Python.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    BigInteger,
    and_,
    delete,
    exists,
    false,
    func,
    literal,
    not_,
    or_,
    select,
    true,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql import ColumnElement, Select
from sqlalchemy.sql.elements import SQLColumnExpression

from campaigns.audience_expr import (
    FIELDS,
    OPERATORS,
    AllOf,
    AnyOf,
    AudienceExprError,
    AudienceProblem,
    Everyone,
    Expr,
    Kind,
    Not,
    Op,
    Rule,
    reads,
)
from campaigns.audiences import AudienceMember, SavedAudience
from campaigns.dashboard import COUNT_CAP, MemberSort, search_id, search_words
from campaigns.members import Person
from campaigns.referral import InviteStatus
from campaigns.segments import StageThresholds
from campaigns.tiers import TierLadder, ladder_from_json
from storage.models import AudienceRow, ChatRow, InviteRow, MembershipRow, MemberTagRow, UserRow
from storage.repositories.base import Repository, aware, insert_for
from storage.repositories.segments import SqlSegments, memberships_of, stage_expression

A, M, U, T, IN = AudienceRow, MembershipRow, UserRow, MemberTagRow, InviteRow


def audience_where(
    expr: Expr, now: dt.datetime, thresholds: StageThresholds
) -> ColumnElement[bool]:
    """`matches(expr, member, now, thresholds)` as SQL over M joined to U (tiers resolved
    first); `thresholds`: the group's (stage_thresholds), for `stage=`."""
    return and_(M.present.is_(True), U.reachable.is_(True), _clause(expr, now, thresholds))


async def group_audience_where(
    session: AsyncSession, chat_pk: int, expr: Expr, now: dt.datetime
) -> ColumnElement[bool]:
    """audience_where for one group: its stage thresholds are read (one small query) only for
    an expression that reads the stage."""
    thresholds = StageThresholds()
    if reads(expr, "stage"):
        thresholds = await SqlSegments(session).thresholds(chat_pk)
    return audience_where(expr, now, thresholds)


def _clause(expr: Expr, now: dt.datetime, thresholds: StageThresholds) -> ColumnElement[bool]:
    if isinstance(expr, Everyone):
        return true()
    if isinstance(expr, AllOf):
        return and_(*(_clause(item, now, thresholds) for item in expr.items))
    if isinstance(expr, AnyOf):
        return or_(*(_clause(item, now, thresholds) for item in expr.items))
    if isinstance(expr, Not):
        return not_(_clause(expr.item, now, thresholds))
    return _rule(expr, now, thresholds)


def _compare(have: SQLColumnExpression[int], op: Op, want: int) -> ColumnElement[bool]:
    """The operator's one meaning (campaigns.audience_expr.OPERATORS), on a column. The
    value is bound as a BIGINT: a count the language admits (up to 10^12) may be beyond an
    INTEGER column's range, and PostgreSQL refuses such a parameter typed as the column."""
    condition: ColumnElement[bool] = OPERATORS[op](have, literal(want, BigInteger))
    return condition


def _invited() -> ColumnElement[int]:
    """Confirmed invites of the member in the group (a correlated count)."""
    return (
        select(func.count(IN.id))
        .where(
            IN.chat_id == M.chat_id,
            IN.inviter_id == M.user_id,
            IN.status == InviteStatus.CONFIRMED,
        )
        .scalar_subquery()
    )


def _rule(rule: Rule, now: dt.datetime, thresholds: StageThresholds) -> ColumnElement[bool]:
    kind = FIELDS[rule.field]
    if kind is Kind.DAYS:
        assert isinstance(rule.value, int)
        cut = now - dt.timedelta(days=rule.value)
        within = rule.op in (Op.LT, Op.LE)
        if rule.field == "checkin":
            day = M.last_checkin_day
            if within:
                return and_(day.is_not(None), day >= cut.date())
            return or_(day.is_(None), day < cut.date())
        at = {"joined": M.joined_at, "active": M.last_active_at, "last_order": M.last_order_at}[
            rule.field
        ]
        if within:
            return and_(at.is_not(None), at >= cut)
        return or_(at.is_(None), at < cut)
    if kind in (Kind.COUNT, Kind.MONEY):
        have = {"points": M.points, "orders": M.orders, "spend": M.spend}.get(rule.field)
        return _compare(_invited() if have is None else have, rule.op, int(rule.value))
    if kind is Kind.TIER:
        text = str(rule.value)
        if not text.startswith("level:"):
            raise AudienceExprError(AudienceProblem.UNKNOWN_TIER, text)
        return _compare(M.tier, rule.op, int(text.removeprefix("level:")))
    wanted = str(rule.value)
    hit: ColumnElement[bool]
    if rule.field == "tag":
        hit = exists().where(T.chat_id == M.chat_id, T.user_id == M.user_id, T.tag == wanted)
    elif rule.field == "lang":
        code = func.lower(func.coalesce(U.language_code, ""))
        # the language pattern admits no LIKE wildcards: `zh` takes zh-hans and zh-hant
        hit = (code == wanted) | (code.like(f"{wanted}-%") if "-" not in wanted else false())
    elif rule.field == "stage":  # at `now`, not as the hourly refresh stored it
        hit = stage_expression(now, thresholds) == wanted
    else:
        hit = func.coalesce(M.rfm_segment, "") == wanted  # not yet scored: no segment
    return hit if rule.op is Op.EQ else not_(hit)


def _saved(row: AudienceRow) -> SavedAudience:
    updated = aware(row.updated_at)
    assert updated is not None
    return SavedAudience(row.name, row.rule, row.by, updated)


def _name(first: str, last: str | None, username: str | None, user_id: int) -> str:
    return Person(user_id, first, last, username).display_name


class SqlAudiences(Repository):
    async def save(
        self, chat_pk: int, name: str, rule: str, *, by: int | None, at: dt.datetime
    ) -> bool:
        # An upsert, so two admins saving one new name at once both succeed (the later wins).
        existed = await self.session.scalar(
            select(A.id).where(A.chat_id == chat_pk, A.name == name)
        )
        await self.session.execute(
            insert_for(self.session, A.__table__)
            .values(chat_id=chat_pk, name=name, rule=rule, by=by, created_at=at, updated_at=at)
            .on_conflict_do_update(
                index_elements=["chat_id", "name"],
                set_={"rule": rule, "by": by, "updated_at": at},
            )
        )
        return existed is None

    async def get(self, chat_pk: int, name: str) -> SavedAudience | None:
        row = await self.session.scalar(select(A).where(A.chat_id == chat_pk, A.name == name))
        return _saved(row) if row is not None else None

    async def all(self, chat_pk: int) -> list[SavedAudience]:
        rows = await self.session.scalars(select(A).where(A.chat_id == chat_pk).order_by(A.name))
        return [_saved(row) for row in rows]

    async def delete(self, chat_pk: int, name: str) -> bool:
        result = await self.session.execute(
            delete(A).where(A.chat_id == chat_pk, A.name == name).returning(A.id)
        )
        return result.first() is not None

    async def ladder(self, chat_pk: int) -> TierLadder:
        row = (
            await self.session.execute(
                select(ChatRow.tiers, ChatRow.language).where(ChatRow.id == chat_pk)
            )
        ).first()
        if row is None:
            return ladder_from_json(None)
        # One reading of chats.tiers, as the settings do: the default names in the language.
        return ladder_from_json(row.tiers).in_language(row.language)

    async def _selected(
        self, chat_pk: int, expr: Expr, now: dt.datetime, *, whole: bool = True
    ) -> ColumnElement[bool]:
        """`whole`: the statement reads the whole selection (a count, an export), not its
        first few members in user id order, which the index on (chat_id, user_id) gives at
        once without asking how big the group is."""
        group = await memberships_of(self.session, chat_pk) if whole else M.chat_id == chat_pk
        return and_(group, await group_audience_where(self.session, chat_pk, expr, now))

    async def members(
        self, chat_pk: int, expr: Expr, now: dt.datetime, *, limit: int | None = None
    ) -> list[int]:
        query = (
            select(M.user_id)
            .join(U, U.id == M.user_id)
            .where(await self._selected(chat_pk, expr, now, whole=limit is None))
            .order_by(M.user_id)
            .limit(limit)
        )
        return list(await self.session.scalars(query))

    async def count(self, chat_pk: int, expr: Expr, now: dt.datetime) -> int:
        query = (
            select(func.count())
            .select_from(M)
            .join(U, U.id == M.user_id)
            .where(await self._selected(chat_pk, expr, now))
        )
        return int(await self.session.scalar(query) or 0)

    async def names(self, user_ids: list[int]) -> dict[int, str]:
        rows = await self.session.execute(
            select(U.id, U.first_name, U.last_name, U.username).where(U.id.in_(user_ids))
        )
        return {uid: _name(first, last, username, uid) for uid, first, last, username in rows}

    async def export(
        self, chat_pk: int, expr: Expr, now: dt.datetime, ladder: TierLadder
    ) -> list[AudienceMember]:
        rows = (
            await self.session.execute(
                select(M, U)
                .join(U, U.id == M.user_id)
                .where(await self._selected(chat_pk, expr, now))
                .order_by(M.user_id)
            )
        ).all()
        return await self._exported([(m, u) for m, u in rows], chat_pk, ladder)

    async def browse(
        self,
        chat_pk: int,
        expr: Expr | None,
        now: dt.datetime,
        ladder: TierLadder,
        *,
        search: str,
        sort: MemberSort,
        descending: bool,
        offset: int,
        limit: int,
        count_cap: int = COUNT_CAP,
    ) -> tuple[int, list[AudienceMember]]:
        # `M.present` as the partial indexes (ix_memberships_present_*) are written, so a
        # page of a big group is read from the index and its count is an index-only scan.
        where: list[ColumnElement[bool]] = [M.chat_id == chat_pk, M.present == true()]
        if expr is not None:  # the audience's own clause: the same members as a broadcast
            where.append(await group_audience_where(self.session, chat_pk, expr, now))
        if search_words(search):
            pattern = "%" + _escape_like(search_words(search).lower()) + "%"
            found: list[ColumnElement[bool]] = [
                func.lower(column).like(pattern, escape="\\")
                for column in (U.first_name, U.last_name, U.username)
            ]
            if (exact := search_id(search)) is not None:
                found.append(M.user_id == exact)
            where.append(or_(*found))
        users = expr is not None or bool(search_words(search))  # only then are users read

        def joined(query: Select[Any]) -> Select[Any]:
            return query.join(U, U.id == M.user_id) if users else query

        matching = joined(select(M.user_id)).where(*where).limit(count_cap + 1).subquery()
        total = await self.session.scalar(select(func.count()).select_from(matching))
        column = _SORTS[sort]
        order = (column.desc(), M.user_id.desc()) if descending else (column.asc(), M.user_id)
        page = joined(select(M.user_id)).where(*where).order_by(*order).offset(offset).limit(limit)
        ids = list(await self.session.scalars(page))
        rows: dict[int, tuple[MembershipRow, UserRow]] = {}
        for start in range(0, len(ids), 5000):  # an export asks for all of them
            chunk = ids[start : start + 5000]
            found_rows = await self.session.execute(
                select(M, U)
                .join(U, U.id == M.user_id)
                .where(M.chat_id == chat_pk, M.user_id.in_(chunk))
            )
            rows.update({m.user_id: (m, u) for m, u in found_rows})
        ordered = [rows[i] for i in ids if i in rows]
        return int(total or 0), await self._exported(ordered, chat_pk, ladder)

    async def _exported(
        self, rows: list[tuple[MembershipRow, UserRow]], chat_pk: int, ladder: TierLadder
    ) -> list[AudienceMember]:
        """The members as the CSV and the dashboard show them: tags read in chunks of ids."""
        tags: dict[int, list[str]] = {}
        ids = [m.user_id for m, _ in rows]
        for start in range(0, len(ids), 5000):
            found = await self.session.execute(
                select(T.user_id, T.tag)
                .where(T.chat_id == chat_pk, T.user_id.in_(ids[start : start + 5000]))
                .order_by(T.user_id, T.tag)
            )
            for uid, tag in found:
                tags.setdefault(uid, []).append(tag)
        return [
            AudienceMember(
                user_id=m.user_id,
                name=_name(u.first_name, u.last_name, u.username, u.id),
                username=u.username,
                stage=m.stage,
                rfm_segment=m.rfm_segment,
                tier=ladder.name_of(m.tier),
                tags=tuple(tags.get(m.user_id, [])),
                points=m.points,
                orders=m.orders,
                spend=m.spend,
            )
            for m, u in rows
        ]


def _escape_like(text: str) -> str:
    """A search typed by an operator matches literally: `%` and `_` are not wildcards."""
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


_SORTS: dict[MemberSort, Any] = {
    MemberSort.POINTS: M.points,
    MemberSort.ORDERS: M.orders,
    MemberSort.SPEND: M.spend,
    MemberSort.JOINED: M.joined_at,
    MemberSort.ACTIVE: M.last_active_at,
    MemberSort.ID: M.user_id,
}
