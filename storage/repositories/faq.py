"""FAQ auto-replies (客服话术): a group's questions and answers, and the conditional UPDATE
that answers a question once per cooldown.

Every read and write names the group: an id of another group's FAQ finds nothing. A change
is announced on PostgreSQL like a settings change (NOTIFY on commit), so every process
drops the group's cached reply book.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import delete, func, or_, select, update

from campaigns.ports.faq import FaqRecord
from storage.models import FaqRow
from storage.repositories.base import Repository, insert_for
from storage.repositories.chats import notify_changed

F = FaqRow
_COLUMNS = (F.id, F.question, F.answer, F.answered, F.answered_at)


class SqlFaqs(Repository):
    async def of_group(self, chat_pk: int) -> list[FaqRecord]:
        rows = await self.session.execute(
            select(*_COLUMNS).where(F.chat_id == chat_pk).order_by(F.id)
        )
        return [FaqRecord(*row) for row in rows]

    async def count(self, chat_pk: int) -> int:
        found = await self.session.scalar(select(func.count()).where(F.chat_id == chat_pk))
        return int(found or 0)

    async def save(
        self,
        chat_pk: int,
        *,
        key: str,
        question: str,
        answer: str,
        by: int | None,
        at: dt.datetime,
    ) -> tuple[int, bool]:
        """Race-free: the insert, or on the group's same key the new answer (and the
        question as typed now)."""
        known = await self.session.scalar(select(F.id).where(F.chat_id == chat_pk, F.key == key))
        stmt = insert_for(self.session, F.__table__).values(
            chat_id=chat_pk, key=key, question=question, answer=answer, created_by=by,
            created_at=at, updated_at=at, answered=0,
        )  # fmt: skip
        stmt = stmt.on_conflict_do_update(
            index_elements=["chat_id", "key"],
            set_={"question": question, "answer": answer, "updated_at": at},
        ).returning(F.id)
        faq_id = (await self.session.execute(stmt)).scalar_one()
        await notify_changed(self.session, chat_pk)
        return int(faq_id), known is None

    async def remove(
        self, chat_pk: int, *, faq_id: int | None = None, key: str | None = None
    ) -> FaqRecord | None:
        which = F.id == faq_id if faq_id is not None else F.key == key
        row = (
            await self.session.execute(
                delete(F).where(F.chat_id == chat_pk, which).returning(*_COLUMNS)
            )
        ).first()
        if row is None:
            return None
        await notify_changed(self.session, chat_pk)
        return FaqRecord(*row)

    async def claim_answer(
        self, chat_pk: int, faq_id: int, at: dt.datetime, since: dt.datetime
    ) -> bool:
        """A row is updated only if the question was not answered after `since`; PostgreSQL
        re-checks that on the locked row, so of two racing processes one updates it."""
        result = await self.session.execute(
            update(F)
            .where(
                F.id == faq_id,
                F.chat_id == chat_pk,
                or_(F.answered_at.is_(None), F.answered_at <= since),
            )
            .values(answered_at=at, answered=F.answered + 1)
            .returning(F.id)
        )
        return result.first() is not None
