"""Join captchas: one per (group, member, join), decided once by a conditional UPDATE."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import ColumnElement, case, func, select, update

from campaigns.captcha import CaptchaKind, CaptchaStatus
from campaigns.members import EventKind
from campaigns.ports.captcha import CaptchaRecord, NewCaptcha, RaidRecord
from campaigns.settings import utc
from storage.models import CaptchaRow, EventRow, RaidStateRow
from storage.repositories.base import Repository, insert_for

C = CaptchaRow
R = RaidStateRow
PENDING = str(CaptchaStatus.PENDING)
APPROVAL = str(CaptchaKind.APPROVAL)


def _record(row: C) -> CaptchaRecord:
    return CaptchaRecord(
        id=row.id,
        chat_pk=row.chat_id,
        user_id=row.user_id,
        joined_at=utc(row.joined_at),
        kind=CaptchaKind(row.kind),
        question=row.question,
        options=tuple(row.options.split(" ")) if row.options else (),
        salt=row.salt,
        answer_hash=row.answer_hash,
        deadline=utc(row.deadline) if row.deadline is not None else None,
        via_request=row.via_request,
        status=CaptchaStatus(row.status),
        prompt_chat_id=row.prompt_chat_id,
        prompt_message_id=row.prompt_message_id,
        shown_at=utc(row.shown_at) if row.shown_at is not None else None,
    )


class SqlCaptchas(Repository):
    async def open(self, captcha: NewCaptcha) -> int | None:
        stmt = (
            insert_for(self.session, C)
            .values(
                chat_id=captcha.chat_pk,
                user_id=captcha.user_id,
                joined_at=captcha.joined_at,
                kind=str(captcha.kind),
                question=captcha.question,
                options=" ".join(captcha.options),
                salt=captcha.salt,
                answer_hash=captcha.answer_hash,
                deadline=captcha.deadline,
                via_request=captcha.via_request,
                shown_at=captcha.shown_at,
                status=PENDING,
            )
            .on_conflict_do_nothing(index_elements=["chat_id", "user_id", "joined_at"])
            .returning(C.id)
        )
        found: int | None = (await self.session.execute(stmt)).scalar()
        return found

    async def get(self, captcha_id: int) -> CaptchaRecord | None:
        row = await self.session.get(C, captcha_id)
        return _record(row) if row is not None else None

    async def decide(
        self, captcha_id: int, to_status: CaptchaStatus, at: dt.datetime, *,
        due_by: dt.datetime | None = None,
    ) -> bool:  # fmt: skip
        where = [C.id == captcha_id, C.status == PENDING]
        if due_by is not None:  # an expiry: only a captcha shown long enough ago
            where += [C.shown_at.is_not(None), C.deadline.is_not(None), C.deadline <= due_by]
        result = await self.session.execute(
            update(C)
            .where(*where)
            .values(status=str(to_status), decided_at=at)
            .returning(C.id)
            .execution_options(synchronize_session=False)
        )
        return result.scalar() is not None

    async def pending_among(self, chat_pk: int, user_ids: Sequence[int]) -> set[int]:
        if not user_ids:
            return set()
        found = await self.session.scalars(
            select(C.user_id).where(
                C.chat_id == chat_pk, C.user_id.in_(sorted(set(user_ids))), C.status == PENDING
            )
        )
        return set(found)

    async def due(self, now: dt.datetime, limit: int) -> list[CaptchaRecord]:
        rows = await self.session.scalars(
            select(C)
            .where(C.status == PENDING, C.shown_at.is_not(None), C.deadline <= now)
            .order_by(C.id)
            .limit(limit)
        )
        return [_record(row) for row in rows]

    async def set_prompt(
        self, captcha_ids: Sequence[int], chat_id: int, message_id: int, *, at: dt.datetime,
        minutes: int,
    ) -> None:  # fmt: skip
        if not captcha_ids:
            return
        ids = sorted(set(captcha_ids))
        await self.session.execute(
            update(C)
            .where(C.id.in_(ids))
            .values(prompt_chat_id=chat_id, prompt_message_id=message_id)
            .execution_options(synchronize_session=False)
        )
        await self.session.execute(  # first shown now: its minutes start now, once
            update(C)
            .where(C.id.in_(ids), C.status == PENDING, C.shown_at.is_(None))
            .values(shown_at=at, deadline=at + dt.timedelta(minutes=minutes))
            .execution_options(synchronize_session=False)
        )

    async def open_on_prompt(self, chat_id: int, message_id: int) -> int:
        found = await self.session.scalar(
            select(func.count()).where(
                C.prompt_chat_id == chat_id, C.prompt_message_id == message_id, C.status == PENDING
            )
        )
        return int(found or 0)

    async def on_prompt(self, chat_id: int, message_id: int) -> list[CaptchaRecord]:
        rows = await self.session.scalars(
            select(C)
            .where(
                C.prompt_chat_id == chat_id, C.prompt_message_id == message_id, C.status == PENDING
            )
            .order_by(C.id)
        )
        return [_record(row) for row in rows]

    def _unprompted(self, now: dt.datetime) -> list[ColumnElement[bool]]:
        return [
            C.status == PENDING,
            C.prompt_message_id.is_(None),
            C.via_request.is_(False),
            C.kind != APPROVAL,  # a raid's held member waits for an admin, not a question
        ]

    async def unprompted(self, chat_pk: int, now: dt.datetime, limit: int) -> list[CaptchaRecord]:
        rows = await self.session.scalars(
            select(C)
            .where(C.chat_id == chat_pk, *self._unprompted(now))
            .order_by(C.id)
            .limit(limit)
        )
        return [_record(row) for row in rows]

    async def groups_unprompted(self, now: dt.datetime) -> list[int]:
        found = await self.session.scalars(
            select(C.chat_id).where(*self._unprompted(now)).distinct().order_by(C.chat_id)
        )
        return list(found)

    async def waiting(self, chat_pk: int) -> tuple[int, int]:
        unshown = func.count().filter(C.shown_at.is_(None), C.via_request.is_(False))
        row = (
            await self.session.execute(
                select(unshown, func.count()).where(
                    C.chat_id == chat_pk, C.status == PENDING, C.kind != APPROVAL
                )
            )
        ).one()
        return int(row[0] or 0), int(row[1] or 0)

    async def held(
        self, chat_pk: int, user_ids: Sequence[int] | None, limit: int, *, holds_only: bool
    ) -> list[CaptchaRecord]:
        where = [C.chat_id == chat_pk, C.status == PENDING]
        if holds_only:
            where.append(C.kind == APPROVAL)
        if user_ids is not None:
            where.append(C.user_id.in_(sorted(set(user_ids))))
        rows = await self.session.scalars(select(C).where(*where).order_by(C.id).limit(limit))
        return [_record(row) for row in rows]

    async def held_count(self, chat_pk: int, *, holds_only: bool = True) -> int:
        where = [C.chat_id == chat_pk, C.status == PENDING]
        if holds_only:
            where.append(C.kind == APPROVAL)
        found = await self.session.scalar(select(func.count()).where(*where))
        return int(found or 0)

    async def close_for(self, chat_pk: int, user_id: int, at: dt.datetime) -> list[CaptchaRecord]:
        rows = await self.session.scalars(
            update(C)
            .where(
                C.chat_id == chat_pk,
                C.user_id == user_id,
                C.status == PENDING,
                C.via_request.is_(False),
            )
            .values(status=str(CaptchaStatus.LEFT), decided_at=at)
            .returning(C)
            .execution_options(synchronize_session=False)
        )
        return [_record(row) for row in rows]

    async def request_let_in(
        self, chat_pk: int, user_id: int, since: dt.datetime, at: dt.datetime, *,
        settle_pending: bool,
    ) -> bool:  # fmt: skip
        mine = [C.chat_id == chat_pk, C.user_id == user_id, C.via_request.is_(True)]
        if settle_pending:
            settled = await self.session.execute(
                update(C)
                .where(*mine, C.status == PENDING)
                .values(status=str(CaptchaStatus.PASSED), decided_at=at)
                .returning(C.id)
                .execution_options(synchronize_session=False)
            )
            if settled.first() is not None:
                return True
        found = await self.session.scalar(
            select(C.id)
            .where(*mine, C.status == str(CaptchaStatus.PASSED), C.decided_at >= since)
            .limit(1)
        )
        return found is not None


def _raid(row: R) -> RaidRecord:
    return RaidRecord(
        chat_pk=row.chat_id,
        on_since=utc(row.on_since) if row.on_since is not None else None,
        last_join=utc(row.last_join) if row.last_join is not None else None,
    )


class SqlRaids(Repository):
    """Each group's raid state: one row, switched on and off by conditional writes, so of two
    processes seeing the same burst one switches it (and tells the admins)."""

    async def get(self, chat_pk: int) -> RaidRecord | None:
        row = await self.session.get(R, chat_pk, populate_existing=True)
        return _raid(row) if row is not None else None

    async def joiners_between(self, chat_pk: int, after: dt.datetime, until: dt.datetime) -> int:
        found = await self.session.scalar(
            select(func.count(EventRow.user_id.distinct())).where(
                EventRow.chat_id == chat_pk,
                EventRow.kind == str(EventKind.JOIN),
                EventRow.at > after,
                EventRow.at <= until,
            )
        )
        return int(found or 0)

    async def note_join(self, chat_pk: int, at: dt.datetime) -> None:
        stmt = insert_for(self.session, R).values(chat_id=chat_pk, last_join=at)
        latest = case(
            (R.last_join.is_(None), stmt.excluded.last_join),
            (R.last_join < stmt.excluded.last_join, stmt.excluded.last_join),
            else_=R.last_join,
        )
        await self.session.execute(
            stmt.on_conflict_do_update(index_elements=["chat_id"], set_={"last_join": latest})
        )

    async def switch_on(self, chat_pk: int, at: dt.datetime) -> bool:
        await self.session.execute(
            insert_for(self.session, R)
            .values(chat_id=chat_pk)
            .on_conflict_do_nothing(index_elements=["chat_id"])
        )
        result = await self.session.execute(
            update(R)
            .where(R.chat_id == chat_pk, R.on_since.is_(None))
            .values(on_since=at)
            .returning(R.chat_id)
            .execution_options(synchronize_session=False)
        )
        return result.scalar() is not None

    async def switch_off(self, chat_pk: int, on_since: dt.datetime | None) -> bool:
        where = [R.chat_id == chat_pk, R.on_since.is_not(None)]
        if on_since is not None:  # the calm check: only the raid it judged calm
            where.append(R.on_since == on_since)
        result = await self.session.execute(
            update(R)
            .where(*where)
            .values(on_since=None)
            .returning(R.chat_id)
            .execution_options(synchronize_session=False)
        )
        return result.scalar() is not None

    async def on(self) -> list[RaidRecord]:
        rows = await self.session.scalars(select(R).where(R.on_since.is_not(None)))
        return [_raid(row) for row in rows]

    async def is_on(self, chat_pk: int) -> bool:
        found = await self.session.scalar(
            select(R.chat_id).where(R.chat_id == chat_pk, R.on_since.is_not(None))
        )
        return found is not None
