"""Journey runs: recorded once by their unique key; the candidates each step is due for."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import ColumnElement, Exists, and_, exists, func, literal, or_, select, update

from campaigns.audience_expr import Expr
from campaigns.coupons import CouponState
from campaigns.journeys import Journey, RunStatus, episode_of_spell
from campaigns.members import EventKind
from campaigns.outbox import DeliveryStatus
from campaigns.ports.journeys import Candidate, Outcomes, RunRecord
from campaigns.referral import InviteStatus
from storage.models import (
    CouponRow,
    DeliveryRow,
    EventRow,
    InviteRow,
    JourneyRunRow,
    MembershipRow,
    OrderRow,
    UserRow,
)
from storage.repositories.audiences import group_audience_where
from storage.repositories.base import Repository, aware, insert_for
from storage.repositories.orders import placed_by

JR = JourneyRunRow
E = EventRow
M = MembershipRow
U = UserRow


FIRST = "first"  # the episode of a journey that happens once per member


def _reachable(chat_pk: int) -> tuple[ColumnElement[bool], ...]:
    """Present members of the group who opened a private chat with the bot and did not
    /unsubscribe from journeys."""
    return (M.chat_id == chat_pk, M.present.is_(True), U.reachable.is_(True), _subscribed())


def _member_since(joined_before: dt.datetime) -> ColumnElement[bool]:
    """Joined before then, or there before the bot (no join seen)."""
    return or_(M.joined_at.is_(None), M.joined_at < joined_before)


def _subscribed() -> ColumnElement[bool]:
    return U.journeys_off.is_not(True)


def _run(journey: Journey, episode: Any) -> Exists:
    """The member (of M) has a first step of `journey` in `episode`."""
    return exists().where(
        JR.chat_id == M.chat_id,
        JR.user_id == M.user_id,
        JR.journey == journey,
        JR.episode == episode,
        JR.step == 1,
    )


class SqlJourneys(Repository):
    async def start(
        self,
        chat_pk: int,
        user_id: int,
        journey: Journey,
        episode: str,
        step: int,
        status: RunStatus,
        at: dt.datetime,
    ) -> int | None:
        inserted = await self.session.execute(
            insert_for(self.session, JR)
            .values(
                chat_id=chat_pk,
                user_id=user_id,
                journey=journey,
                episode=episode,
                step=step,
                status=status,
                at=at,
            )
            .on_conflict_do_nothing()
            .returning(JR.id)
        )
        return inserted.scalar_one_or_none()

    async def subscribe(self, user_id: int, on: bool) -> bool:
        changed = await self.session.execute(
            update(U)
            .where(U.id == user_id, U.journeys_off.is_(True) if on else _subscribed())
            .values(journeys_off=not on)
            .execution_options(synchronize_session=False)
        )
        return bool(changed.rowcount)  # type: ignore[attr-defined]

    async def set_status(self, run_id: int, status: RunStatus) -> None:
        await self.session.execute(update(JR).where(JR.id == run_id).values(status=status))

    async def set_coupon(self, run_id: int, code: str) -> None:
        await self.session.execute(update(JR).where(JR.id == run_id).values(coupon_code=code))

    async def winback(
        self,
        chat_pk: int,
        expr: Expr,
        now: dt.datetime,
        idle: tuple[dt.datetime, dt.datetime],
        limit: int,
    ) -> list[Candidate]:
        last = func.coalesce(M.last_active_at, M.joined_at)
        since_last = exists().where(
            JR.chat_id == M.chat_id,
            JR.user_id == M.user_id,
            JR.journey == Journey.WINBACK,
            JR.step == 1,
            or_(M.last_active_at.is_(None), JR.at >= M.last_active_at),
        )
        rows = await self.session.execute(
            select(M.user_id, M.last_active_at)
            .join(U, U.id == M.user_id)
            .where(
                M.chat_id == chat_pk,
                await group_audience_where(self.session, chat_pk, expr, now),
                _subscribed(),
                last >= idle[0],
                last <= idle[1],
                ~since_last,
            )
            .order_by(M.user_id)
            .limit(limit)
        )
        return [Candidate(int(uid), episode_of_spell(aware(last))) for uid, last in rows]

    async def winback_second(
        self, chat_pk: int, sent_before: dt.datetime, sent_after: dt.datetime, limit: int
    ) -> list[Candidate]:
        second = JR.__table__.alias("second")
        done = exists().where(
            second.c.chat_id == JR.chat_id,
            second.c.user_id == JR.user_id,
            second.c.journey == JR.journey,
            second.c.episode == JR.episode,
            second.c.step == 2,
        )
        rows = await self.session.execute(
            select(JR.user_id, JR.episode)
            .join(M, and_(M.chat_id == JR.chat_id, M.user_id == JR.user_id))
            .join(U, U.id == JR.user_id)
            .where(
                JR.chat_id == chat_pk,
                JR.journey == Journey.WINBACK,
                JR.step == 1,
                JR.status == RunStatus.QUEUED,
                JR.at <= sent_before,
                JR.at > sent_after,
                M.present.is_(True),
                U.reachable.is_(True),
                _subscribed(),
                or_(M.last_active_at.is_(None), M.last_active_at < JR.at),
                ~done,
            )
            .order_by(JR.user_id)
            .limit(limit)
        )
        return [Candidate(int(uid), str(episode)) for uid, episode in rows]

    async def _due(self, query: Any, limit: int) -> list[Candidate]:
        rows = await self.session.execute(query.order_by(M.user_id).limit(limit))
        return [Candidate(int(uid), str(episode)) for uid, episode in rows]

    async def first_orders(
        self, chat_pk: int, placed_from: dt.datetime, now: dt.datetime, limit: int
    ) -> list[Candidate]:
        first = (
            select(OrderRow.user_id, func.min(OrderRow.at).label("first"))
            .where(OrderRow.chat_id == chat_pk)
            .group_by(OrderRow.user_id)
            .subquery()
        )
        return await self._due(
            select(M.user_id, literal(FIRST))
            .join(U, U.id == M.user_id)
            .join(first, first.c.user_id == M.user_id)
            .where(
                *_reachable(chat_pk),
                first.c.first >= placed_from,
                first.c.first <= now,
                ~_run(Journey.FIRST_ORDER, literal(FIRST)),
            ),
            limit,
        )

    async def repurchases(
        self, chat_pk: int, ordered_from: dt.datetime, ordered_to: dt.datetime, limit: int
    ) -> list[Candidate]:
        rows = await self.session.execute(
            select(M.user_id, M.last_order_at)
            .join(U, U.id == M.user_id)
            .where(
                *_reachable(chat_pk),
                M.last_order_at > ordered_from,
                M.last_order_at <= ordered_to,
            )
            .order_by(M.user_id)
        )
        due = [Candidate(int(uid), episode_of_spell(aware(at))) for uid, at in rows]
        done = await self._episodes(chat_pk, Journey.REPURCHASE, [c.user_id for c in due])
        return [c for c in due if (c.user_id, c.episode) not in done][:limit]

    async def _episodes(
        self, chat_pk: int, journey: Journey, user_ids: list[int]
    ) -> set[tuple[int, str]]:
        found: set[tuple[int, str]] = set()
        for start in range(0, len(user_ids), 500):
            rows = await self.session.execute(
                select(JR.user_id, JR.episode).where(
                    JR.chat_id == chat_pk,
                    JR.journey == journey,
                    JR.user_id.in_(user_ids[start : start + 500]),
                )
            )
            found.update((int(u), str(e)) for u, e in rows)
        return found

    async def newcomers(
        self, chat_pk: int, joined_from: dt.datetime, joined_to: dt.datetime, limit: int
    ) -> list[Candidate]:
        return await self._due(
            select(M.user_id, literal(FIRST))
            .join(U, U.id == M.user_id)
            .where(
                *_reachable(chat_pk),
                M.joined_at > joined_from,
                M.joined_at <= joined_to,
                M.checkins == 0,
                ~_run(Journey.NUDGE, literal(FIRST)),
            ),
            limit,
        )

    async def invited_friends(
        self, chat_pk: int, confirmed_from: dt.datetime, limit: int
    ) -> list[Candidate]:
        return await self._due(
            select(M.user_id, literal(FIRST))
            .join(U, U.id == M.user_id)
            .join(
                InviteRow,
                and_(InviteRow.chat_id == M.chat_id, InviteRow.invitee_id == M.user_id),
            )
            .where(
                *_reachable(chat_pk),
                InviteRow.status == InviteStatus.CONFIRMED,
                InviteRow.inviter_id.is_not(None),
                InviteRow.confirmed_at > confirmed_from,
                ~_run(Journey.REFERRAL, literal(FIRST)),
            )
            .distinct(),
            limit,
        )

    async def birthdays(
        self,
        chat_pk: int,
        month_days: list[str],
        year: int,
        limit: int,
        *,
        joined_before: dt.datetime,
    ) -> list[Candidate]:
        episode = str(year)
        return await self._due(
            select(M.user_id, literal(episode))
            .join(U, U.id == M.user_id)
            .where(
                *_reachable(chat_pk),
                U.birthday.in_(month_days),
                func.coalesce(U.birthday_from, 0) <= year,
                _member_since(joined_before),
                ~_run(Journey.BIRTHDAY, literal(episode)),
            ),
            limit,
        )

    async def members_without(
        self,
        chat_pk: int,
        journey: Journey,
        episode: str,
        limit: int,
        *,
        joined_before: dt.datetime,
        min_tier: int = 0,
    ) -> list[Candidate]:
        return await self._due(
            select(M.user_id, literal(episode))
            .join(U, U.id == M.user_id)
            .where(
                *_reachable(chat_pk),
                M.tier >= min_tier,
                _member_since(joined_before),
                ~_run(journey, literal(episode)),
            ),
            limit,
        )

    async def runs(self, chat_pk: int, journey: Journey, since: dt.datetime) -> list[RunRecord]:
        first_active = (
            select(func.min(E.at))
            .where(
                E.chat_id == JR.chat_id,
                E.user_id == JR.user_id,
                E.at > JR.at,
                E.kind.in_([EventKind.MESSAGE, EventKind.CHECKIN]),
            )
            .scalar_subquery()
        )
        delivered = exists().where(
            DeliveryRow.journey_run_id == JR.id, DeliveryRow.status == DeliveryStatus.SENT
        )
        rows = await self.session.execute(
            select(JR, first_active, delivered)
            .where(JR.chat_id == chat_pk, JR.journey == journey, JR.at >= since)
            .order_by(JR.at, JR.id)
        )
        out = []
        for r, active, sent in rows:
            at = aware(r.at)
            assert at is not None
            out.append(
                RunRecord(
                    r.user_id,
                    r.episode,
                    r.step,
                    RunStatus(r.status),
                    at,
                    r.coupon_code,
                    aware(active),
                    bool(sent),
                )
            )
        return out

    async def outcomes(
        self, chat_pk: int, user_ids: list[int], since: dt.datetime, codes: list[str]
    ) -> Outcomes:
        orders = await placed_by(self, chat_pk, user_ids, since)
        redeemed: set[str] = set()
        for start in range(0, len(codes), 500):
            redeemed.update(
                await self.session.scalars(
                    select(CouponRow.code).where(
                        CouponRow.chat_id == chat_pk,
                        CouponRow.code.in_(codes[start : start + 500]),
                        CouponRow.status == CouponState.USED,
                    )
                )
            )
        return Outcomes(orders, redeemed)
