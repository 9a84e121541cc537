"""Named leases: a row with a holder and an expiry, taken over only once it has expired."""

from __future__ import annotations

import datetime as dt
from typing import cast

from sqlalchemy import Table, or_, select, update

from storage.models import LeaseRow
from storage.repositories.base import Repository, insert_for

LEASES = cast(Table, LeaseRow.__table__)


class SqlLeases(Repository):
    async def acquire(self, name: str, holder: str, now: dt.datetime, until: dt.datetime) -> bool:
        """Take or renew the lease until `until`: True if `holder` has it now.

        One statement: the insert creates it, the conflict branch renews it for its holder or
        hands it to a new one only when it has expired; a row comes back only on success.
        """
        stmt = insert_for(self.session, LEASES).values(name=name, holder=holder, expires_at=until)
        stmt = stmt.on_conflict_do_update(
            index_elements=["name"],
            set_={"holder": stmt.excluded.holder, "expires_at": stmt.excluded.expires_at},
            where=or_(LEASES.c.holder == holder, LEASES.c.expires_at <= now),
        ).returning(LEASES.c.holder)
        return (await self.session.execute(stmt)).first() is not None

    async def take_over(self, name: str, holder: str, dead: str, until: dt.datetime) -> bool:
        """Take the lease from `dead` (a holder known to be gone) before it expires; only if
        `dead` still holds it, so two processes seeing the same corpse do not both win."""
        result = await self.session.execute(
            update(LEASES)
            .where(LEASES.c.name == name, LEASES.c.holder == dead)
            .values(holder=holder, expires_at=until)
        )
        return bool(getattr(result, "rowcount", 0))

    async def release(self, name: str, holder: str, now: dt.datetime) -> bool:
        """Let the lease expire now, if `holder` still has it (a clean stop hands over at once)."""
        result = await self.session.execute(
            update(LEASES)
            .where(LEASES.c.name == name, LEASES.c.holder == holder)
            .values(expires_at=now)
        )
        return bool(getattr(result, "rowcount", 0))

    async def holder(self, name: str, now: dt.datetime) -> str | None:
        """Who holds the lease now, if anyone."""
        found = await self.session.execute(
            select(LEASES.c.holder).where(LEASES.c.name == name, LEASES.c.expires_at > now)
        )
        return found.scalar_one_or_none()
