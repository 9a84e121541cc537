"""Times in activity batches' JSON rows are written on SQLite exactly as SQLAlchemy writes
them elsewhere: the rows are compared and de-duplicated against values it stored."""

from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Date
from sqlalchemy.dialects import sqlite

from storage.models import UtcDateTime
from storage.repositories.base import _sqlite_text

DIALECT = sqlite.dialect()
STAMP = UtcDateTime().dialect_impl(DIALECT).bind_processor(DIALECT)
DAY = Date().dialect_impl(DIALECT).bind_processor(DIALECT)
ZONES = st.one_of(
    st.none(),
    st.just(dt.UTC),  # Telegram's and the clock's times: the encoder's shortcut
    st.integers(-14 * 60, 14 * 60).map(lambda m: dt.timezone(dt.timedelta(minutes=m))),
)


@given(st.datetimes(min_value=dt.datetime(2, 1, 1), max_value=dt.datetime(9998, 12, 31)), ZONES)
def test_a_time_is_the_text_sqlalchemy_writes(naive: dt.datetime, zone: dt.tzinfo | None) -> None:
    value = naive.replace(tzinfo=zone)
    assert STAMP is not None
    # UtcDateTime first turns an aware time into UTC, as SQLAlchemy does on every write.
    assert _sqlite_text(value) == STAMP(UtcDateTime().process_bind_param(value, DIALECT))


@given(st.dates())
def test_a_day_is_the_text_sqlalchemy_writes(day: dt.date) -> None:
    assert DAY is not None
    assert _sqlite_text(day) == DAY(day)
