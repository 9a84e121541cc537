"""Processed update ids: the exact-match record that makes redelivered updates harmless."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any, cast

from sqlalchemy import BigInteger, String, Table, bindparam, delete, select, tuple_
from sqlalchemy.dialects import sqlite

from storage.models import ProcessedUpdateRow, UtcDateTime
from storage.repositories.base import (
    Repository,
    id_list,
    ids_param,
    per_statement,
    prepared,
    sqlite_statement,
)

TABLE = cast(Table, ProcessedUpdateRow.__table__)


def _claim(insert: Any) -> Any:
    return (
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


_CLAIM = prepared(_claim)
CLAIM_ON_SQLITE = sqlite_statement(_claim(sqlite.insert))  # for a check-in's driver path


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


PRUNE_BATCH = 500
_KEY = tuple_(TABLE.c.bot_id, TABLE.c.update_id, TABLE.c.scope)
_PRUNE = delete(TABLE).where(
    _KEY.in_(
        select(TABLE.c.bot_id, TABLE.c.update_id, TABLE.c.scope)
        .where(TABLE.c.processed_at < bindparam("before", type_=UtcDateTime()))
        .limit(bindparam("batch"))
    )
)


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
        whatever the count (on SQLite, one per SQLITE_ROWS_PER_STATEMENT ids): the ids
        travel as one array (a JSON array on SQLite)."""
        if not update_ids:
            return set()
        claimed: set[int] = set()
        for ids in per_statement(self.session, update_ids):
            params = {"bot_id": bot_id, "ids": ids_param(self.session, ids)}
            result = await self.run(_CLAIM_LIST(self.session), {**params, "scope": scope, "at": at})
            claimed.update(row[0] for row in result)
        return claimed

    async def prune(self, before: dt.datetime) -> int:
        """Delete PRUNE_BATCH rows per statement: an hour of a busy group's chatter is tens of
        thousands of ids, and one SQLite statement that long would hold the event loop
        (storage/inline_sqlite.py yields only between statements)."""
        pruned = 0
        while True:
            result = await self.run(_PRUNE, {"before": before, "batch": PRUNE_BATCH})
            deleted = int(getattr(result, "rowcount", 0) or 0)
            pruned += deleted
            if deleted < PRUNE_BATCH:
                return pruned
