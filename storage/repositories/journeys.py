"""Journey runs: recorded once by their unique key; the candidates each step is due for."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from sqlalchemy import Exists, and_, exists, func, or_, select, update

from campaigns.audience_expr import Expr
from campaigns.coupons import CouponState
from campaigns.journeys import Journey, RunStatus, episode_of_spell
from campaigns.ports.journeys import Candidate, Outcomes, RunRecord
from storage.models import (
    CouponRow,
    JourneyRunRow,
    MemberDayRow,
    MembershipRow,
    OrderRow,
    UserRow,
)
from storage.repositories.audiences import audience_where
from storage.repositories.base import Repository, aware, insert_for

JR = JourneyRunRow
M = MembershipRow
U = UserRow


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

    async def set_coupon(self, run_id: int, code: str) -> None:
        await self.session.execute(update(JR).where(JR.id == run_id).values(coupon_code=code))

    async def winback(
        self, chat_pk: int, expr: Expr, now: dt.datetime, idle_from: dt.datetime, limit: int
    ) -> list[Candidate]:
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
                audience_where(expr, now),
                func.coalesce(M.last_active_at, M.joined_at) >= idle_from,
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
                or_(M.last_active_at.is_(None), M.last_active_at < JR.at),
                ~done,
            )
            .order_by(JR.user_id)
            .limit(limit)
        )
        return [Candidate(int(uid), str(episode)) for uid, episode in rows]

    async def birthdays(
        self, chat_pk: int, month_days: list[str], year: int, limit: int
    ) -> list[Candidate]:
        episode = str(year)
        rows = await self.session.scalars(
            select(M.user_id)
            .join(U, U.id == M.user_id)
            .where(
                M.chat_id == chat_pk,
                M.present.is_(True),
                U.reachable.is_(True),
                U.birthday.in_(month_days),
                func.coalesce(U.birthday_from, 0) <= year,
                ~self._ran(Journey.BIRTHDAY, episode),
            )
            .order_by(M.user_id)
            .limit(limit)
        )
        return [Candidate(int(uid), episode) for uid in rows]

    async def members_without(
        self, chat_pk: int, journey: Journey, episode: str, limit: int, *, min_tier: int = 0
    ) -> list[Candidate]:
        rows = await self.session.scalars(
            select(M.user_id)
            .join(U, U.id == M.user_id)
            .where(
                M.chat_id == chat_pk,
                M.present.is_(True),
                U.reachable.is_(True),
                M.tier >= min_tier,
                ~self._ran(journey, episode),
            )
            .order_by(M.user_id)
            .limit(limit)
        )
        return [Candidate(int(uid), episode) for uid in rows]

    @staticmethod
    def _ran(journey: Journey, episode: str) -> Exists:
        """A member's step of `journey` in `episode` exists (any step, any status)."""
        return exists().where(
            JR.chat_id == M.chat_id,
            JR.user_id == M.user_id,
            JR.journey == journey,
            JR.episode == episode,
        )

    async def runs(self, chat_pk: int, journey: Journey, since: dt.datetime) -> list[RunRecord]:
        rows = await self.session.scalars(
            select(JR)
            .where(JR.chat_id == chat_pk, JR.journey == journey, JR.at >= since)
            .order_by(JR.at, JR.id)
        )
        out = []
        for r in rows:
            at = aware(r.at)
            assert at is not None
            out.append(
                RunRecord(r.user_id, r.episode, r.step, RunStatus(r.status), at, r.coupon_code)
            )
        return out

    async def outcomes(
        self, chat_pk: int, user_ids: list[int], since: dt.datetime, codes: list[str]
    ) -> Outcomes:
        days: dict[int, list[dt.date]] = defaultdict(list)
        orders: dict[int, list[tuple[dt.datetime, int]]] = defaultdict(list)
        redeemed: set[str] = set()
        for start in range(0, len(user_ids), 500):
            chunk = user_ids[start : start + 500]
            for uid, day in await self.session.execute(
                select(MemberDayRow.user_id, MemberDayRow.day).where(
                    MemberDayRow.chat_id == chat_pk,
                    MemberDayRow.user_id.in_(chunk),
                    MemberDayRow.day >= since.date() - dt.timedelta(days=1),
                )
            ):
                days[int(uid)].append(day)
            for uid, at, amount in await self.session.execute(
                select(OrderRow.user_id, OrderRow.at, OrderRow.amount).where(
                    OrderRow.chat_id == chat_pk, OrderRow.user_id.in_(chunk), OrderRow.at >= since
                )
            ):
                placed = aware(at)
                assert placed is not None
                orders[int(uid)].append((placed, int(amount)))
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
        return Outcomes(dict(days), dict(orders), redeemed)
