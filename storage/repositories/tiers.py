"""Membership tiers: standings summed from the month buckets, tiers, rewards once per level."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Select, func, select, update

from campaigns.ports.tiers import TierState
from campaigns.tiers import Standing
from storage.models import MemberMonthRow, MembershipRow, TierRewardRow
from storage.repositories.base import Repository, aware, insert_for

M = MembershipRow
MM = MemberMonthRow
TR = TierRewardRow


def _standings(chat_pk: int, since: dt.date | None) -> Select[Any]:
    """Members with their tier and standing: lifetime totals from the member's row, or the
    sums of their month buckets from `since` on (a correlated sum per member)."""
    if since is None:
        spend: Any = M.spend
        earned: Any = M.points_earned
    else:
        window = (MM.chat_id == M.chat_id, MM.user_id == M.user_id, MM.month >= since)
        spend = select(func.coalesce(func.sum(MM.spend), 0)).where(*window).scalar_subquery()
        earned = (
            select(func.coalesce(func.sum(MM.points_earned), 0)).where(*window).scalar_subquery()
        )
    return select(
        M.user_id,
        M.tier,
        M.tier_since,
        M.tier_below_since,
        spend.label("spend"),
        earned.label("earned"),
    ).where(M.chat_id == chat_pk)


def _state(row: Any) -> TierState:
    return TierState(
        user_id=int(row.user_id),
        level=int(row.tier or 0),
        since=aware(row.tier_since),
        below_since=aware(row.tier_below_since),
        standing=Standing(spend=int(row.spend or 0), points_earned=int(row.earned or 0)),
    )


class SqlTiers(Repository):
    async def state(self, chat_pk: int, user_id: int, since: dt.date | None) -> TierState | None:
        row = await self.session.execute(_standings(chat_pk, since).where(M.user_id == user_id))
        found = row.first()
        return _state(found) if found is not None else None

    async def holders(self, chat_pk: int, since: dt.date | None) -> list[TierState]:
        rows = await self.session.execute(
            _standings(chat_pk, since).where(M.tier > 0).order_by(M.user_id)
        )
        return [_state(row) for row in rows]

    async def move(
        self, chat_pk: int, user_id: int, *, level: int, at: dt.datetime, only_up: bool
    ) -> bool:
        """A conditional UPDATE: with `only_up`, a racing promotion that already moved the
        member as far finds its condition false (PostgreSQL re-checks it after the lock)."""
        where = [M.chat_id == chat_pk, M.user_id == user_id, M.tier != level]
        if only_up:
            where.append(M.tier < level)
        moved = await self.session.execute(
            update(M)
            .where(*where)
            .values(tier=level, tier_since=at, tier_below_since=None)
            .returning(M.id)
            .execution_options(synchronize_session=False)
        )
        return moved.first() is not None

    async def set_below_since(
        self, chat_pk: int, user_id: int, below_since: dt.datetime | None
    ) -> None:
        await self.session.execute(
            update(M)
            .where(M.chat_id == chat_pk, M.user_id == user_id)
            .values(tier_below_since=below_since)
            .execution_options(synchronize_session=False)
        )

    async def cap(self, chat_pk: int, top: int) -> None:
        await self.session.execute(
            update(M)
            .where(M.chat_id == chat_pk, M.tier > top)
            .values(tier=top)
            .execution_options(synchronize_session=False)
        )

    async def rewarded(self, chat_pk: int, user_id: int) -> set[int]:
        levels = await self.session.scalars(
            select(TR.level).where(TR.chat_id == chat_pk, TR.user_id == user_id)
        )
        return {int(level) for level in levels}

    async def reward(self, chat_pk: int, user_id: int, level: int, at: dt.datetime) -> bool:
        """ON CONFLICT DO NOTHING: the unique (chat, member, level) decides, and on
        PostgreSQL a second process waits for the first's commit and then inserts nothing."""
        stmt = (
            insert_for(self.session, TR.__table__)
            .values(chat_id=chat_pk, user_id=user_id, level=level, at=at)
            .on_conflict_do_nothing(index_elements=["chat_id", "user_id", "level"])
            .returning(TR.__table__.c.id)
        )
        return (await self.session.execute(stmt)).first() is not None
