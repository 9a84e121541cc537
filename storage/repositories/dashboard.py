"""The dashboard's sessions and spent one-time sign-ins (bot/dashboard/sessions.py)."""

from __future__ import annotations

import datetime as dt
from typing import cast

from sqlalchemy import Table, delete, select, update

from storage.models import DashboardSessionRow, DashboardSpentRow
from storage.repositories.base import Repository, insert_for

SESSIONS = cast(Table, DashboardSessionRow.__table__)
SPENT = cast(Table, DashboardSpentRow.__table__)


class SqlDashboard(Repository):
    async def spend(self, key: str, until: dt.datetime) -> bool:
        """Mark a one-time sign-in used: True only for the first caller (the key is unique,
        so two processes redeeming it at once cannot both get True)."""
        inserted = await self.run(
            insert_for(self.session, SPENT)
            .values(key=key, until=until)
            .on_conflict_do_nothing(index_elements=["key"])
            .returning(SPENT.c.key)
        )
        return inserted.first() is not None

    async def open(self, key: str, user_id: int, at: dt.datetime, until: dt.datetime) -> None:
        await self.run(
            insert_for(self.session, SESSIONS).values(
                key=key, user_id=user_id, created_at=at, expires_at=until
            )
        )

    async def alive(self, key: str, user_id: int, now: dt.datetime) -> bool:
        """The session exists for this person, has not ended and has not expired."""
        found = await self.run(
            select(SESSIONS.c.key).where(
                SESSIONS.c.key == key,
                SESSIONS.c.user_id == user_id,
                SESSIONS.c.ended_at.is_(None),
                SESSIONS.c.expires_at > now,
            )
        )
        return found.first() is not None

    async def end(self, key: str, now: dt.datetime) -> None:
        await self.run(
            update(SESSIONS)
            .where(SESSIONS.c.key == key, SESSIONS.c.ended_at.is_(None))
            .values(ended_at=now)
        )

    async def forget_before(self, now: dt.datetime) -> None:
        """Rows that can no longer matter: expired sessions and spent keys past their use."""
        await self.run(delete(SESSIONS).where(SESSIONS.c.expires_at <= now))
        await self.run(delete(SPENT).where(SPENT.c.until <= now))
