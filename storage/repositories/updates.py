"""Processed update ids: the exact-match record that makes redelivered updates harmless."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import BigInteger, String, bindparam, delete, select

from storage.models import ProcessedUpdateRow, UtcDateTime
from storage.repositories.base import Repository, id_list, ids_param, prepared

TABLE = ProcessedUpdateRow.__table__

_CLAIM = prepared(
    lambda insert: (
        insert(TABLE)
        .values(
            bot_id=bindparam("bot_id"),
            update_id=bindparam("update_id"),
            scope=bindparam("scope"),
            processed_at=bindparam("at"),
        )
        .on_conflict_do_nothing(index_elements=["bot_id", "update_id", "scope"])
        .returning(TABLE.c.update_id)
    )
)


def _claim_list(insert: Any) -> Any:
    ids = id_list(insert)
    return (
        insert(TABLE)
        .from_select(
            ["bot_id", "update_id", "scope", "processed_at"],
            select(
                bindparam("bot_id", type_=BigInteger),
                ids.c.value,
                bindparam("scope", type_=String),
                bindparam("at", type_=UtcDateTime()),
            ).where(ids.c.value.is_not(None)),  # SQLite's upsert after a SELECT needs a WHERE
        )
        .on_conflict_do_nothing(index_elements=["bot_id", "update_id", "scope"])
        .returning(TABLE.c.update_id)
    )


_CLAIM_LIST = prepared(_claim_list)


class SqlUpdateLog(Repository):
    async def claim(
        self, bot_id: int, update_id: int, at: dt.datetime, scope: str = "handler"
    ) -> bool:
        """Insert the id; a conflict means this update was already handled."""
        params = {"bot_id": bot_id, "update_id": update_id, "scope": scope, "at": at}
        return (await self.run(_CLAIM(self.session), params)).first() is not None

    async def claim_many(
        self, bot_id: int, update_ids: Sequence[int], at: dt.datetime, scope: str = "handler"
    ) -> set[int]:
        """Insert ids, skipping known ones; RETURNING tells which were new. One statement
        whatever the count: the ids travel as one array (a JSON array on SQLite)."""
        if not update_ids:
            return set()
        params = {"bot_id": bot_id, "ids": ids_param(self.session, update_ids)}
        result = await self.run(_CLAIM_LIST(self.session), {**params, "scope": scope, "at": at})
        return {row[0] for row in result}

    async def prune(self, before: dt.datetime) -> int:
        result = await self.session.execute(
            delete(ProcessedUpdateRow).where(ProcessedUpdateRow.processed_at < before)
        )
        return int(getattr(result, "rowcount", 0) or 0)
