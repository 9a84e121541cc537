"""Schedules: friendly forms, cron, one-off times; DST and catching up after downtime."""

from __future__ import annotations

import datetime as dt
import itertools
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from campaigns.audience import AudienceError, MemberFacts, parse_audience
from campaigns.content import PostContent, split_buttons
from campaigns.schedule import (
    DAYS,
    ScheduleError,
    WhenError,
    english_days,
    friendly_cron,
    may_fire,
    parse_when,
    stored_when,
)

NOW = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.UTC)
BERLIN = ZoneInfo("Europe/Berlin")


@pytest.mark.parametrize(
    ("text", "cron"),
    [
        ("daily 09:00", "0 9 * * *"),
        ("Mon,Thu 20:00", "0 20 * * mon,thu"),
        ("weekdays 8:30", "30 8 * * mon-fri"),
        ("weekends 10:15", "15 10 * * sat,sun"),
        ("mon-fri 9:00", "0 9 * * mon-fri"),
        ("0 9 * * 1-5", "0 9 * * 1-5"),
    ],
)
def test_friendly_forms_become_cron(text: str, cron: str):
    assert parse_when(text, "Asia/Shanghai", NOW).cron == cron


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", WhenError.EMPTY),
        ("daily 25:00", WhenError.BAD_TIME),
        ("daily 09:60", WhenError.BAD_TIME),
        ("0 61 * * *", WhenError.BAD_CRON),
        ("0 9 30 2 *", WhenError.NEVER),
        ("2020-01-01 09:00", WhenError.PAST),
        ("2026-02-30 09:00", WhenError.BAD_TIME),
        ("tomorrow-ish", WhenError.UNKNOWN),
    ],
)
def test_bad_schedules_are_refused_with_a_reason(text: str, reason: WhenError):
    with pytest.raises(ScheduleError) as caught:
        parse_when(text, "Asia/Shanghai", NOW)
    assert caught.value.reason is reason


def test_a_one_off_time_is_local_to_the_group_unless_it_has_an_offset():
    local = parse_when("2026-12-01 09:00", "Asia/Shanghai", NOW)
    offset = parse_when("2026-12-01T09:00+00:00", "Asia/Shanghai", NOW)

    assert local.at == dt.datetime(2026, 12, 1, 1, 0, tzinfo=dt.UTC)
    assert offset.at == dt.datetime(2026, 12, 1, 9, 0, tzinfo=dt.UTC)
    assert local.next_after(local.at) is None  # runs once


def test_daily_posts_keep_their_local_time_across_both_dst_changes():
    daily = parse_when("daily 09:00", "Europe/Berlin", NOW)
    spring = daily.upcoming(dt.datetime(2027, 3, 27, tzinfo=dt.UTC), 2)
    autumn = daily.upcoming(dt.datetime(2027, 10, 30, tzinfo=dt.UTC), 2)

    assert [r.astimezone(BERLIN).hour for r in spring + autumn] == [9, 9, 9, 9]
    assert [r.hour for r in spring] == [8, 7]  # UTC moves, the wall clock does not
    assert [r.hour for r in autumn] == [7, 8]


def test_a_time_skipped_by_spring_forward_runs_once_right_after_the_jump():
    runs = parse_when("daily 02:30", "Europe/Berlin", NOW).upcoming(
        dt.datetime(2027, 3, 27, 12, tzinfo=dt.UTC), 2
    )

    assert [r.astimezone(BERLIN).isoformat() for r in runs] == [
        "2027-03-28T03:30:00+02:00",
        "2027-03-29T02:30:00+02:00",
    ]


def test_a_time_repeated_by_fall_back_runs_once_but_intervals_keep_running():
    daily = parse_when("daily 02:30", "Europe/Berlin", NOW).upcoming(
        dt.datetime(2027, 10, 30, 12, tzinfo=dt.UTC), 2
    )
    half_hourly = parse_when("*/30 * * * *", "Europe/Berlin", NOW).upcoming(
        dt.datetime(2027, 10, 30, 23, 50, tzinfo=dt.UTC), 6
    )

    assert [r.astimezone(BERLIN).date().day for r in daily] == [31, 1]
    gaps = {(b - a) for a, b in itertools.pairwise(half_hourly)}
    assert gaps == {dt.timedelta(minutes=30)}  # through the repeated hour too


def test_catching_up_after_downtime_finds_the_latest_run_and_counts_the_rest():
    daily = parse_when("daily 09:00", "Asia/Shanghai", NOW)
    due = dt.datetime(2026, 11, 24, 1, 0, tzinfo=dt.UTC)

    latest, passed = daily.latest_due(due, due + dt.timedelta(days=3, hours=2))

    assert latest == due + dt.timedelta(days=3) and passed == 3


