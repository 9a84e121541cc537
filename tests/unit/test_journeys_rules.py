"""The journey rules: settings typed by admins, the holdout's share and stability, member
days, episodes, and what a report counts."""

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from campaigns.journeys import (
    KEYS,
    NO_JOURNEYS,
    Journey,
    JourneyProblem,
    JourneyRefused,
    RunStatus,
    apply_journey_setting,
    book_from_json,
    book_to_json,
    configured,
    episode_of_spell,
    holdout_period,
    in_holdout,
    is_member_day,
    parse_journey,
    switched,
)
from campaigns.journeys_report import Measure, report_of
from campaigns.ports.journeys import Outcomes, RunRecord

AT = dt.datetime(2026, 11, 30, 2, 0, tzinfo=dt.UTC)
DAY = dt.timedelta(days=1)


@given(st.text(max_size=40), st.text(max_size=40), st.text(max_size=60))
def test_any_typed_setting_is_applied_or_refused_with_a_reason(journey, key, value):
    try:
        book = apply_journey_setting(NO_JOURNEYS, parse_journey(journey), key, value)
    except JourneyRefused as refused:
        assert refused.problem in JourneyProblem
    else:
        assert book_from_json(book_to_json(book)) == book  # what is stored reads back


@given(st.dictionaries(st.text(max_size=12), st.dictionaries(
    st.one_of(st.text(max_size=12), st.booleans()),
    st.one_of(st.text(max_size=12), st.integers(), st.floats(), st.booleans(), st.none()),
    max_size=4,
), max_size=3))  # fmt: skip
def test_any_calendar_journeys_section_is_applied_or_refused(entries):
    try:
        configured(NO_JOURNEYS, entries, AT)
    except JourneyRefused as refused:
        assert refused.problem in JourneyProblem


@pytest.mark.parametrize(
    ("journey", "key", "raw", "field", "value"),
    [
        ("winback", "holdout", "10%", "holdout", 10),
        ("winback", "offer", "none", "offer", None),
        ("winback", "audience", "dormant", "audience", None),
        ("member-day", "day", "周六", "day", "sat"),
        ("member_day", "day", "15", "day", "15"),
        ("member_day", "multiplier", "x1.5", "multiplier", 1.5),
        ("repurchase", "after", "30天", "after", 30),
    ],
)
def test_settings_as_admins_type_them(journey, key, raw, field, value):
    book = apply_journey_setting(NO_JOURNEYS, parse_journey(journey), key, raw)
    assert getattr(book.get(parse_journey(journey)), field) == value


@pytest.mark.parametrize(
    ("key", "raw"),
    [("holdout", "51"), ("holdout", "-1"), ("day", "29"), ("day", "someday"),
     ("multiplier", "nan"), ("multiplier", "11"), ("hour", "24"), ("window", "0")],
)  # fmt: skip
def test_values_out_of_range_are_refused(key, raw):
    journey = next(j for j in Journey if key in KEYS[j])
    with pytest.raises(JourneyRefused) as refused:
        apply_journey_setting(NO_JOURNEYS, journey, key, raw)
    assert refused.value.problem is JourneyProblem.BAD_VALUE


def test_a_member_day_needs_its_day_before_it_is_switched_on():
    with pytest.raises(JourneyRefused):
        switched(NO_JOURNEYS, Journey.MEMBER_DAY, True, AT)
    book = apply_journey_setting(NO_JOURNEYS, Journey.MEMBER_DAY, "day", "15")
    assert switched(book, Journey.MEMBER_DAY, True, AT).get(Journey.MEMBER_DAY).since == AT


def test_the_holdout_keeps_its_share_within_tolerance_and_never_moves_a_member():
    members = range(1, 20_001)
    for share in (5, 10, 30, 50):
        held = sum(in_holdout(7, uid, Journey.WINBACK, share) for uid in members)
        assert abs(held / len(members) - share / 100) < 0.01
    small = {uid for uid in members if in_holdout(7, uid, Journey.WINBACK, 10)}
    large = {uid for uid in members if in_holdout(7, uid, Journey.WINBACK, 20)}
    assert small <= large  # raising the share only adds members to the holdout
    assert not any(in_holdout(7, uid, Journey.WINBACK, 0) for uid in members)


def test_member_days_monthly_and_weekly():
    assert is_member_day("15", dt.date(2026, 12, 15))
    assert not is_member_day("15", dt.date(2026, 12, 16))
    assert is_member_day("sat", dt.date(2026, 12, 5))
    assert not is_member_day(None, dt.date(2026, 12, 5))


def test_each_spell_of_inactivity_is_its_own_episode():
    assert episode_of_spell(None) == "never"
    assert episode_of_spell(AT) != episode_of_spell(AT + DAY)
    assert len(episode_of_spell(AT)) <= 32


