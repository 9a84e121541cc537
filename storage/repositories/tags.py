"""Member tags: the unique (group, member, tag) key makes tagging idempotent."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import delete, select

from campaigns.ports.tags import TagRecord
from campaigns.tags import TagSource
from storage.models import MemberTagRow
from storage.repositories.base import Repository, insert_for

T = MemberTagRow


class SqlTags(Repository):
    async def add(
        self,
        chat_pk: int,
        user_id: int,
        tags: Sequence[str],
        *,
        source: TagSource,
        by: int | None,
        at: dt.datetime,
    ) -> int:
        names = list(dict.fromkeys(tags))
        if not names:
            return 0
        rows = [
            {"chat_id": chat_pk, "user_id": user_id, "tag": name, "source": source, "by": by,
             "created_at": at}
            for name in names
        ]  # fmt: skip
        stmt = (
            insert_for(self.session, T.__table__)
            .values(rows)
            .on_conflict_do_nothing(index_elements=["chat_id", "user_id", "tag"])
            .returning(T.id)
        )
        return len(list(await self.session.scalars(stmt)))

    async def remove(self, chat_pk: int, user_id: int, tag: str) -> bool:
        result = await self.session.execute(
            delete(T)
            .where(T.chat_id == chat_pk, T.user_id == user_id, T.tag == tag)
            .returning(T.id)
        )
        return result.first() is not None

    async def of(self, chat_pk: int, user_id: int) -> list[TagRecord]:
        rows = await self.session.execute(
            select(T.tag, T.source)
            .where(T.chat_id == chat_pk, T.user_id == user_id)
            .order_by(T.tag)
        )
        return [TagRecord(tag, TagSource(source)) for tag, source in rows]

    async def of_group(self, chat_pk: int) -> dict[int, list[str]]:
        rows = await self.session.execute(
            select(T.user_id, T.tag).where(T.chat_id == chat_pk).order_by(T.user_id, T.tag)
        )
        found: dict[int, list[str]] = {}
        for user_id, tag in rows:
            found.setdefault(int(user_id), []).append(tag)
        return found
