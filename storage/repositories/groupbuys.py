"""Deals, teams and team members; every limit is a conditional UPDATE or a unique index."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, func, select, update

from campaigns.groupbuys import Deal, TeamStatus
from campaigns.ports.groupbuys import DealRecord, TeamRecord
from campaigns.settings import utc
from storage.models import CouponTemplateRow, DealRow, TeamMemberRow, TeamRow
from storage.repositories.base import Repository, insert_for

D, TM, TR = DealRow, TeamMemberRow, TeamRow


def _deal(row: DealRow) -> DealRecord:
    deal = Deal(
        title=row.title,
        price=row.price,
        group_price=row.group_price,
        size=row.size,
        team_minutes=row.team_minutes,
        ends_at=utc(row.ends_at),
        stock=row.stock,
        currency=row.currency,
    )
    return DealRecord(
        row.id,
        row.chat_id,
        deal,
        row.description,
        row.taken,
        row.offer_id,
        row.message_id,
        row.photo_name,
        row.photo_file_id,
    )


def _team(row: TeamRow) -> TeamRecord:
    return TeamRecord(
        id=row.id,
        deal_id=row.deal_id,
        leader_id=row.leader_id,
        status=TeamStatus(row.status),
        members=row.members,
        size=row.size,
        expires_at=utc(row.expires_at),
        message_id=row.chat_message_id,
        share_token=row.share_token,
    )


class SqlGroupBuys(Repository):
    async def add_deal(
        self,
        chat_pk: int,
        deal: Deal,
        *,
        description: str | None,
        offer_id: int,
        at: dt.datetime,
        photo: tuple[str, bytes] | None = None,
    ) -> int:
        row = D(
            chat_id=chat_pk,
            title=deal.title,
            description=description,
            price=deal.price,
            group_price=deal.group_price,
            currency=deal.currency,
            size=deal.size,
            team_minutes=deal.team_minutes,
            ends_at=deal.ends_at,
            stock=deal.stock,
            taken=0,
            offer_id=offer_id,
            created_at=at,
            photo_name=photo[0] if photo else None,
            photo=photo[1] if photo else None,
        )
        self.session.add(row)
        await self.session.flush()
        return row.id

    async def deal(self, deal_id: int) -> DealRecord | None:
        row = await self.session.get(D, deal_id, populate_existing=True)
        return _deal(row) if row else None

    async def take_unit(self, deal_id: int) -> bool:
        result = await self.session.execute(
            update(D)
            .where(D.id == deal_id, D.stock.is_(None) | (D.taken < D.stock))
            .values(taken=D.taken + 1)
            .returning(D.id)
            .execution_options(synchronize_session=False)
        )
        return result.first() is not None

    async def release_units(self, deal_id: int, n: int) -> None:
        if n:
            await self.session.execute(
                update(D)
                .where(D.id == deal_id)
                .values(taken=D.taken - n)
                .execution_options(synchronize_session=False)
            )

    async def add_team(
        self,
        deal_id: int,
        leader_id: int,
        *,
        size: int,
        at: dt.datetime,
        expires_at: dt.datetime,
        share_token: str,
    ) -> int:
        row = TR(
            share_token=share_token,
            deal_id=deal_id,
            leader_id=leader_id,
            status=str(TeamStatus.OPEN),
            members=0,
            size=size,
            created_at=at,
            expires_at=expires_at,
        )
        self.session.add(row)
        await self.session.flush()
        return row.id

    async def team(self, team_id: int) -> TeamRecord | None:
        row = await self.session.get(TR, team_id, populate_existing=True)
        return _team(row) if row else None

    async def deals_of(self, chat_pk: int) -> list[DealRecord]:
        rows = await self.session.scalars(
            select(D).where(D.chat_id == chat_pk).order_by(D.id.desc())
        )
        return [_deal(row) for row in rows]

    async def end_deal(self, deal_id: int, at: dt.datetime) -> bool:
        result = await self.session.execute(
            update(D)
            .where(D.id == deal_id, D.ends_at > at)
            .values(ends_at=at)
            .execution_options(synchronize_session=False)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def end_payouts(self, now: dt.datetime) -> int:
        result = await self.session.execute(
            update(CouponTemplateRow)
            .where(
                CouponTemplateRow.active.is_(True),
                CouponTemplateRow.id.in_(select(D.offer_id).where(D.ends_at <= now)),
            )
            .values(active=False)
            .execution_options(synchronize_session=False)
        )
        return int(result.rowcount)  # type: ignore[attr-defined]

    async def team_by_token(self, share_token: str) -> TeamRecord | None:
        row = await self.session.scalar(select(TR).where(TR.share_token == share_token))
        return _team(row) if row else None

    async def add_member(self, team_id: int, deal_id: int, user_id: int, at: dt.datetime) -> bool:
        table = TM.__table__
        stmt = (
            insert_for(self.session, table)
            .values(team_id=team_id, deal_id=deal_id, user_id=user_id, joined_at=at, open=True)
            .on_conflict_do_nothing()
            .returning(table.c.id)
        )
        return (await self.session.execute(stmt)).first() is not None

    async def grow(self, team_id: int, at: dt.datetime) -> int | None:
        result = await self.session.execute(
            update(TR)
            .where(
                TR.id == team_id,
                TR.status == str(TeamStatus.OPEN),
                TR.members < TR.size,
                TR.expires_at > at,
            )
            .values(members=TR.members + 1)
            .returning(TR.members)
            .execution_options(synchronize_session=False)
        )
        return result.scalar()

    async def shrink(self, team_id: int, user_id: int) -> int | None:
        removed = await self.session.execute(
            delete(TM)
            .where(TM.team_id == team_id, TM.user_id == user_id, TM.open.is_(True))
            .returning(TM.id)
        )
        if removed.first() is None:
            return None
        result = await self.session.execute(
            update(TR)
            .where(TR.id == team_id, TR.status == str(TeamStatus.OPEN))
            .values(members=TR.members - 1)
            .returning(TR.members)
            .execution_options(synchronize_session=False)
        )
        return result.scalar()

    async def close(self, team_id: int, status: TeamStatus, at: dt.datetime) -> bool:
        result = await self.session.execute(
            update(TR)
            .where(TR.id == team_id, TR.status == str(TeamStatus.OPEN))
            .values(status=str(status), closed_at=at)
            .returning(TR.id)
            .execution_options(synchronize_session=False)
        )
        if result.first() is None:
            return False
        await self.session.execute(
            update(TM)
            .where(TM.team_id == team_id)
            .values(open=False)
            .execution_options(synchronize_session=False)
        )
        return True

    async def members_of(self, team_id: int) -> list[int]:
        rows = await self.session.scalars(
            select(TM.user_id).where(TM.team_id == team_id).order_by(TM.joined_at, TM.id)
        )
        return [int(uid) for uid in rows]

    async def due(self, now: dt.datetime, limit: int) -> list[TeamRecord]:
        rows = await self.session.scalars(
            select(TR)
            .where(TR.status == str(TeamStatus.OPEN), TR.expires_at <= now)
            .order_by(TR.expires_at, TR.id)
            .limit(limit)
        )
        return [_team(row) for row in rows]

    async def set_message(self, team_id: int, message_id: int) -> None:
        await self.session.execute(
            update(TR)
            .where(TR.id == team_id)
            .values(chat_message_id=message_id)
            .execution_options(synchronize_session=False)
        )

    async def set_deal_message(
        self, deal_id: int, message_id: int, photo_file_id: str | None = None
    ) -> None:
        values: dict[str, object] = {"message_id": message_id}
        if photo_file_id is not None:
            values["photo_file_id"] = photo_file_id
        await self.session.execute(
            update(D)
            .where(D.id == deal_id)
            .values(**values)
            .execution_options(synchronize_session=False)
        )

    async def deal_photo(self, deal_id: int) -> bytes | None:
        return await self.session.scalar(select(D.photo).where(D.id == deal_id))

    async def team_counts(self, deal_id: int) -> dict[TeamStatus, int]:
        rows = await self.session.execute(
            select(TR.status, func.count()).where(TR.deal_id == deal_id).group_by(TR.status)
        )
        return {TeamStatus(status): int(n) for status, n in rows}

    async def live_posts(self, now: dt.datetime, limit: int) -> tuple[list[int], list[int]]:
        deals = await self.session.scalars(
            select(D.id)
            .where(D.message_id.is_not(None), D.ended_at.is_(None), D.ends_at > now)
            .order_by(D.id)
            .limit(limit)
        )
        teams = await self.session.scalars(
            select(TR.id)
            .where(
                TR.status == str(TeamStatus.OPEN),
                TR.chat_message_id.is_not(None),
                TR.expires_at > now,
            )
            .order_by(TR.id)
            .limit(limit)
        )
        return list(deals), list(teams)

    async def ended_deals(self, now: dt.datetime, limit: int) -> list[DealRecord]:
        result = await self.session.execute(
            update(D)
            .where(
                D.id.in_(
                    select(D.id)
                    .where(D.ends_at <= now, D.ended_at.is_(None), D.message_id.is_not(None))
                    .order_by(D.id)
                    .limit(limit)
                    .scalar_subquery()
                ),
                D.ended_at.is_(None),
            )
            .values(ended_at=now)
            .returning(D.id)
            .execution_options(synchronize_session=False)
        )
        ids = sorted(int(i) for i in result.scalars())
        return [_deal(row) for row in [await self.session.get(D, i) for i in ids] if row]

    async def fullest_open_team(self, deal_id: int, now: dt.datetime) -> int | None:
        return await self.session.scalar(
            select(TR.id)
            .where(
                TR.deal_id == deal_id,
                TR.status == str(TeamStatus.OPEN),
                TR.members < TR.size,
                TR.expires_at > now,
            )
            .order_by(TR.members.desc(), TR.id)
            .limit(1)
        )