def run(
    user: int, at: dt.datetime, status: RunStatus, code: str | None = None,
    back: dt.datetime | None = None,
) -> RunRecord:  # fmt: skip
    return RunRecord(user, "e", 1, status, at, code, back, delivered=status is RunStatus.QUEUED)


def test_the_report_counts_returns_in_the_window_and_only_for_members_whose_days_are_over():
    now = AT + 20 * DAY
    runs = [
        run(1, AT, RunStatus.QUEUED, "C1", back=AT + 2 * DAY),  # back on day 2, bought on day 5
        run(2, AT, RunStatus.QUEUED, "C2", back=AT + 10 * DAY),  # back on day 10: 14 days only
        run(3, AT + 15 * DAY, RunStatus.QUEUED, back=AT + 16 * DAY),  # too recent to count
        run(4, AT, RunStatus.HOLDOUT),  # never back
        run(5, AT, RunStatus.QUEUED, back=AT + dt.timedelta(hours=1)),  # back within the hour
    ]
    outcomes = Outcomes(
        orders={1: [(AT + 5 * DAY, 9900)], 4: [(AT + 30 * DAY, 100)]},
        redeemed={"C1"},
    )

    report = report_of(Journey.WINBACK, runs, outcomes, now, 90)

    m, h = report.messaged, report.holdout
    assert (report.entered, m.members, m.delivered, h.members) == (5, 4, 4, 1)
    assert (m.returned7, m.matured7, m.returned14, m.matured14) == (2, 3, 3, 3)
    assert (m.buyers, m.gmv, h.buyers, h.gmv) == (1, 9900, 0, 0)
    assert (m.bought14, h.bought14) == (1, 0)  # member 4 bought on day 30, past their 14 days
    assert (report.coupons, report.redeemed) == (2, 1)
    returned14 = report.test(Measure.RETURNED_14)
    assert returned14 is not None and returned14.lift_points == 1.0


def test_an_order_is_a_return_too():
    runs = [run(1, AT, RunStatus.QUEUED)]
    outcomes = Outcomes(orders={1: [(AT + 3 * DAY, 500)]}, redeemed=set())

    report = report_of(Journey.WINBACK, runs, outcomes, AT + 8 * DAY, 90)

    assert (report.messaged.returned7, report.messaged.matured7) == (1, 1)


def test_a_private_message_links_back_to_a_public_group_only():
    from campaigns.ports.members import Contact
    from campaigns.services.journey_step import JourneyMessage
    from handlers.journey_texts import render

    member = Contact(5, "Ann", "zh-hans", True)
    public = JourneyMessage(
        Journey.NUDGE, 1, "晴天奶茶", "en", "UTC", member, group_username="sunnytea"
    )
    private = JourneyMessage(Journey.NUDGE, 1, "晴天奶茶", "en", "UTC", member)

    [button] = render(public).buttons
    assert (button.text, button.url) == ("打开 晴天奶茶", "https://t.me/sunnytea")
    assert render(private).buttons == []


def test_a_recurring_gift_draws_its_holdout_anew_each_year_or_month():
    members = range(1, 2001)
    years = [
        {u for u in members if in_holdout(7, u, Journey.BIRTHDAY, 10, str(year))}
        for year in (2027, 2028)
    ]
    once = {u for u in members if in_holdout(7, u, Journey.WINBACK, 10, "")}

    assert years[0] != years[1] and len(years[0] & years[1]) < len(years[0]) / 2
    assert holdout_period(Journey.MEMBER_DAY, "2026-12-15") == "2026-12"
    assert holdout_period(Journey.BIRTHDAY, "2027") == "2027"
    assert holdout_period(Journey.WINBACK, "20261215T000000") == ""
    assert once == {u for u in members if in_holdout(7, u, Journey.WINBACK, 10)}


@pytest.mark.parametrize(
    ("raw", "day"),
    [("星期六", "sat"), ("周天", "sun"), ("礼拜一", "mon"), ("15号", "15"), ("15日", "15")],
)
def test_member_days_as_chinese_admins_type_them(raw, day):
    book = apply_journey_setting(NO_JOURNEYS, Journey.MEMBER_DAY, "day", raw)
    assert book.get(Journey.MEMBER_DAY).day == day


@pytest.mark.parametrize(("raw", "value"), [("×2", 2.0), ("1.5倍", 1.5), ("x3", 3.0), ("1", 1.0)])
def test_multipliers_as_typed_and_none_too_close_to_one(raw, value):
    book = apply_journey_setting(NO_JOURNEYS, Journey.MEMBER_DAY, "multiplier", raw)
    assert book.get(Journey.MEMBER_DAY).multiplier == value
    with pytest.raises(JourneyRefused):
        apply_journey_setting(NO_JOURNEYS, Journey.MEMBER_DAY, "multiplier", "1.0000001")
