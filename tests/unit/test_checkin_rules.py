import datetime as dt

import pytest

from campaigns.checkin import (
    CheckinRules,
    PreviousCheckin,
    award,
    current_streak,
    local_day,
    next_reset,
)
from campaigns.services.checkin import CheckedIn

DAY = dt.date(2026, 11, 16)


def test_first_checkin_starts_a_streak_of_one_with_base_points():
    result = award(None, DAY, CheckinRules(points=10))

    assert (result.streak, result.total) == (1, 10)


def test_consecutive_day_continues_the_streak_with_a_bonus():
    previous = PreviousCheckin(day=DAY - dt.timedelta(days=1), streak=3)

    result = award(previous, DAY, CheckinRules(points=10, streak_bonus=2, streak_bonus_max=50))

    assert result.streak == 4
    assert result.streak_points == 6


def test_gap_resets_streak_to_one():
    previous = PreviousCheckin(day=DAY - dt.timedelta(days=2), streak=9)

    result = award(previous, DAY, CheckinRules())

    assert result.streak == 1
    assert result.streak_points == 0


def test_streak_bonus_is_capped():
    previous = PreviousCheckin(day=DAY - dt.timedelta(days=1), streak=40)

    result = award(previous, DAY, CheckinRules(streak_bonus=1, streak_bonus_max=5))

    assert result.streak_points == 5


def test_milestone_pays_once_on_its_exact_day():
    rules = CheckinRules(points=10, streak_bonus=0, milestones={7: 5, 30: 20})
    day6 = PreviousCheckin(day=DAY - dt.timedelta(days=1), streak=6)
    day7 = PreviousCheckin(day=DAY - dt.timedelta(days=1), streak=7)

    assert award(day6, DAY, rules).milestone_points == 5
    assert award(day7, DAY, rules).milestone_points == 0


def test_local_day_follows_the_group_timezone():
    late_utc = dt.datetime(2026, 11, 16, 17, 30, tzinfo=dt.UTC)

    assert local_day(late_utc, "UTC") == dt.date(2026, 11, 16)
    assert local_day(late_utc, "Asia/Shanghai") == dt.date(2026, 11, 17)
    assert local_day(late_utc, "America/Los_Angeles") == dt.date(2026, 11, 16)


def test_naive_times_are_refused():
    with pytest.raises(ValueError):
        local_day(dt.datetime(2026, 11, 16, 12, 0), "UTC")


def test_next_reset_is_the_next_local_midnight():
    at = dt.datetime(2026, 11, 16, 2, 0, tzinfo=dt.UTC)  # 10:00 in Shanghai

    reset = next_reset(at, "Asia/Shanghai")

    assert reset.astimezone(dt.UTC) == dt.datetime(2026, 11, 16, 16, 0, tzinfo=dt.UTC)


def test_next_reset_across_a_dst_change_is_still_local_midnight():
    before = dt.datetime(2026, 3, 8, 3, 0, tzinfo=dt.UTC)  # 22:00 on 7 March in New York, EST
    after = dt.datetime(2026, 3, 8, 12, 0, tzinfo=dt.UTC)  # 08:00 on 8 March, EDT

    assert next_reset(before, "America/New_York").astimezone(dt.UTC).hour == 5
    assert next_reset(after, "America/New_York").astimezone(dt.UTC) == dt.datetime(
        2026, 3, 9, 4, 0, tzinfo=dt.UTC
    )


def test_streak_shown_today_is_zero_once_a_day_was_missed():
    assert current_streak(DAY, 5, DAY) == 5
    assert current_streak(DAY - dt.timedelta(days=1), 5, DAY) == 5
    assert current_streak(DAY - dt.timedelta(days=2), 5, DAY) == 0
    assert current_streak(None, 0, DAY) == 0


def test_the_check_in_hint_holds_one_day_per_member_and_a_bounded_number_of_members(
    monkeypatch,
):
    monkeypatch.setattr(CheckedIn, "LIMIT", 3)
    hint = CheckedIn()
    monday, tuesday = dt.date(2026, 11, 16), dt.date(2026, 11, 17)
    hint.saw(-1, 1, monday)
    hint.saw(-1, 1, tuesday)  # a member's newer day replaces the older
    hint.saw(-1, 2, monday)
    hint.saw(-2, 1, monday)  # the same user in another group is another member

    assert hint.knows(-1, 1, tuesday) and not hint.knows(-1, 1, monday)
    assert hint.knows(-2, 1, monday) and not hint.knows(-2, 2, monday)
    hint.saw(-1, 2, tuesday)  # known already: nothing forgotten
    assert hint.knows(-1, 1, tuesday)
    hint.saw(-3, 9, monday)  # a fourth member: it starts afresh
    assert hint.knows(-3, 9, monday) and not hint.knows(-1, 1, tuesday)
