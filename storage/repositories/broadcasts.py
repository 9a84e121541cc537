"""Broadcasts and who they go to."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import exists, func, select, update
from sqlalchemy.sql import ColumnElement

from campaigns.audience import Audience
from campaigns.content import PostContent
from campaigns.outbox import UNFINISHED, BroadcastStatus
from campaigns.ports.broadcasts import BroadcastRecord
from storage.models import BroadcastRow, DeliveryRow, MembershipRow, UserRow
from storage.repositories.base import Repository, aware

B, DL, M, U = BroadcastRow, DeliveryRow, MembershipRow, UserRow


def audience_prefilter(audience: Audience, now: dt.datetime) -> list[ColumnElement[bool]]:
    """`Audience.matches` compiled to SQL over memberships (M) joined to users (U), one clause
    per rule; the predicate decides and the two must agree (tests/storage/test_rule_prefilters.py).
    """
    a = audience
    where: list[ColumnElement[bool]] = [M.present.is_(True), U.reachable.is_(True)]
    if (cut := a.cutoff(a.joined_within, now)) is not None:
        where.append(M.joined_at >= cut)
    if (cut := a.cutoff(a.joined_over, now)) is not None:
        # An unknown join date means "there before the bot": a long-standing member.
        where.append((M.joined_at < cut) | M.joined_at.is_(None))
    if (cut := a.cutoff(a.active_within, now)) is not None:
        where.append(M.last_active_at >= cut)
    if (cut := a.cutoff(a.active_over, now)) is not None:
        where.append((M.last_active_at < cut) | M.last_active_at.is_(None))
    if (cut := a.cutoff(a.checkin_within, now)) is not None:
        where.append(M.last_checkin_day >= cut.date())
    if (cut := a.cutoff(a.checkin_over, now)) is not None:
        where.append((M.last_checkin_day < cut.date()) | M.last_checkin_day.is_(None))
    if a.points_min is not None:
        where.append(M.points >= a.points_min)
    return where


def _record(row: BroadcastRow) -> BroadcastRecord:
    progress = (
        (row.progress_chat_id, row.progress_message_id)
        if row.progress_chat_id is not None and row.progress_message_id is not None
        else None
    )
    created = aware(row.created_at)
    assert created is not None
    return BroadcastRecord(
        id=row.id,
        chat_pk=row.chat_id,
        target=row.target,
        content=PostContent.model_validate(row.content),
        audience=Audience.model_validate(row.audience),
        status=BroadcastStatus(row.status),
        total=row.total,
        created_by=row.created_by,
        progress=progress,
        created_at=created,
        started_at=aware(row.started_at),
        finished_at=aware(row.finished_at),
        variants=(
            tuple(PostContent.model_validate(v) for v in row.variants) if row.variants else None
        ),
        holdout=row.holdout or 0,
    )


class SqlBroadcasts(Repository):
    async def add(
        self,
        chat_pk: int | None,
        target: str,
        content: PostContent,
        audience: Audience,
        *,
        created_by: int | None,
        at: dt.datetime,
        variants: Sequence[PostContent] = (),
        holdout: int = 0,
    ) -> int:
        dumped = [v.model_dump(mode="json", exclude_defaults=True) for v in variants]
        row = B(
            chat_id=chat_pk,
            target=target,
            content=content.model_dump(mode="json", exclude_defaults=True),
            audience=audience.model_dump(mode="json", exclude_none=True),
            status=BroadcastStatus.DRAFT,
            total=0,
            created_by=created_by,
            created_at=at,
            variants=dumped if len(dumped) > 1 else None,
            holdout=holdout,
        )
        self.session.add(row)
        await self.session.flush()
        return row.id

    async def get(self, broadcast_id: int) -> BroadcastRecord | None:
        row = await self.session.get(B, broadcast_id, populate_existing=True)
        return _record(row) if row else None

    async def recipients(self, chat_pk: int, audience: Audience, now: dt.datetime) -> list[int]:
        query = (
            select(M.user_id)
            .join(U, U.id == M.user_id)
            .where(M.chat_id == chat_pk, *audience_prefilter(audience, now))
        )
        return list(await self.session.scalars(query.order_by(M.user_id)))

    async def set_status(
        self,
        broadcast_id: int,
        *,
        old: Sequence[BroadcastStatus],
        new: BroadcastStatus,
        at: dt.datetime,
    ) -> bool:
        values: dict[str, object] = {"status": new}
        if (
            new == BroadcastStatus.SENDING
        ):  # a resume keeps the first start: the report spans it all
            values["started_at"] = func.coalesce(B.started_at, at)
        if new in {BroadcastStatus.CANCELLED, BroadcastStatus.DONE}:
            values["finished_at"] = at
        result = await self.session.execute(
            update(B)
            .where(B.id == broadcast_id, B.status.in_(list(old)))
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def set_total(self, broadcast_id: int, total: int) -> None:
        await self.session.execute(
            update(B)
            .where(B.id == broadcast_id)
            .values(total=total)
            .execution_options(synchronize_session=False)
        )

    async def set_progress(self, broadcast_id: int, chat_id: int, message_id: int) -> None:
        await self.session.execute(
            update(B)
            .where(B.id == broadcast_id)
            .values(progress_chat_id=chat_id, progress_message_id=message_id)
            .execution_options(synchronize_session=False)
        )

    async def finished(self, at: dt.datetime) -> list[int]:
        left = exists().where(DL.broadcast_id == B.id, DL.status.in_(list(UNFINISHED)))
        result = await self.session.execute(
            update(B)
            .where(B.status == BroadcastStatus.SENDING, ~left)
            .values(status=BroadcastStatus.DONE, finished_at=at)
            .returning(B.id)
            .execution_options(synchronize_session=False)
        )
        return sorted(result.scalars())

    async def active(self) -> list[int]:
        return list(
            await self.session.scalars(
                select(B.id)
                .where(B.status.in_([BroadcastStatus.SENDING, BroadcastStatus.PAUSED]))
                .order_by(B.id)
            )
        )
