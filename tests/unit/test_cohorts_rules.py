"""Weekly retention cohorts: the joining week in the group's timezone, week k after it."""

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from campaigns.cohorts import (
    DEFAULT_WEEKS,
    WeeksRefused,
    cohort_table,
    parse_weeks,
    week_start,
)

SHANGHAI = "Asia/Shanghai"
NOW = dt.datetime(2026, 11, 25, 4, 0, tzinfo=dt.UTC)  # Wednesday; the week began 23 Nov


def utc(day: int, hour: int = 4, month: int = 11) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, tzinfo=dt.UTC)


def test_a_week_starts_on_monday():
    assert week_start(dt.date(2026, 11, 29)) == dt.date(2026, 11, 23)  # a Sunday
    assert week_start(dt.date(2026, 11, 23)) == dt.date(2026, 11, 23)


def test_cohorts_by_local_joining_week_with_retention_per_week_after():
    joins = {
        1: utc(8, hour=20),  # Sunday in UTC, Monday 04:00 in Shanghai: the week of 9 Nov
        2: utc(10),
        3: utc(17),
        4: utc(1),  # older than the three weeks shown
    }
    active = [
        (1, dt.date(2026, 11, 9)), (1, dt.date(2026, 11, 23)),
        (2, dt.date(2026, 11, 9)), (2, dt.date(2026, 11, 16)), (2, dt.date(2026, 11, 16)),
        (3, dt.date(2026, 11, 23)),
        (4, dt.date(2026, 11, 23)),
    ]  # fmt: skip

    table = cohort_table(joins, active, timezone=SHANGHAI, weeks=3, now=NOW)

    assert table.weeks == (dt.date(2026, 11, 9), dt.date(2026, 11, 16), dt.date(2026, 11, 23))
    assert table.sizes == (2, 1, 0)
    assert table.active == ((2, 1, 1), (0, 1, None), (0, None, None))
    assert table.rate(0, 1) == 0.5
    assert table.rate(1, 2) is None  # that week has not begun
    assert table.rate(2, 0) is None  # nobody joined this week
    assert table.average(1) == 2 / 3  # one of two, and one of one


def test_in_utc_the_same_join_is_in_the_week_before():
    table = cohort_table({1: utc(8, hour=20)}, [], timezone="UTC", weeks=3, now=NOW)

    assert table.sizes == (0, 0, 0)  # 8 Nov is in the week of 2 Nov, not shown


def test_activity_before_joining_is_not_retention():
    table = cohort_table(
        {1: utc(17)}, [(1, dt.date(2026, 11, 9))], timezone=SHANGHAI, weeks=3, now=NOW
    )

    assert table.active[1] == (0, 0, None)


def test_weeks_default_to_eight_and_accept_two_to_twelve():
    assert parse_weeks([]) == DEFAULT_WEEKS
    assert parse_weeks(["12"]) == 12
    assert parse_weeks(["2"]) == 2


@given(st.lists(st.text(max_size=12), min_size=1, max_size=3))
def test_any_other_words_are_refused_with_a_weeks_error(words):
    try:
        weeks = parse_weeks(words)
    except WeeksRefused:
        return
    assert len(words) == 1 and words[0].isdigit() and 2 <= weeks <= 12