def test_audience_rules():
    audience = parse_audience("joined<7d, active>30d points>=100 checkin<1d")

    assert audience.joined_within == 7 and audience.active_over == 30
    assert audience.points_min == 100 and audience.checkin_within == 1
    assert audience.describe() == "joined<7d active>30d checkin<1d points>=100"
    assert parse_audience("").describe() == "all"
    for bad in ("vip", "points<5", "points=100", "joined=3d", "joined<99999d"):
        with pytest.raises(AudienceError):
            parse_audience(bad)


def test_a_member_from_before_the_bot_has_joined_long_ago_not_recently():
    now = dt.datetime(2026, 11, 20, 3, tzinfo=dt.UTC)
    old_timer = MemberFacts(None, now, now.date(), 150, present=True, reachable=True)
    newcomer = MemberFacts(now - dt.timedelta(days=7), None, None, 0, present=True, reachable=True)

    assert parse_audience("joined>30d points>=100").matches(old_timer, now)
    assert not parse_audience("joined<7d").matches(old_timer, now)
    assert parse_audience("joined<7d checkin>1d").matches(newcomer, now)  # the cutoff counts
    assert not parse_audience("all").matches(MemberFacts(None, None, None, 0, True, False), now)


def test_a_literal_angle_pair_typed_in_a_button_line_is_kept():
    # The dashboard's form passes what the admin typed; only a tag with a name is markup.
    _, buttons = split_buttons("Hi\nbutton: A <> B | https://x.example/?q=<>")

    assert (buttons[0].text, buttons[0].url) == ("A <> B", "https://x.example/?q=<>")


def test_post_content_is_checked_as_telegram_would():
    text, buttons = split_buttons(
        "Sale!\nbutton: Shop | https://x.example/?a=1&amp;b=2\n按钮：领券 | coupon 3"
    )

    assert text == "Sale!"
    assert buttons[0].url == "https://x.example/?a=1&b=2" and buttons[1].coupon == 3
    assert PostContent(text="", photo="AgAC1").text == ""  # a photo may go without a caption
    for bad in ({"text": "<b>x"}, {"text": "x" * 4097}, {"text": "x" * 1025, "photo": "id"}):
        with pytest.raises(ValueError):
            PostContent(**bad)


@pytest.mark.parametrize(
    ("expr", "fires"),
    [
        ("0 9 31 4 *", False),  # 31 April
        ("0 0 30 2 *", False),
        ("0 0 30-31 feb *", False),
        ("59 23 31 2,4,6,9,11 *", False),
        ("0 9 31 apr-jun/2 *", False),  # April and June
        ("0 0 29 2 *", True),  # leap years
        ("0 0 29 2 mon", True),  # a Monday 29 February comes round too
        ("0 0 31 */2 *", True),
        ("0 0 last 2 *", True),
        ("0 0 1st 2 *", True),  # not plain: the engine decides
    ],
)
def test_a_cron_naming_only_days_its_months_lack_never_fires(expr: str, fires: bool):
    assert may_fire(expr) is fires


@pytest.mark.parametrize("expr", ["0 9 31 4 *", "0 0 30 2 *", "59 23 31 2,4,6,9,11 sat"])
def test_a_cron_that_never_fires_is_refused_without_searching(expr: str, monkeypatch):
    from apscheduler.triggers.cron import CronTrigger

    def search(*_: object) -> None:
        raise AssertionError("searched for a fire time up to the year 9999")

    monkeypatch.setattr(CronTrigger, "get_next_fire_time", search)

    with pytest.raises(ScheduleError) as caught:
        parse_when(expr, "Asia/Shanghai", NOW)

    assert caught.value.reason is WhenError.NEVER


SUNDAY = dt.datetime(2026, 11, 22, tzinfo=dt.UTC)  # 00:00 UTC on a Sunday
DAY_NAMES = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]


@pytest.mark.parametrize("day", range(8))
def test_a_cron_weekday_number_means_what_cron_means_sunday_is_0_and_7(day: int):
    when = parse_when(f"0 9 * * {day}", "UTC", SUNDAY)

    runs = when.upcoming(SUNDAY, 3)

    assert [r.strftime("%a") for r in runs] == [DAY_NAMES[day]] * 3
    assert when.describe() == f"0 9 * * {day}"


@pytest.mark.parametrize(
    ("expr", "days"),
    [
        ("0 9 * * 1-5", ["Mon", "Tue", "Wed", "Thu", "Fri"]),  # the README's example
        ("0 9 * * MON-FRI", ["Mon", "Tue", "Wed", "Thu", "Fri"]),
        ("0 9 * * mon,sun", ["Sun", "Mon"]),
        ("0 9 * * sun", ["Sun"]),
        ("0 9 * * sat", ["Sat"]),
        ("0 9 * * 0,6", ["Sun", "Sat"]),
        ("0 9 * * 6,7", ["Sun", "Sat"]),
        ("0 9 * * 5-7", ["Sun", "Fri", "Sat"]),
        ("0 9 * * fri-sun", ["Sun", "Fri", "Sat"]),
        ("0 9 * * */2", ["Sun", "Tue", "Thu", "Sat"]),
        ("0 9 * * 1-5/2", ["Mon", "Wed", "Fri"]),
        ("0 9 * * *", ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]),
        ("weekdays 09:00", ["Mon", "Tue", "Wed", "Thu", "Fri"]),
        ("weekends 09:00", ["Sun", "Sat"]),
    ],
)
def test_cron_weekday_ranges_lists_steps_and_names_mean_standard_cron(expr: str, days: list[str]):
    runs = parse_when(expr, "UTC", SUNDAY).upcoming(SUNDAY, 7)

    assert sorted({r.strftime("%a") for r in runs}, key=DAY_NAMES.index) == days
    assert len({r.date() for r in runs}) == 7 or len(days) < 7  # one run a day at most


