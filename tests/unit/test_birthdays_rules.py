"""Birthdays: the date as typed, the 30-day rule, 29 February, and member-day points."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from campaigns.birthdays import (
    BirthdayProblem,
    BirthdayRefused,
    birthday_in,
    first_year,
    is_birthday,
    parse_birthday,
    stored_on,
    waits,
)
from campaigns.checkin import CheckinRules, award
from campaigns.journeys import (
    Journey,
    JourneyBook,
    JourneySettings,
    member_day_multiplier,
    on_member_day,
)
from campaigns.orders import purchase_points
from campaigns.tiers import DEFAULT_LADDER


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("03-05", "03-05"),
        ("3-5", "03-05"),
        ("3/5", "03-05"),
        ("12.31", "12-31"),
        ("1990-03-05", "03-05"),
        ("3月5日", "03-05"),
        ("３月５日", "03-05"),
        ("1990年3月5号", "03-05"),
        ("０３－０５", "03-05"),
        ("02-29", "02-29"),
    ],
)
def test_a_birthday_is_read_as_people_type_it(typed, stored):
    assert parse_birthday(typed) == stored


@pytest.mark.parametrize("typed", ["", "clear", "02-30", "13-01", "00-05", "3-", "٣-٥", "3²-5"])
def test_what_is_not_a_date_is_refused(typed):
    with pytest.raises(BirthdayRefused) as refused:
        parse_birthday(typed)
    assert refused.value.problem is BirthdayProblem.NOT_A_DATE


@given(st.text(max_size=30))
@example("9" * 40)
@example("99-99")
@example("1\n2")
def test_the_parser_refuses_or_answers_never_anything_else(typed):
    try:
        stored = parse_birthday(typed)
    except BirthdayRefused:
        return
    assert birthday_in(stored, 2000).strftime("%m-%d") == stored


def test_a_birthday_entered_within_30_days_before_it_waits_a_year():
    assert first_year("01-05", dt.date(2026, 12, 20)) == 2028  # 16 days: not 2027's
    assert first_year("01-05", dt.date(2026, 12, 5)) == 2027  # 31 days before: it counts
    assert first_year("01-05", dt.date(2026, 12, 6)) == 2028  # exactly 30 days
    assert first_year("03-05", dt.date(2026, 3, 5)) == 2027  # on the day itself
    assert first_year("03-05", dt.date(2026, 3, 6)) == 2027  # just past: next year's
    assert first_year("12-31", dt.date(2026, 1, 1)) == 2026


def test_a_29_february_birthday_falls_on_the_28th_in_common_years():
    assert birthday_in("02-29", 2027) == dt.date(2027, 2, 28)
    assert birthday_in("02-29", 2028) == dt.date(2028, 2, 29)
    assert stored_on(dt.date(2027, 2, 28)) == ["02-28", "02-29"]
    assert stored_on(dt.date(2028, 2, 28)) == ["02-28"]
    assert is_birthday("02-29", 2026, dt.date(2027, 2, 28))
    assert not is_birthday("02-29", 2026, dt.date(2028, 2, 28))
    assert first_year("02-29", dt.date(2027, 2, 1)) == 2028  # 27 days before the 28th


def test_a_birthday_counts_only_from_its_first_year():
    assert not is_birthday("03-05", 2027, dt.date(2026, 3, 5))
    assert is_birthday("03-05", 2027, dt.date(2027, 3, 5))
    assert not is_birthday(None, None, dt.date(2027, 3, 5))


def test_the_member_day_multiplies_on_top_of_the_tier():
    since = dt.datetime(2026, 12, 1, tzinfo=dt.UTC)
    monthly = JourneyBook().with_(
        Journey.MEMBER_DAY, JourneySettings(on=True, since=since, day="15", multiplier=2.0)
    )
    off = monthly.with_(Journey.MEMBER_DAY, JourneySettings(on=False, day="15"))
    fifteenth = dt.date(2026, 12, 15)
    shanghai = "Asia/Shanghai"
    at_15 = dt.datetime(2026, 12, 14, 16, 30, tzinfo=dt.UTC)  # 00:30 on the 15th in Shanghai
    a_year_before = at_15 - dt.timedelta(days=365)  # a 15th before it was switched on

    assert member_day_multiplier(monthly, at_15, shanghai) == 2.0
    assert member_day_multiplier(monthly, at_15, "UTC") == 1.0  # still the 14th in UTC
    assert member_day_multiplier(monthly, at_15 + dt.timedelta(days=1), shanghai) == 1.0
    assert member_day_multiplier(off, at_15, shanghai) == 1.0
    assert member_day_multiplier(monthly, a_year_before, shanghai) == 1.0
    assert on_member_day(15, 2.0) == 30
    assert on_member_day(100, 2.3) == 230  # not 229: decimal, not binary, arithmetic
    # 10 × 1.5 (VIP) = 15, then × 2 = 30: 5 from the tier, 15 from the member day
    vip = award(None, fifteenth, CheckinRules(streak_bonus=0), ladder=DEFAULT_LADDER, level=3)
    both = award(None, fifteenth, CheckinRules(), ladder=DEFAULT_LADDER, level=3, member_day=2.0)
    assert (vip.tier_points, vip.member_day_points, vip.total) == (5, 0, 15)
    assert (both.tier_points, both.member_day_points, both.total) == (5, 15, 30)
    assert purchase_points(2000, 1, ladder=DEFAULT_LADDER, level=3, member_day=2.0) == 60


def test_only_a_date_within_30_days_before_it_waits_a_year():
    today = dt.date(2026, 11, 30)

    assert waits("12-15", today) and first_year("12-15", today) == 2027
    assert not waits("01-05", today) and first_year("01-05", today) == 2027  # 36 days: next one
    assert not waits("11-29", today)  # just passed: next year's is far off
