"""The group's local day of a stored instant, in SQL on both databases.

`local_day(at, timezone)` is `campaigns.checkin.local_day` (the one rule): PostgreSQL runs
it as `AT TIME ZONE` on its own time zone database, SQLite (which has none) calls the
Python rule through a function registered on every connection (storage/engine.py). The
daily rollup's writes and its recompute both group by it, and a storage test holds the
two databases to the rule across DST changes.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Date
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement

from campaigns.checkin import local_day as rule


class local_day(FunctionElement[dt.date]):
    """The local calendar day of a timestamp in a named time zone."""

    type = Date()
    inherit_cache = True
    name = "local_day"


@compiles(local_day, "postgresql")
def _local_day_pg(element: Any, compiler: Any, **kw: Any) -> str:
    at, zone = (compiler.process(c, **kw) for c in element.clauses)
    return f"CAST((CAST({at} AS TIMESTAMPTZ) AT TIME ZONE {zone}) AS DATE)"


@compiles(local_day, "sqlite")
def _local_day_sqlite(element: Any, compiler: Any, **kw: Any) -> str:
    return f"local_day({compiler.process(element.clauses, **kw)})"


def sqlite_local_day(stamp: str | None, timezone: str | None) -> str | None:
    """SQLite's `local_day(at, tz)`: a day as SQLAlchemy stores dates (ISO); NULL in, NULL
    out."""
    if stamp is None or timezone is None:
        return None
    at = dt.datetime.fromisoformat(str(stamp))
    if at.tzinfo is None:
        at = at.replace(tzinfo=dt.UTC)  # SQLite keeps UTC without an offset
    return rule(at, str(timezone)).isoformat()
