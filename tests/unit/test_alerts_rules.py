"""The alert rules: low stock (at the threshold, no limit, ended), a campaign behind its
pace (only while running, on complete days), and a spike of leaves."""

from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from campaigns.alerts import (
    AlertKind,
    StockFact,
    behind_pace,
    leave_spike,
    low_stock,
    pace_period,
    stock_threshold,
)
from campaigns.campaign import Campaign
from campaigns.stats import DayTotals, Kpi, PeriodFacts

D = dt.timedelta(days=1)
START = dt.date(2026, 11, 1)


def offer(stock: int | None, taken: int, live: bool = True) -> StockFact:
    return StockFact(AlertKind.OFFER_STOCK, 7, "新人券", stock, taken, live)


def test_stock_exactly_at_ten_percent_alerts():
    alert = low_stock(offer(100, 90))

    assert alert is not None
    assert (alert.remaining, alert.stock, alert.threshold) == (10, 100, 10)


def test_stock_one_above_the_threshold_does_not_alert():
    assert low_stock(offer(100, 89)) is None


def test_an_offer_without_a_stock_limit_never_alerts():
    assert low_stock(offer(None, 10_000)) is None


def test_an_ended_offer_does_not_alert_even_when_sold_out():
    assert low_stock(offer(100, 100, live=False)) is None


def test_a_sold_out_offer_alerts_with_nothing_left():
    alert = low_stock(offer(5, 5))

    assert alert is not None and alert.remaining == 0


def test_an_absolute_threshold_replaces_the_percentage():
    assert low_stock(offer(1000, 950), absolute=50) is not None
    assert low_stock(offer(1000, 949), absolute=50) is None


def test_the_percentage_rounds_up():
    assert stock_threshold(15) == 2
    assert low_stock(offer(15, 13)) is not None


def test_a_small_stock_alerts_at_its_last_unit():
    assert stock_threshold(3) == 1
    assert low_stock(offer(3, 1)) is None
    assert low_stock(offer(3, 2)) is not None


@given(st.integers(1, 10**6), st.integers(0, 2 * 10**6))
def test_low_stock_agrees_with_the_percentage(stock: int, taken: int):
    alert = low_stock(offer(stock, taken))

    left = max(0, stock - taken)  # at most 10% left, rounded up
    assert (alert is not None) == ((left - 1) * 10 < stock)


def campaign(**targets: float) -> Campaign:
    return Campaign("双11", START, START + 9 * D, targets={Kpi(k): v for k, v in targets.items()})


def joins(n_days: int, per_day: int) -> list[DayTotals]:
    return [DayTotals(START + i * D, joins=per_day) for i in range(n_days)]


def test_a_campaign_behind_pace_on_its_complete_days_alerts():
    # day 5 of 10: by the end of day 4, 400 of 1000 joins were due; 200 came
    alert = behind_pace(1, campaign(joins=1000), joins(4, 50), PeriodFacts(), START + 4 * D)

    assert alert is not None
    [line] = alert.behind
    assert (line.kpi, line.actual, line.expected) == (Kpi.JOINS, 200, 400)
    assert alert.judged == START + 3 * D


def test_a_campaign_on_pace_does_not_alert():
    assert behind_pace(1, campaign(joins=1000), joins(4, 100), PeriodFacts(), START + 4 * D) is None


def test_a_campaign_not_running_is_not_judged():
    c = campaign(joins=1000)

    assert pace_period(c, START - D) is None  # upcoming
    assert pace_period(c, START) is None  # its first day: no complete day yet
    assert pace_period(c, START + 10 * D) is None  # ended
    assert behind_pace(1, c, [], PeriodFacts(), START + 10 * D) is None


def test_a_campaign_set_up_with_a_past_start_is_not_judged_on_the_day_it_was_created():
    """Created on its second day (start yesterday): an alert minutes later for a day nobody
    had set it up for contradicts its own report. From the next day on it is judged."""
    c = campaign(joins=1000)
    created = START + D

    assert pace_period(c, START + D) is not None  # as if it had been there all along
    assert pace_period(c, START + D, created) is None
    assert behind_pace(1, c, joins(1, 0), PeriodFacts(), START + D, created) is None
    assert behind_pace(1, c, joins(2, 0), PeriodFacts(), START + 2 * D, created) is not None


def test_a_count_is_behind_pace_only_by_a_whole_unit():
    """5 redemptions over 10 days: by the end of day 1 half of one was due. "behind pace
    (0 by now)" said the alert; a count due by now is whole, and 0 of 0 is on pace."""
    c = campaign(coupons_redeemed=5, joins=15)

    assert behind_pace(1, c, joins(1, 0), PeriodFacts(), START + D) is not None  # 1.5 joins due
    [line] = behind_pace(1, c, joins(1, 0), PeriodFacts(), START + D).behind  # type: ignore[union-attr]
    assert (line.kpi, line.expected) == (Kpi.JOINS, 1)


def test_a_campaign_with_only_a_rate_target_has_no_pace():
    assert pace_period(campaign(repurchase_rate=0.3), START + 4 * D) is None


TODAY = dt.date(2026, 11, 20)


def leaves(today: int, daily_before: int) -> list[DayTotals]:
    before = [DayTotals(TODAY - i * D, leaves=daily_before) for i in range(1, 15)]
    return [*before, DayTotals(TODAY, leaves=today)]


def test_five_leaves_on_a_quiet_group_is_a_spike():
    alert = leave_spike(leaves(5, 0), TODAY)

    assert alert is not None and (alert.leaves, alert.threshold) == (5, 5)
    assert leave_spike(leaves(4, 0), TODAY) is None


def test_a_busy_group_needs_three_times_its_average():
    assert leave_spike(leaves(29, 10), TODAY) is None
    alert = leave_spike(leaves(30, 10), TODAY)

    assert alert is not None and alert.average == 10


def test_days_older_than_two_weeks_are_not_in_the_average():
    old = [DayTotals(TODAY - 15 * D, leaves=1000)]

    assert leave_spike([*old, DayTotals(TODAY, leaves=5)], TODAY) is not None
