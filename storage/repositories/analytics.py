"""The aggregates behind /funnels and /cohorts: one statement per funnel, counted in SQL.

What a step means is decided in campaigns/funnels.py; each statement here restates it for a
whole group (tests/storage/test_analytics_storage.py holds every count to the rule over the
same rows, on SQLite and PostgreSQL). Durations are compared in whole seconds
(`epoch_seconds`), as the rule measures them.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Date, and_, case, exists, func, or_, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.sql.functions import FunctionElement

from campaigns.broadcast_variants import ArmCounts
from campaigns.channels import CHANNEL
from campaigns.experiments import HOLDOUT
from campaigns.funnels import (
    ACTIVE_WITHIN,
    ATTRIBUTED_STATUSES,
    OFFER,
    ORDER_WITHIN,
    TEAM_COMPLETE,
    FunnelKind,
)
from campaigns.members import EventKind
from campaigns.outbox import DeliveryStatus
from campaigns.ports.analytics import OfferCounts
from storage.models import (
    BroadcastRow,
    CouponRow,
    CouponTemplateRow,
    DealRow,
    DeliveryRow,
    EventRow,
    InviteLinkRow,
    InviteRow,
    JourneyRunRow,
    MemberDayRow,
    MembershipRow,
    OrderRow,
    TeamMemberRow,
    TeamRow,
)
from storage.repositories.base import Repository
from storage.repositories.segments import epoch_seconds

E, OR, IV, L = EventRow, OrderRow, InviteRow, InviteLinkRow
TR, TM, D, DL = TeamRow, TeamMemberRow, DealRow, DeliveryRow


class week_monday(FunctionElement[dt.date]):
    """The Monday of a stored day's week."""

    type = Date()
    inherit_cache = True


@compiles(week_monday, "postgresql")
def _monday_pg(element: Any, compiler: Any, **kw: Any) -> str:
    day = compiler.process(element.clauses, **kw)
    return f"CAST(date_trunc('week', CAST({day} AS timestamp)) AS date)"


@compiles(week_monday, "sqlite")
def _monday_sqlite(element: Any, compiler: Any, **kw: Any) -> str:
    day = compiler.process(element.clauses, **kw)
    return f"date({day}, '-' || ((CAST(strftime('%w', {day}) AS INTEGER) + 6) % 7) || ' days')"


def _count_if(condition: ColumnElement[bool]) -> Any:
    return func.count(case((condition, 1)))


def _count_distinct_if(condition: ColumnElement[bool], value: Any) -> Any:
    return func.count(func.distinct(case((condition, value))))


def _in(column: Any, since: dt.datetime, until: dt.datetime) -> ColumnElement[bool]:
    return and_(column >= since, column < until)


def _ordered_after(chat_pk: int, user: Any, start: Any, until: dt.datetime) -> Any:
    return exists().where(OR.chat_id == chat_pk, OR.user_id == user, OR.at >= start, OR.at < until)


def _within(at: Any, start: Any, within: dt.timedelta, until: dt.datetime) -> ColumnElement[bool]:
    gap = epoch_seconds(at) - epoch_seconds(start)
    return and_(gap >= 0, gap <= int(within.total_seconds()), at < until)


