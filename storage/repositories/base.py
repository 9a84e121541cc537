"""Dialect helpers shared by the repositories."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from campaigns.settings import utc


def insert_for(session: AsyncSession, table: Any) -> Any:
    """An INSERT that supports ON CONFLICT on the session's dialect."""
    name = session.get_bind().dialect.name
    if name == "postgresql":
        return postgresql.insert(table)
    if name == "sqlite":
        return sqlite.insert(table)
    raise NotImplementedError(f"unsupported database dialect {name!r}")


class Repository:
    """A repository works inside the unit of work's session."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session


def aware(at: dt.datetime | None) -> dt.datetime | None:
    """Databases hand back naive or offset datetimes; the domain wants UTC-aware ones."""
    return utc(at) if at is not None else None
