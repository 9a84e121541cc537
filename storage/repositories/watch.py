"""Watch words (舆情) and the per-member alert rows that hold "once an hour".

A change to a group's words is announced on PostgreSQL like a settings change (NOTIFY on
commit), so every process drops the group's cached reply book.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import cast

from sqlalchemy import Table, delete, select

from storage.models import WatchAlertRow, WatchWordRow
from storage.repositories.base import Repository, insert_for
from storage.repositories.chats import notify_changed

W = WatchWordRow
ALERTS = cast(Table, WatchAlertRow.__table__)


class SqlWatchWords(Repository):
    async def words(self, chat_pk: int) -> list[str]:
        rows = await self.session.scalars(
            select(W.word).where(W.chat_id == chat_pk).order_by(W.word)
        )
        return list(rows)

    async def add(
        self, chat_pk: int, words: Sequence[str], *, by: int | None, at: dt.datetime
    ) -> list[str]:
        wanted = list(dict.fromkeys(words))
        if not wanted:
            return []
        rows = [{"chat_id": chat_pk, "word": w, "created_by": by, "created_at": at} for w in wanted]
        stmt = (
            insert_for(self.session, W.__table__)
            .values(rows)
            .on_conflict_do_nothing(index_elements=["chat_id", "word"])
            .returning(W.word)
        )
        added = set(await self.session.scalars(stmt))
        if added:
            await notify_changed(self.session, chat_pk)
        return [w for w in wanted if w in added]

    async def remove(self, chat_pk: int, words: Sequence[str]) -> list[str]:
        wanted = list(dict.fromkeys(words))
        if not wanted:
            return []
        removed = set(
            await self.session.scalars(
                delete(W).where(W.chat_id == chat_pk, W.word.in_(wanted)).returning(W.word)
            )
        )
        if removed:
            await notify_changed(self.session, chat_pk)
        return [w for w in wanted if w in removed]

    async def claim_alert(
        self, chat_pk: int, user_id: int, at: dt.datetime, since: dt.datetime
    ) -> bool:
        """One statement: the insert claims a member's first alert; the conflict branch
        moves the row forward only if its last alert is older than `since`. A row comes
        back only when this call claimed it (PostgreSQL locks the row, so a racing process
        sees the new time and gets none)."""
        stmt = insert_for(self.session, ALERTS).values(chat_id=chat_pk, user_id=user_id, sent_at=at)
        stmt = stmt.on_conflict_do_update(
            index_elements=["chat_id", "user_id"],
            set_={"sent_at": stmt.excluded.sent_at},
            where=ALERTS.c.sent_at <= since,
        ).returning(ALERTS.c.id)
        return (await self.session.execute(stmt)).first() is not None
