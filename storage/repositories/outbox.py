"""The outbox: every message the bot must send on its own, one row each.

A row moves pending -> claimed -> sending -> sent | failed | uncertain, or back to pending
for a retry. Claims lock with SKIP LOCKED on PostgreSQL, so two bot processes take
different rows; on SQLite the single writer serialises them. The claimed -> sending step is
committed before the request goes out: after a crash a `sending` row may have reached
Telegram, so it is reported as uncertain and never sent again.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import func, or_, select, update

from campaigns.content import PostContent
from campaigns.outbox import UNFINISHED, BroadcastStatus, DeliveryStatus
from campaigns.ports.outbox import Delivery
from storage.models import (
    BroadcastRow,
    DeliveryRow,
    JourneyRunRow,
    ScheduledPostRow,
    SequenceStepRow,
    SurveyRow,
)
from storage.repositories.base import Repository, aware, insert_for
from storage.repositories.surveys import survey_of

DL, B, P, S, JR = DeliveryRow, BroadcastRow, ScheduledPostRow, SequenceStepRow, JourneyRunRow
SV = SurveyRow
INSERT_BATCH = 1000


class SqlOutbox(Repository):
    async def _add_one(self, **values: object) -> bool:
        """One row unless its unique key exists (another process, or a replay, made it)."""
        result = await self.session.execute(
            insert_for(self.session, DL).values(attempts=0, **values).on_conflict_do_nothing()
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def add_run(
        self,
        post_id: int,
        target_chat: int,
        due_at: dt.datetime,
        *,
        status: DeliveryStatus,
        error: str | None,
    ) -> bool:
        return await self._add_one(
            kind="post",
            post_id=post_id,
            target_chat=target_chat,
            due_at=due_at,
            status=status,
            error=error,
        )

    async def add_recipients(
        self,
        broadcast_id: int,
        targets: Sequence[int],
        due_at: dt.datetime,
        *,
        arm: str | None = None,
        content: PostContent | None = None,
        status: DeliveryStatus = DeliveryStatus.PENDING,
    ) -> int:
        added = 0
        own = content.model_dump(mode="json", exclude_defaults=True) if content else None
        for start in range(0, len(targets), INSERT_BATCH):
            rows = [
                {
                    "kind": "broadcast",
                    "broadcast_id": broadcast_id,
                    "target_chat": target,
                    "due_at": due_at,
                    "status": status,
                    "attempts": 0,
                    "arm": arm,
                    "content": own,
                }
                for target in targets[start : start + INSERT_BATCH]
            ]
            result = await self.session.execute(
                insert_for(self.session, DL).values(rows).on_conflict_do_nothing()
            )
            added += int(result.rowcount)  # type: ignore[attr-defined]
        return added

    async def add_step_run(
        self,
        step_id: int,
        member_id: int,
        target_chat: int,
        due_at: dt.datetime,
        *,
        status: DeliveryStatus = DeliveryStatus.PENDING,
        error: str | None = None,
    ) -> bool:
        return await self._add_one(
            kind="sequence",
            step_id=step_id,
            member_id=member_id,
            target_chat=target_chat,
            due_at=due_at,
            status=status,
            error=error,
        )

    async def add_journey(
        self, run_id: int, target_chat: int, content: PostContent, due_at: dt.datetime
    ) -> bool:
        return await self._add_one(
            kind="journey",
            journey_run_id=run_id,
            target_chat=target_chat,
            member_id=target_chat if target_chat > 0 else None,
            content=content.model_dump(mode="json"),
            due_at=due_at,
            status=DeliveryStatus.PENDING,
        )

    async def add_survey(
        self, survey_id: int, targets: Sequence[int], content: PostContent, due_at: dt.datetime
    ) -> int:
        added, body = 0, content.model_dump(mode="json", exclude_defaults=True)
        for start in range(0, len(targets), INSERT_BATCH):
            rows = [
                {"kind": "survey", "survey_id": survey_id, "target_chat": target,
                 "member_id": target, "content": body, "due_at": due_at,
                 "status": DeliveryStatus.PENDING, "attempts": 0}
                for target in targets[start : start + INSERT_BATCH]
            ]  # fmt: skip
            result = await self.session.execute(
                insert_for(self.session, DL).values(rows).on_conflict_do_nothing()
            )
            added += int(result.rowcount)  # type: ignore[attr-defined]
        return added

    async def cancel_survey(self, survey_id: int) -> int:
        result = await self.session.execute(
            update(DL)
            .where(
                DL.survey_id == survey_id,
                DL.status.in_([DeliveryStatus.PENDING, DeliveryStatus.CLAIMED]),
            )
            .values(status=DeliveryStatus.CANCELLED)
            .execution_options(synchronize_session=False)
        )
        return int(result.rowcount)  # type: ignore[attr-defined]

    async def survey_counts(self, survey_id: int) -> dict[str, int]:
        rows = await self.session.execute(
            select(DL.status, func.count()).where(DL.survey_id == survey_id).group_by(DL.status)
        )
        return {status: int(n) for status, n in rows}

    async def claim(self, worker: str, now: dt.datetime, limit: int) -> list[Delivery]:
        candidates = (
            select(DL.id)
            .outerjoin(B, B.id == DL.broadcast_id)
            .where(
                DL.status == DeliveryStatus.PENDING,
                DL.due_at <= now,
                or_(DL.broadcast_id.is_(None), B.status == BroadcastStatus.SENDING),
            )
            .order_by(DL.due_at, DL.id)
            .limit(limit)
            .with_for_update(of=DL, skip_locked=True)
        )
        ids = list(await self.session.scalars(candidates))
        if not ids:
            return []
        claimed = await self.session.execute(
            update(DL)
            .where(DL.id.in_(ids), DL.status == DeliveryStatus.PENDING)
            .values(status=DeliveryStatus.CLAIMED, worker=worker, claimed_at=now)
            .returning(DL.id)
            .execution_options(synchronize_session=False)
        )
        mine = list(claimed.scalars())
        rows = await self.session.execute(
            select(
                DL,
                P.content,
                P.last_message_id,
                B.content,
                S.content,
                P.chat_id,
                B.chat_id,
                S.chat_id,
                JR.chat_id,
                SV,
            )
            .outerjoin(P, P.id == DL.post_id)
            .outerjoin(B, B.id == DL.broadcast_id)
            .outerjoin(S, S.id == DL.step_id)
            .outerjoin(JR, JR.id == DL.journey_run_id)
            .outerjoin(SV, SV.id == DL.survey_id)
            .where(DL.id.in_(mine))
            .order_by(DL.due_at, DL.id)
        )
        # A broadcast's content (a variant's: each arm's) is parsed once per claim.
        parsed: dict[tuple[int, str | None], PostContent] = {}
        out: list[Delivery] = []
        for row, post, last, cast, step, *groups, survey in rows:
            # The row's own content wins: a variant's message, or a journey step's
            raw = next(c for c in (row.content, post, cast, step) if c is not None)
            key = (row.broadcast_id, row.arm) if row.broadcast_id is not None else (-row.id, None)
            content = parsed.get(key)
            if content is None:
                content = parsed[key] = PostContent.model_validate(raw)
            due = aware(row.due_at)
            assert due is not None
            group = next((g for g in groups if g is not None), None)
            asked = survey_of(survey) if survey is not None else None
            out.append(
                Delivery(
                    id=row.id,
                    kind=row.kind,
                    target_chat=row.target_chat,
                    content=content,
                    attempts=row.attempts,
                    due_at=due,
                    post_id=row.post_id,
                    broadcast_id=row.broadcast_id,
                    member_id=row.member_id,
                    replace_message=last if content.replace_previous else None,
                    group_pk=asked.chat_pk if asked is not None else group,
                    survey=asked,
                )
            )
        return out

    async def start(self, delivery_id: int, worker: str, at: dt.datetime) -> bool:
        mine = (DL.id == delivery_id, DL.status == DeliveryStatus.CLAIMED, DL.worker == worker)
        # Spelled out both ways: NOT IN over a NULL broadcast_id (a post) would be NULL.
        halted = DL.broadcast_id.in_(select(B.id).where(B.status != BroadcastStatus.SENDING))
        live = or_(
            DL.broadcast_id.is_(None),
            DL.broadcast_id.in_(select(B.id).where(B.status == BroadcastStatus.SENDING)),
        )
        result = await self.session.execute(
            update(DL)
            .where(*mine, live)
            .values(status=DeliveryStatus.SENDING, attempts=DL.attempts + 1, claimed_at=at)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount:  # type: ignore[attr-defined]
            return True
        # Claimed before its broadcast was paused: back to the queue, sent on resume.
        await self.session.execute(
            update(DL)
            .where(*mine, halted)
            .values(status=DeliveryStatus.PENDING, worker=None, claimed_at=None)
            .execution_options(synchronize_session=False)
        )
        return False

    async def record(
        self,
        delivery_id: int,
        status: DeliveryStatus,
        *,
        at: dt.datetime,
        message_id: int | None = None,
        error: str | None = None,
        retry_at: dt.datetime | None = None,
    ) -> None:
        values: dict[str, object] = {"status": status, "error": error}
        if retry_at is not None:
            values.update(
                status=DeliveryStatus.PENDING, due_at=retry_at, worker=None, claimed_at=None
            )
        if status == DeliveryStatus.SENT:
            values.update(sent_at=at, message_id=message_id)
        await self.session.execute(
            update(DL)
            .where(DL.id == delivery_id)
            .values(**values)
            .execution_options(synchronize_session=False)
        )

    async def release(self, worker: str) -> int:
        result = await self.session.execute(
            update(DL)
            .where(DL.status == DeliveryStatus.CLAIMED, DL.worker == worker)
            .values(status=DeliveryStatus.PENDING, worker=None, claimed_at=None)
            .execution_options(synchronize_session=False)
        )
        return int(result.rowcount)  # type: ignore[attr-defined]

    async def holders(self) -> list[str]:
        rows = await self.session.scalars(
            select(DL.worker)
            .where(DL.status.in_([DeliveryStatus.CLAIMED, DeliveryStatus.SENDING]))
            .distinct()
        )
        return [w for w in rows if w]

    async def recover(
        self, now: dt.datetime, lease: dt.timedelta, *, worker: str | None = None
    ) -> tuple[int, int]:
        held = DL.worker == worker if worker is not None else DL.claimed_at < now - lease
        requeued = await self.session.execute(
            update(DL)
            .where(DL.status == DeliveryStatus.CLAIMED, held)
            .values(status=DeliveryStatus.PENDING, worker=None, claimed_at=None)
            .execution_options(synchronize_session=False)
        )
        uncertain = await self.session.execute(
            update(DL)
            .where(DL.status == DeliveryStatus.SENDING, held)
            .values(
                status=DeliveryStatus.UNCERTAIN, error="in flight when the bot stopped; not resent"
            )
            .execution_options(synchronize_session=False)
        )
        return int(requeued.rowcount), int(uncertain.rowcount)  # type: ignore[attr-defined]

    async def counts(self, broadcast_id: int) -> dict[str, int]:
        rows = await self.session.execute(
            select(DL.status, func.count())
            .where(DL.broadcast_id == broadcast_id)
            .group_by(DL.status)
        )
        return {status: int(n) for status, n in rows}

    async def cancel(self, broadcast_id: int, at: dt.datetime) -> int:
        result = await self.session.execute(
            update(DL)
            .where(
                DL.broadcast_id == broadcast_id,
                DL.status.in_([DeliveryStatus.PENDING, DeliveryStatus.CLAIMED]),
            )
            .values(status=DeliveryStatus.CANCELLED)
            .execution_options(synchronize_session=False)
        )
        return int(result.rowcount)  # type: ignore[attr-defined]

    async def rate(self, broadcast_id: int, since: dt.datetime) -> int:
        n = await self.session.scalar(
            select(func.count()).where(
                DL.broadcast_id == broadcast_id,
                DL.status == DeliveryStatus.SENT,
                DL.sent_at >= since,
            )
        )
        return int(n or 0)

    async def waiting(self, now: dt.datetime) -> int:
        n = await self.session.scalar(
            select(func.count())
            .select_from(DL)
            .outerjoin(B, B.id == DL.broadcast_id)
            .where(
                DL.status.in_(UNFINISHED),
                DL.due_at <= now,
                or_(DL.broadcast_id.is_(None), B.status == BroadcastStatus.SENDING),
            )
        )
        return int(n or 0)