@pytest.mark.parametrize(
    ("expr", "field", "detail"),
    [
        ("0 9 * * 8", "weekday", "8"),
        ("0 9 * * 1-9", "weekday", "1-9"),
        ("0 9 * * funday", "weekday", "funday"),
        ("61 9 * * *", "minute", "61"),
        ("0 24 * * *", "hour", "24"),
        ("0 9 32 * *", "day", "32"),
        ("0 9 * 13 *", "month", "13"),
        ("0 9 * * 5-1", "weekday", "5-1"),
        ("0 9 * * */0", "weekday", "*/0"),
    ],
)
def test_a_bad_cron_field_is_refused_naming_the_field(expr: str, field: str, detail: str):
    with pytest.raises(ScheduleError) as caught:
        parse_when(expr, "UTC", SUNDAY)

    assert caught.value.reason is WhenError.BAD_CRON
    assert (caught.value.field, caught.value.detail) == (field, detail)


def test_a_friendly_form_is_shown_back_as_written_and_stored_as_such():
    when = parse_when("Mon,Thu  20:00", "Asia/Shanghai", NOW)

    again = stored_when("Asia/Shanghai", when.describe(), None)

    assert when.describe() == "mon,thu 20:00" and when.cron == "0 20 * * mon,thu"
    assert again == when
    assert stored_when("UTC", "0 9 * * 1-5", None).describe() == "0 9 * * 1-5"


ZH_OF = {"mon": "一", "tue": "二", "wed": "三", "thu": "四", "fri": "五", "sat": "六", "sun": "日"}


@st.composite
def friendly_pairs(draw: st.DrawFn) -> tuple[str, str]:
    """A friendly form in English and the same written as a Chinese operator would."""
    hour, minute = draw(st.integers(0, 23)), draw(st.integers(0, 59))
    clock = f"{hour}:{minute:02d}"
    zh_clock = clock.replace(":", draw(st.sampled_from([":", "："])))
    kind = draw(st.sampled_from(["daily", "weekdays", "weekends", "days", "range"]))
    if kind in ("daily", "weekdays", "weekends"):
        word = {"daily": draw(st.sampled_from(["每天", "每日"])), "weekdays": "工作日",
                "weekends": "周末"}[kind]  # fmt: skip
        return f"{kind} {clock}", f"{word}{draw(st.sampled_from(['', ' ']))}{zh_clock}"
    prefix = draw(st.sampled_from(["周", "星期", "礼拜"]))
    if kind == "range":
        first, last = sorted(draw(st.lists(st.sampled_from(DAYS), min_size=2, max_size=2)))
        joiner = draw(st.sampled_from(["至", "到", "-"]))
        return (
            f"{first}-{last} {clock}",
            f"{prefix}{ZH_OF[first]}{joiner}{prefix}{ZH_OF[last]} {zh_clock}",
        )
    days = draw(st.lists(st.sampled_from(DAYS), min_size=1, max_size=4, unique=True))
    joiner = draw(st.sampled_from(["、", "，", ",", "和"]))
    zh = joiner.join(f"{prefix}{ZH_OF[d]}" for d in days)
    return f"{','.join(days)} {clock}", f"{draw(st.sampled_from(['', '每']))}{zh} {zh_clock}"


@given(friendly_pairs())
def test_a_friendly_form_in_chinese_is_the_same_schedule_as_in_english(
    pair: tuple[str, str],
) -> None:
    english, chinese = pair
    assert friendly_cron(chinese) == friendly_cron(english) is not None


@given(st.text(max_size=40))
def test_reading_chinese_day_words_never_fails_on_any_text(text: str) -> None:
    english_days(text)  # a plain string back, whatever was typed


def test_a_chinese_schedule_runs_when_its_english_one_does() -> None:
    zh = parse_when("每周一、周四 20：00", "Asia/Shanghai", NOW)
    en = parse_when("mon,thu 20:00", "Asia/Shanghai", NOW)

    assert zh.cron == en.cron and zh.next_after(NOW) == en.next_after(NOW)
    assert zh.label == "每周一、周四 20：00"  # shown back as the operator wrote it
    assert stored_when("Asia/Shanghai", zh.label, None).cron == en.cron
    with pytest.raises(ScheduleError):
        parse_when("周八 9:00", "Asia/Shanghai", NOW)
