"""Processed update ids: the exact-match record that makes redelivered updates harmless."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import delete

from storage.models import ProcessedUpdateRow
from storage.repositories.base import Repository, insert_for

TABLE = ProcessedUpdateRow.__table__


class SqlUpdateLog(Repository):
    async def claim(
        self, bot_id: int, update_id: int, at: dt.datetime, scope: str = "handler"
    ) -> bool:
        """Insert the id; a conflict means this update was already handled."""
        return bool(await self.claim_many(bot_id, [update_id], at, scope))

    async def claim_many(
        self, bot_id: int, update_ids: Sequence[int], at: dt.datetime, scope: str = "handler"
    ) -> set[int]:
        """Insert ids, skipping known ones; RETURNING tells which were new."""
        if not update_ids:
            return set()
        stmt = (
            insert_for(self.session, TABLE)
            .values(
                [
                    {"bot_id": bot_id, "update_id": u, "scope": scope, "processed_at": at}
                    for u in update_ids
                ]
            )
            .on_conflict_do_nothing(index_elements=["bot_id", "update_id", "scope"])
            .returning(TABLE.c.update_id)
        )
        result = await self.session.execute(stmt)
        return {row[0] for row in result}

    async def prune(self, before: dt.datetime) -> int:
        result = await self.session.execute(
            delete(ProcessedUpdateRow).where(ProcessedUpdateRow.processed_at < before)
        )
        return int(getattr(result, "rowcount", 0) or 0)