class SqlAnalytics(Repository):
    async def joins(self, chat_pk: int, since: dt.datetime) -> dict[int, dt.datetime]:
        M = MembershipRow
        rows = await self.session.execute(
            select(M.user_id, M.joined_at).where(M.chat_id == chat_pk, M.joined_at >= since)
        )
        return {user_id: at for user_id, at in rows if at is not None}

    async def active_weeks(self, chat_pk: int, from_day: dt.date) -> set[tuple[int, dt.date]]:
        MD = MemberDayRow
        rows = await self.session.execute(
            select(MD.user_id, week_monday(MD.day))
            .where(MD.chat_id == chat_pk, MD.day >= from_day)
            .distinct()
        )
        return {(user_id, monday) for user_id, monday in rows}

    async def referral(self, chat_pk: int, since: dt.datetime, until: dt.datetime) -> list[int]:
        sharers = (
            select(L.owner_id.label("owner"))
            .where(
                L.chat_id == chat_pk,
                L.created_at < until,
                (L.revoked_at.is_(None)) | (L.revoked_at >= since),
                L.kind != CHANNEL,
            )
            .distinct()
            .subquery()
        )
        friend = and_(
            IV.chat_id == chat_pk,
            IV.inviter_id == sharers.c.owner,
            IV.status.in_(sorted(ATTRIBUTED_STATUSES)),
            _in(IV.joined_at, since, until),
        )
        confirmed = and_(friend, IV.status == "confirmed", IV.confirmed_at < until)
        ordered = and_(confirmed, _ordered_after(chat_pk, IV.invitee_id, IV.joined_at, until))
        row = (
            await self.session.execute(
                select(
                    func.count(),
                    _count_if(exists().where(friend)),
                    _count_if(exists().where(confirmed)),
                    _count_if(exists().where(ordered)),
                ).select_from(sharers)
            )
        ).one()
        return list(row)

    async def coupons(
        self, chat_pk: int, since: dt.datetime, until: dt.datetime
    ) -> list[OfferCounts]:
        C, T = CouponRow, CouponTemplateRow
        rows = await self.session.execute(
            select(
                T.id,
                T.name,
                func.count(),
                _count_if(and_(C.redeemed_at.is_not(None), C.redeemed_at < until)),
            )
            .join(T, T.id == C.template_id)
            .where(C.chat_id == chat_pk, T.purpose == OFFER, _in(C.issued_at, since, until))
            .group_by(T.id, T.name)
            .order_by(T.id)
        )
        return [OfferCounts(*row) for row in rows]

    async def teams(self, chat_pk: int, since: dt.datetime, until: dt.datetime) -> list[int]:
        row = (
            await self.session.execute(
                select(func.count(), _count_if(self._completed(until)))
                .join(D, D.id == TR.deal_id)
                .where(D.chat_id == chat_pk, _in(TR.created_at, since, until))
            )
        ).one()
        return list(row)

    async def team_members(self, chat_pk: int, since: dt.datetime, until: dt.datetime) -> list[int]:
        done = self._completed(until)
        ordered = and_(done, _ordered_after(chat_pk, TM.user_id, TR.closed_at, until))
        row = (
            await self.session.execute(
                select(
                    func.count(func.distinct(TM.user_id)),
                    _count_distinct_if(done, TM.user_id),
                    _count_distinct_if(ordered, TM.user_id),
                )
                .select_from(TM)
                .join(TR, TR.id == TM.team_id)
                .join(D, D.id == TR.deal_id)
                .where(D.chat_id == chat_pk, _in(TR.created_at, since, until))
            )
        ).one()
        return list(row)

    @staticmethod
    def _completed(until: dt.datetime) -> ColumnElement[bool]:
        return and_(TR.status == TEAM_COMPLETE, TR.closed_at.is_not(None), TR.closed_at < until)

    async def messages(
        self, chat_pk: int, kind: FunnelKind, since: dt.datetime, until: dt.datetime
    ) -> list[int]:
        user = DL.target_chat
        active = exists().where(
            E.chat_id == chat_pk,
            E.user_id == user,
            E.kind.in_([EventKind.MESSAGE, EventKind.CHECKIN]),
            _within(E.at, DL.sent_at, ACTIVE_WITHIN, until),
        )
        ordered = exists().where(
            OR.chat_id == chat_pk,
            OR.user_id == user,
            _within(OR.at, DL.sent_at, ORDER_WITHIN, until),
        )
        query = select(func.count(), _count_if(active), _count_if(and_(active, ordered)))
        if kind is FunnelKind.BROADCAST:
            B = BroadcastRow
            query = query.select_from(DL).join(B, B.id == DL.broadcast_id).where(
                DL.kind == "broadcast", B.chat_id == chat_pk, B.target == "members"
            )  # fmt: skip
        else:
            JR = JourneyRunRow
            query = query.select_from(DL).join(JR, JR.id == DL.journey_run_id).where(
                DL.kind == "journey", JR.chat_id == chat_pk
            )  # fmt: skip
        row = (
            await self.session.execute(
                query.where(
                    DL.status == DeliveryStatus.SENT,
                    DL.target_chat > 0,
                    _in(DL.sent_at, since, until),
                )
            )
        ).one()
        return list(row)

    async def broadcast_arms(self, broadcast_id: int, now: dt.datetime) -> dict[str, ArmCounts]:
        B = BroadcastRow
        held = DL.status == DeliveryStatus.HOLDOUT
        # The holdout counts from the broadcast's start, when it would have had the message.
        since = case((held, B.started_at), else_=DL.sent_at)
        user = DL.target_chat
        active = exists().where(
            E.chat_id == B.chat_id,
            E.user_id == user,
            E.kind.in_([EventKind.MESSAGE, EventKind.CHECKIN]),
            _within(E.at, since, ACTIVE_WITHIN, now),
        )
        ordered = exists().where(
            OR.chat_id == B.chat_id, OR.user_id == user, _within(OR.at, since, ORDER_WITHIN, now)
        )
        members = and_(
            or_(
                and_(DL.arm == HOLDOUT, held),
                and_(DL.arm != HOLDOUT, DL.status == DeliveryStatus.SENT),
            ),
            since.is_not(None),
        )
        rows = await self.session.execute(
            select(DL.arm, func.count(), _count_if(active), _count_if(ordered))
            .select_from(DL)
            .join(B, B.id == DL.broadcast_id)
            .where(DL.broadcast_id == broadcast_id, members)
            .group_by(DL.arm)
        )
        return {arm: ArmCounts(int(n), int(a), int(o)) for arm, n, a, o in rows}

    @staticmethod
    def _new_member_steps(chat_pk: int, until: dt.datetime) -> list[Any]:
        M = MembershipRow

        def did(kind: EventKind) -> Any:
            return exists().where(
                E.chat_id == chat_pk, E.user_id == M.user_id, E.kind == kind,
                E.at >= M.joined_at, E.at < until,
            )  # fmt: skip

        spoke = did(EventKind.MESSAGE)
        checked = and_(spoke, did(EventKind.CHECKIN))
        ordered = and_(checked, _ordered_after(chat_pk, M.user_id, M.joined_at, until))
        return [func.count(), _count_if(spoke), _count_if(checked), _count_if(ordered)]

    async def new_members(self, chat_pk: int, since: dt.datetime, until: dt.datetime) -> list[int]:
        M = MembershipRow
        row = (
            await self.session.execute(
                select(*self._new_member_steps(chat_pk, until)).where(
                    M.chat_id == chat_pk, _in(M.joined_at, since, until)
                )
            )
        ).one()
        return list(row)

    async def new_members_by_channel(
        self, chat_pk: int, since: dt.datetime, until: dt.datetime
    ) -> dict[int | None, list[int]]:
        M = MembershipRow
        # The first join's own invite row (one per join: unique on member and time), and
        # its link when that is one of the group's channels.
        first_join = and_(IV.chat_id == M.chat_id, IV.invitee_id == M.user_id,
                          IV.joined_at == M.joined_at)  # fmt: skip
        channel = and_(L.id == IV.link_id, L.chat_id == M.chat_id, L.kind == CHANNEL)
        rows = await self.session.execute(
            select(L.id, *self._new_member_steps(chat_pk, until))
            .select_from(M)
            .outerjoin(IV, first_join)
            .outerjoin(L, channel)
            .where(M.chat_id == chat_pk, _in(M.joined_at, since, until))
            .group_by(L.id)
        )
        return {(int(link) if link is not None else None): list(counts)
                for link, *counts in rows}  # fmt: skip
