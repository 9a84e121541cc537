"""Feedback surveys: the group's surveys and each member's one answer (an upsert on the
unique (survey, member) key, so two racing taps leave one row; a poll's retracted vote
deletes it), and a poll's Telegram ids (its poll id unique). What the answers mean is
campaigns/surveys.py's."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, func, select, update

from campaigns.settings import utc
from campaigns.surveys import Survey, SurveyKind
from storage.models import SurveyAnswerRow, SurveyRow
from storage.repositories.base import Repository, aware, insert_for

S, A = SurveyRow, SurveyAnswerRow


def survey_of(row: SurveyRow) -> Survey:
    return Survey(
        row.id, row.chat_id, SurveyKind(row.kind), row.question, utc(row.created_at),
        aware(row.closed_at), tuple(row.options or ()), row.audience,
    )  # fmt: skip


class SqlSurveys(Repository):
    async def add(
        self,
        chat_pk: int,
        kind: SurveyKind,
        question: str,
        by: int,
        at: dt.datetime,
        *,
        options: tuple[str, ...] = (),
        audience: str | None = None,
    ) -> Survey:
        row = S(chat_id=chat_pk, kind=kind, question=question, created_by=by, created_at=at,
                options=list(options) or None, audience=audience)  # fmt: skip
        self.session.add(row)
        await self.session.flush()
        return survey_of(row)

    async def get(self, survey_id: int) -> Survey | None:
        row = await self.session.get(S, survey_id, populate_existing=True)
        return survey_of(row) if row is not None else None

    async def set_poll(self, survey_id: int, poll_id: str, message_id: int) -> None:
        await self.session.execute(
            update(S).where(S.id == survey_id).values(poll_id=poll_id, message_id=message_id)
        )

    async def discard(self, survey_id: int) -> None:
        await self.session.execute(delete(S).where(S.id == survey_id))

    async def by_poll(self, poll_id: str) -> Survey | None:
        row = await self.session.scalar(
            select(S).where(S.poll_id == poll_id).execution_options(populate_existing=True)
        )
        return survey_of(row) if row is not None else None

    async def poll_message(self, survey_id: int) -> int | None:
        return await self.session.scalar(select(S.message_id).where(S.id == survey_id))

    async def of_group(
        self, chat_pk: int, *, limit: int, kind: SurveyKind | None = None
    ) -> list[Survey]:
        query = select(S).where(S.chat_id == chat_pk)
        if kind is not None:
            query = query.where(S.kind == kind)
        rows = await self.session.scalars(query.order_by(S.id.desc()).limit(limit))
        return [survey_of(row) for row in rows]

    async def close(self, survey_id: int, at: dt.datetime) -> bool:
        done = await self.session.execute(
            update(S).where(S.id == survey_id, S.closed_at.is_(None)).values(closed_at=at)
        )
        return bool(done.rowcount)  # type: ignore[attr-defined]

    async def answer(self, survey_id: int, user_id: int, value: int, at: dt.datetime) -> None:
        insert = insert_for(self.session, A.__table__)
        await self.session.execute(
            insert.values(survey_id=survey_id, user_id=user_id, value=value, first_at=at,
                          answered_at=at)
            .on_conflict_do_update(
                index_elements=["survey_id", "user_id"],
                set_={"value": value, "answered_at": at},
            )
        )  # fmt: skip

    async def answer_of(self, survey_id: int, user_id: int) -> int | None:
        return await self.session.scalar(
            select(A.value).where(A.survey_id == survey_id, A.user_id == user_id)
        )

    async def retract(self, survey_id: int, user_id: int) -> bool:
        done = await self.session.execute(
            delete(A).where(A.survey_id == survey_id, A.user_id == user_id)
        )
        return bool(done.rowcount)  # type: ignore[attr-defined]

    async def distributions(self, survey_ids: list[int]) -> dict[int, dict[int, int]]:
        if not survey_ids:
            return {}
        rows = await self.session.execute(
            select(A.survey_id, A.value, func.count())
            .where(A.survey_id.in_(survey_ids))
            .group_by(A.survey_id, A.value)
        )
        found: dict[int, dict[int, int]] = {}
        for survey_id, value, count in rows:
            found.setdefault(survey_id, {})[value] = count
        return found
