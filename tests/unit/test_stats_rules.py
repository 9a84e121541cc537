"""The /stats rules: periods in local days, each KPI's formula, changes, no division by zero."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from campaigns.checkin import local_day
from campaigns.stats import (
    Asked,
    BadPeriod,
    DayTotals,
    Kpi,
    KpiLine,
    Period,
    PeriodFacts,
    kpi_card,
    local_midnight,
    parse_asked,
    parse_period,
    period_since,
    values,
)

TODAY = dt.date(2026, 11, 30)


def test_the_default_period_is_the_30_days_ending_today_and_the_one_before_it():
    period = parse_period([], TODAY)

    assert (period.start, period.end, period.days) == (dt.date(2026, 11, 1), TODAY, 30)
    assert period.previous() == Period(dt.date(2026, 10, 2), dt.date(2026, 10, 31))


@pytest.mark.parametrize(("word", "days"), [("7d", 7), ("30D", 30), ("90d", 90), ("7天", 7),
                                            ("90", 90)])  # fmt: skip
def test_7d_30d_and_90d_are_understood_in_either_way_of_writing(word: str, days: int):
    assert parse_period([word], TODAY).days == days


@given(st.lists(st.text(max_size=12), max_size=3))
def test_any_argument_is_a_period_or_bad_period_and_nothing_else(words: list[str]):
    try:
        asked = parse_asked(words)
    except BadPeriod as error:
        assert len(error.given) <= 32
    else:
        assert asked.days in (7, 30, 90) and asked.since is None


def test_a_since_in_the_future_or_more_than_a_year_back_is_refused():
    assert period_since(dt.date(2026, 11, 2), TODAY).days == 29
    with pytest.raises(BadPeriod):
        period_since(TODAY + dt.timedelta(days=1), TODAY)
    with pytest.raises(BadPeriod):
        Asked(since=dt.date(2025, 11, 29)).period(TODAY)


def test_a_dst_day_has_its_own_length_and_its_bounds_are_its_local_midnights():
    spring = Period(dt.date(2026, 3, 29), dt.date(2026, 3, 29))  # Berlin: 23 hours

    since, until = spring.bounds("Europe/Berlin")

    assert until - since == dt.timedelta(hours=23)
    assert local_day(since, "Europe/Berlin") == dt.date(2026, 3, 29)
    assert local_day(until - dt.timedelta(microseconds=1), "Europe/Berlin") == spring.end


def test_a_midnight_skipped_by_dst_starts_the_day_at_the_first_hour_there_is():
    # Santiago skips 00:00-01:00 on 6 September 2026: the day starts at 01:00 local.
    start = local_midnight(dt.date(2026, 9, 6), "America/Santiago")

    assert local_day(start, "America/Santiago") == dt.date(2026, 9, 6)
    assert local_day(start - dt.timedelta(seconds=1), "America/Santiago") == dt.date(2026, 9, 5)


def test_wau_and_mau_are_the_7_and_30_days_ending_with_the_period():
    week, month = Period(dt.date(2026, 11, 24), TODAY).active_windows()

    assert week == (dt.date(2026, 11, 24), TODAY)
    assert month == (dt.date(2026, 11, 1), TODAY)


def test_every_formula_on_a_hand_worked_fortnight():
    totals = DayTotals(
        TODAY, joins=10, leaves=4, messages=300, active=70, checkins=35, invites_confirmed=3,
        coupons_claimed=20, coupons_redeemed=5, orders=8, gmv=80_000, first_orders=2,
    )  # fmt: skip
    facts = PeriodFacts(
        members_start=94, members_end=100, wau=30, mau=40, buyers=6, repeat_buyers=2,
        new_members=8, converted=2, issued_redeemed=5, joins_confirmed=3,
    )  # fmt: skip

    v = values(totals, facts, days=14, month_active=360, checked=35)  # MAU: 12 a day

    assert v[Kpi.NET_GROWTH] == 6 and v[Kpi.MEMBERS] == 100
    assert v[Kpi.DAU] == 5 and v[Kpi.STICKINESS] == pytest.approx(12 / 40)
    assert v[Kpi.CHECKIN_RATE] == 0.5 and v[Kpi.REFERRAL_SHARE] == pytest.approx(0.3)
    assert v[Kpi.REDEMPTION_RATE] == 0.25
    assert v[Kpi.AOV] == 10_000 and v[Kpi.ARPU] == 800
    assert v[Kpi.REPURCHASE_RATE] == pytest.approx(1 / 3) and v[Kpi.CONVERSION] == 0.25


def test_nothing_to_divide_by_gives_no_value_never_an_error():
    v = values(DayTotals(TODAY), PeriodFacts(), days=7, month_active=0, checked=0)

    ratios = (Kpi.STICKINESS, Kpi.CHECKIN_RATE, Kpi.REFERRAL_SHARE, Kpi.REDEMPTION_RATE,
              Kpi.AOV, Kpi.ARPU, Kpi.REPURCHASE_RATE, Kpi.CONVERSION)  # fmt: skip
    assert all(v[kpi] is None for kpi in ratios)
    assert v[Kpi.DAU] == 0


def test_the_change_is_absolute_and_in_percent_of_the_previous_value():
    grew = KpiLine(Kpi.MEMBERS, 120, 100)
    fell = KpiLine(Kpi.NET_GROWTH, -5, 10)
    from_nothing = KpiLine(Kpi.ORDERS, 3, 0)
    no_value = KpiLine(Kpi.AOV, None, 5_000)

    assert (grew.change, grew.change_pct) == (20, 20.0)
    assert (fell.change, fell.change_pct) == (-15, -150.0)
    assert (from_nothing.change, from_nothing.change_pct) == (3, None)
    assert (no_value.change, no_value.change_pct) == (None, None)


def test_the_card_sums_each_periods_days_and_lists_every_day_of_both():
    period = Period(dt.date(2026, 11, 24), TODAY)
    days = [
        DayTotals(dt.date(2026, 11, 20), joins=2, orders=1, gmv=1_000),  # the week before
        DayTotals(dt.date(2026, 11, 25), joins=1, orders=2, gmv=5_000),
        DayTotals(dt.date(2026, 11, 30), joins=3, leaves=1),
        DayTotals(dt.date(2026, 12, 1), joins=99),  # after the period: left out
    ]

    card = kpi_card(period, days, PeriodFacts(members_end=10), PeriodFacts(members_end=8))

    assert (card[Kpi.JOINS].value, card[Kpi.JOINS].previous) == (4, 2)
    assert card[Kpi.GMV].value == 5_000 and card[Kpi.AOV].value == 2_500
    assert card[Kpi.ARPU].previous == 1_000 / 8
    assert [d.day.day for d in card.days] == [24, 25, 26, 27, 28, 29, 30]
    assert len(card.previous_days) == 7 and card.previous_days[3].joins == 2


def test_stickiness_reads_dau_over_maus_own_days_so_it_never_passes_100_percent():
    """A busy quarter that went quiet: the period's DAU (over 90 days) is high, MAU (the last
    30 days) is 1; stickiness compares MAU with the DAU of those same 30 days."""
    period = Period(TODAY - dt.timedelta(days=89), TODAY)
    busy = [DayTotals(TODAY - dt.timedelta(days=d), active=10) for d in range(30, 90)]
    quiet = [DayTotals(TODAY - dt.timedelta(days=d), active=1) for d in (0, 3)]
    card = kpi_card(period, busy + quiet, PeriodFacts(mau=1), PeriodFacts())

    assert card[Kpi.DAU].value == pytest.approx(602 / 90)
    assert card[Kpi.STICKINESS].value == pytest.approx(2 / 30)  # the same member, 2 days of 30


def test_rates_read_the_same_coupons_and_joins_on_both_sides_so_never_pass_100_percent():
    """Two coupons issued last week were used this week, one issued this week is open: this
    week's redemption rate is 0 of 1, not 2 of 1. One join this week, two invites of last
    week's joins confirmed this week: the referral share is of this week's join only."""
    week = DayTotals(TODAY, joins=1, coupons_claimed=1, coupons_redeemed=2, invites_confirmed=2)
    facts = PeriodFacts(issued_redeemed=0, joins_confirmed=0)
    v = values(week, facts, days=7, month_active=0, checked=0)

    assert v[Kpi.REDEMPTION_RATE] == 0 and v[Kpi.REFERRAL_SHARE] == 0
    assert v[Kpi.COUPONS_REDEEMED] == 2 and v[Kpi.INVITES_CONFIRMED] == 2  # counts stay counts


def test_the_check_in_rate_counts_days_up_to_their_active_members_and_makeups_apart():
    """The 28th: 3 active, 2 checked in on the day, 1 make-up (补签卡) restored it later. The
    29th: 2 active, but 3 check-ins stored (one member's message still buffered elsewhere).
    The rate is (2 + 2) / (3 + 2); the make-up is its own count; never above 100%."""
    period = Period(dt.date(2026, 11, 24), TODAY)
    days = [
        DayTotals(dt.date(2026, 11, 28), active=3, checkins=2, makeups=1),
        DayTotals(dt.date(2026, 11, 29), active=2, checkins=3),
        DayTotals(dt.date(2026, 11, 20), active=1, makeups=1),  # the week before: no check-in
    ]

    card = kpi_card(period, days, PeriodFacts(), PeriodFacts())

    assert card[Kpi.CHECKIN_RATE].value == pytest.approx(4 / 5)
    assert (card[Kpi.MAKEUP_CHECKINS].value, card[Kpi.MAKEUP_CHECKINS].previous) == (1, 1)
    assert card[Kpi.CHECKIN_RATE].previous == 0


@given(
    st.lists(
        st.tuples(st.integers(0, 6), st.integers(0, 50), st.integers(0, 50), st.integers(0, 50)),
        max_size=10,
    )
)
def test_the_check_in_rate_never_passes_100_percent(rows: list[tuple[int, int, int, int]]):
    period = Period(TODAY - dt.timedelta(days=6), TODAY)
    days = {
        TODAY - dt.timedelta(days=back): DayTotals(
            TODAY - dt.timedelta(days=back), active=active, checkins=checkins, makeups=makeups
        )
        for back, active, checkins, makeups in rows
    }
    rate = kpi_card(period, days.values(), PeriodFacts(), PeriodFacts())[Kpi.CHECKIN_RATE].value

    assert rate is None or 0 <= rate <= 1


def test_a_group_gets_its_report_once_a_minute_and_others_are_not_held():
    from campaigns.stats import Cooldown, TooSoon

    cooldown = Cooldown(dt.timedelta(seconds=60))
    at = dt.datetime(2026, 11, 30, 2, 0, tzinfo=dt.UTC)
    cooldown.take(-100, at)
    cooldown.take(-200, at + dt.timedelta(seconds=1))  # another group: its own minute

    with pytest.raises(TooSoon) as refused:
        cooldown.take(-100, at + dt.timedelta(seconds=59, milliseconds=500))
    cooldown.take(-100, at + dt.timedelta(seconds=60))  # the refusal counted nothing

    assert refused.value.seconds == 1  # half a second is said as 1, never 0
    assert refused.value.again_at == at + dt.timedelta(seconds=60)
