"""Scheduled posts and day-N sequence steps."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import and_, exists, func, select, update

from campaigns.captcha import CaptchaStatus
from campaigns.content import PostContent
from campaigns.ports.calendar import PostRecord, StepRecord
from campaigns.schedule import PostStatus, StepStatus, When, stored_when
from storage.models import (
    CaptchaRow,
    ChatRow,
    DeliveryRow,
    MediaRow,
    MembershipRow,
    RaidStateRow,
    ScheduledPostRow,
    SequenceStepRow,
)
from storage.repositories.base import Repository, aware

P, S, DL = ScheduledPostRow, SequenceStepRow, DeliveryRow


def _post(
    row: ScheduledPostRow, chat_id: int, outcome: tuple[str, dt.datetime] | None = None
) -> PostRecord:
    return PostRecord(
        id=row.id,
        chat_pk=row.chat_id,
        chat_id=chat_id,
        content=PostContent.model_validate(row.content),
        when=stored_when(row.timezone, row.cron, aware(row.run_at)),
        status=PostStatus(row.status),
        next_run_at=aware(row.next_run_at),
        last_message_id=row.last_message_id,
        campaign=row.campaign,
        phase=row.phase,
        last_outcome=outcome,
        created_by=row.created_by,
    )


def _step(row: SequenceStepRow) -> StepRecord:
    return StepRecord(
        id=row.id,
        chat_pk=row.chat_id,
        day=row.day,
        content=PostContent.model_validate(row.content),
        private=row.private,
        status=StepStatus(row.status),
    )


class SqlCalendar(Repository):
    async def add_post(
        self,
        chat_pk: int,
        content: PostContent,
        when: When,
        *,
        status: PostStatus,
        next_run_at: dt.datetime | None,
        created_by: int | None,
        at: dt.datetime,
        campaign: str | None = None,
        phase: str | None = None,
    ) -> int:
        row = P(
            chat_id=chat_pk,
            content=content.model_dump(mode="json", exclude_defaults=True),
            cron=when.label or when.cron,  # shown back as the operator wrote it
            run_at=when.at,
            timezone=when.timezone,
            status=status,
            next_run_at=next_run_at,
            created_by=created_by,
            created_at=at,
            campaign=campaign,
            phase=phase,
        )
        self.session.add(row)
        await self.session.flush()
        return row.id

    async def _with_chat(self, rows: Sequence[ScheduledPostRow]) -> list[PostRecord]:
        if not rows:
            return []
        found = await self.session.execute(
            select(ChatRow.id, ChatRow.telegram_id).where(ChatRow.id.in_({r.chat_id for r in rows}))
        )
        chats = {pk: telegram_id for pk, telegram_id in found}
        latest = (
            select(DL.post_id, func.max(DL.due_at).label("due"))
            .where(DL.post_id.in_([r.id for r in rows]))
            .group_by(DL.post_id)
            .subquery()
        )
        outcomes = {
            post_id: (status, aware(due))
            for post_id, status, due in (
                await self.session.execute(
                    select(DL.post_id, DL.status, DL.due_at).join(
                        latest, and_(DL.post_id == latest.c.post_id, DL.due_at == latest.c.due)
                    )
                )
            )
        }
        return [
            _post(r, chats[r.chat_id], outcomes.get(r.id))  # type: ignore[arg-type]
            for r in rows
        ]

    async def post(self, post_id: int) -> PostRecord | None:
        row = await self.session.get(P, post_id, populate_existing=True)
        return (await self._with_chat([row]))[0] if row else None

    async def posts(self, chat_pk: int, statuses: Sequence[PostStatus]) -> list[PostRecord]:
        rows = await self.session.scalars(
            select(P)
            .where(P.chat_id == chat_pk, P.status.in_(list(statuses)))
            .order_by(P.next_run_at.is_(None), P.next_run_at, P.id)
        )
        return await self._with_chat(list(rows))

    async def recurring(self, statuses: Sequence[PostStatus]) -> list[PostRecord]:
        rows = await self.session.scalars(
            select(P).where(P.cron.is_not(None), P.status.in_(list(statuses))).order_by(P.id)
        )
        return await self._with_chat(list(rows))

    async def set_status(
        self,
        post_id: int,
        *,
        old: Sequence[PostStatus],
        new: PostStatus,
        next_run_at: dt.datetime | None,
    ) -> bool:
        result = await self.session.execute(
            update(P)
            .where(P.id == post_id, P.status.in_(list(old)))
            .values(status=new, next_run_at=next_run_at)
            .execution_options(synchronize_session=False)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def due(self, now: dt.datetime, limit: int) -> list[PostRecord]:
        rows = await self.session.scalars(
            select(P)
            .where(P.status == PostStatus.ACTIVE, P.next_run_at <= now)
            .order_by(P.next_run_at, P.id)
            .limit(limit)
        )
        return await self._with_chat(list(rows))

    async def advance(self, post_id: int, *, old: dt.datetime, new: dt.datetime | None) -> bool:
        values: dict[str, object] = {"next_run_at": new}
        if new is None:
            values["status"] = PostStatus.DONE
        result = await self.session.execute(
            update(P)
            .where(P.id == post_id, P.status == PostStatus.ACTIVE, P.next_run_at == old)
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def set_last_message(self, post_id: int, message_id: int) -> None:
        await self.session.execute(
            update(P)
            .where(P.id == post_id)
            .values(last_message_id=message_id)
            .execution_options(synchronize_session=False)
        )

    async def add_step(
        self, chat_pk: int, day: int, content: PostContent, *, private: bool, at: dt.datetime
    ) -> int:
        row = S(
            chat_id=chat_pk,
            day=day,
            content=content.model_dump(mode="json", exclude_defaults=True),
            private=private,
            status=StepStatus.ACTIVE,
            created_at=at,
        )
        self.session.add(row)
        await self.session.flush()
        return row.id

    async def steps(self, chat_pk: int) -> list[StepRecord]:
        rows = await self.session.scalars(
            select(S)
            .where(S.chat_id == chat_pk, S.status != StepStatus.DELETED)
            .order_by(S.day, S.id)
        )
        return [_step(r) for r in rows]

    async def set_step_status(self, step_id: int, chat_pk: int, status: StepStatus) -> bool:
        result = await self.session.execute(
            update(S)
            .where(S.id == step_id, S.chat_id == chat_pk, S.status != StepStatus.DELETED)
            .values(status=status)
            .execution_options(synchronize_session=False)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def due_enrolments(
        self, now: dt.datetime, limit: int
    ) -> list[tuple[StepRecord, int, int, dt.datetime]]:
        M = MembershipRow
        steps = {
            s.id: s
            for s in await self.session.scalars(select(S).where(S.status == StepStatus.ACTIVE))
        }
        out: list[tuple[StepRecord, int, int, dt.datetime]] = []
        for step in steps.values():
            rows = await self.session.execute(
                select(M.user_id, M.joined_at, ChatRow.telegram_id)
                .join(ChatRow, ChatRow.id == M.chat_id)
                .outerjoin(DL, and_(DL.step_id == step.id, DL.member_id == M.user_id))
                .where(
                    M.chat_id == step.chat_id,
                    M.present.is_(True),
                    M.joined_at >= step.created_at,
                    M.joined_at <= now - dt.timedelta(days=step.day),
                    DL.id.is_(None),
                    # Paused: in raid mode, and for a member whose captcha or raid hold is
                    # pending (welcomed once let in, within the sequence's grace).
                    ~exists().where(
                        RaidStateRow.chat_id == M.chat_id, RaidStateRow.on_since.is_not(None)
                    ),
                    ~exists().where(
                        CaptchaRow.chat_id == M.chat_id,
                        CaptchaRow.user_id == M.user_id,
                        CaptchaRow.status == str(CaptchaStatus.PENDING),
                    ),
                )
                .order_by(M.joined_at)
                .limit(limit - len(out))
            )
            record = _step(step)
            for user_id, joined_at, group in rows:
                due = aware(joined_at)
                assert due is not None
                target = user_id if step.private else group
                out.append((record, user_id, target, due + dt.timedelta(days=step.day)))
            if len(out) >= limit:
                break
        return out

    async def add_media(self, name: str, data: bytes, at: dt.datetime) -> int:
        row = MediaRow(name=name, data=data, created_at=at)
        self.session.add(row)
        await self.session.flush()
        return row.id

    async def media(self, media_id: int) -> tuple[str, bytes, str | None] | None:
        found = await self.session.execute(
            select(MediaRow.name, MediaRow.data, MediaRow.file_id).where(MediaRow.id == media_id)
        )
        row = found.first()
        return (row[0], row[1], row[2]) if row else None

    async def set_media_file(self, media_id: int, file_id: str) -> None:
        await self.session.execute(
            update(MediaRow)
            .where(MediaRow.id == media_id)
            .values(file_id=file_id)
            .execution_options(synchronize_session=False)
        )
