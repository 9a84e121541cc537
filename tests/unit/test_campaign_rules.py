"""The campaign rules: the /campaign parsers (never raising anything but their coded error),
attribution (each order once, the window, the span), the 复盘's derived figures, and CSAT and
NPS targets scored on the attached surveys' pooled answers."""

from __future__ import annotations

import contextlib
import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from campaigns.campaign import (
    AttachKind,
    Campaign,
    CampaignInputError,
    CampaignProblem,
    OrderFact,
    Pace,
    Reach,
    ReachKind,
    RetroFacts,
    TargetLine,
    attributed,
    parse_attach,
    parse_new,
    parse_target,
    retro,
    survey_scores,
    target_lines,
)
from campaigns.channels import Channel, ChannelFacts, ChannelJoin, MemberNow, OrderAt
from campaigns.referral import ReferralProgram
from campaigns.stats import DayTotals, Kpi, PeriodFacts
from campaigns.surveys import Survey, SurveyKind, survey_result

TODAY = dt.date(2026, 10, 20)
T0 = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
D = dt.timedelta(days=1)


def test_a_new_campaign_with_targets_budget_and_phases():
    c = parse_new(
        ["双11", "11-01", "11-07", "新增=300", "gmv=50000", "redemptions=200", "budget=8000",
         "point=0.02", "window=3", "phases=3/2/2", "复购率=25%"],
        TODAY,
    )  # fmt: skip

    assert (c.name, c.start, c.end, c.days) == (
        "双11",
        dt.date(2026, 11, 1),
        dt.date(2026, 11, 7),
        7,
    )
    assert c.targets == {
        Kpi.JOINS: 300, Kpi.GMV: 5_000_000, Kpi.COUPONS_REDEEMED: 200, Kpi.REPURCHASE_RATE: 0.25
    }  # fmt: skip
    assert (c.budget, c.point_value, c.window_days) == (800_000, 2, 3)
    assert [(p.name, p.start.day, p.end.day) for p in c.phases] == [
        ("预热", 1, 3), ("爆发", 4, 5), ("收尾", 6, 7)
    ]  # fmt: skip


def test_an_end_before_the_start_in_month_day_form_is_next_year():
    c = parse_new(["年货节", "12-20", "01-10"], TODAY)

    assert (c.start, c.end) == (dt.date(2026, 12, 20), dt.date(2027, 1, 10))
    assert (c.budget, c.point_value, c.window_days, c.targets) == (0, 1, 7, {})


@pytest.mark.parametrize(
    "words, problem",
    [
        (["x", "11-01"], CampaignProblem.USAGE),
        (["two words", "11-01", "11-02"], CampaignProblem.NAME),
        (["x", "11-31", "12-01"], CampaignProblem.DATE),
        (["x", "2026-11-05", "2026-11-01"], CampaignProblem.ORDER),
        (["x", "2026-01-01", "2027-06-01"], CampaignProblem.LENGTH),
        # its report and the dashboard count the day after the end: none after 9999-12-31
        (["x", "9999-12-30", "9999-12-31"], CampaignProblem.LENGTH),
        (["x", "9999-12-30", "9999-12-31", "phases=1/1"], CampaignProblem.LENGTH),
        (["x", "11-01", "11-02", "vibes=3"], CampaignProblem.KPI),
        (["x", "11-01", "11-02", "joins=1.5"], CampaignProblem.VALUE),
        (["x", "11-01", "11-02", "joins=1e9"], CampaignProblem.VALUE),
        (["x", "11-01", "11-02", "stickiness=120%"], CampaignProblem.VALUE),
        (["x", "11-01", "11-02", "joins=3", "新增=4"], CampaignProblem.DUPLICATE),
        (["x", "11-01", "11-02", "budget=lots"], CampaignProblem.BUDGET),
        (["x", "11-01", "11-02", "window=31"], CampaignProblem.WINDOW),
        (["x", "11-01", "11-07", "phases=3/3/3"], CampaignProblem.PHASES),
        (["x", "11-01", "11-02", "joins"], CampaignProblem.USAGE),
        (["x", "11-01", "11-02", "csat=0"], CampaignProblem.SCORE),
        (["x", "11-01", "11-02", "csat=101%"], CampaignProblem.SCORE),
        (["x", "11-01", "11-02", "csat=4"], CampaignProblem.CSAT_LOW),  # a 1-5 average, not %
        (["x", "11-01", "11-02", "csat=19.9%"], CampaignProblem.CSAT_LOW),
        (["x", "11-01", "11-02", "nps=0"], CampaignProblem.SCORE),
        (["x", "11-01", "11-02", "nps=101"], CampaignProblem.SCORE),
        (["x", "11-01", "11-02", "nps=-101"], CampaignProblem.SCORE),
        (["x", "11-01", "11-02", "nps=12.5"], CampaignProblem.SCORE),
        (["x", "11-01", "11-02", "nps=--5"], CampaignProblem.SCORE),
        (["x", "11-01", "11-02", "nps="], CampaignProblem.USAGE),
    ],
)
def test_bad_input_is_a_coded_error(words, problem):
    with pytest.raises(CampaignInputError) as refused:
        parse_new(words, TODAY)

    assert refused.value.problem is problem


def test_survey_targets_are_a_share_and_a_signed_score():
    c = parse_new(["x", "11-01", "11-02", "满意度=85%", "nps=-20"], TODAY)

    assert c.targets == {Kpi.CSAT: 0.85, Kpi.NPS: -20}
    assert parse_target(["7", "净推荐值", "+45"]) == (7, Kpi.NPS, 45)
    assert parse_target(["7", "csat", "80"]) == (7, Kpi.CSAT, 0.8)
    assert parse_target(["7", "nps", "off"]) == (7, Kpi.NPS, None)
    assert parse_attach(["7", "survey", "#3"]) == (7, AttachKind.SURVEY, "3")


def rated(survey_id: int, kind: SurveyKind, answers: dict[int, int]):
    survey = Survey(survey_id, 1, kind, "How?", T0, None)
    return survey_result(survey, answers)


def test_csat_and_nps_actuals_pool_the_answers_of_the_attached_surveys():
    c = Campaign("x", T0.date(), T0.date() + 6 * D, targets={Kpi.CSAT: 0.8, Kpi.NPS: -20})
    attached = [
        rated(1, SurveyKind.CSAT, {5: 3, 1: 1}),  # 3 of 4 satisfied
        rated(2, SurveyKind.CSAT, {4: 1, 2: 3}),  # 1 of 4
        rated(3, SurveyKind.POLL, {}),  # a poll scores nothing
    ]

    lines = {x.kpi: x for x in target_lines(c, [], PeriodFacts(), T0.date() + D,
                                               survey_scores(attached))}  # fmt: skip
    nps = rated(4, SurveyKind.NPS, {10: 1, 0: 3})  # 25% − 75%
    scores = survey_scores([*attached, nps])

    assert (lines[Kpi.CSAT].actual, lines[Kpi.CSAT].answers) == (0.5, 8)  # 4 of 8, not 50/50
    assert lines[Kpi.CSAT].achieved_pct == pytest.approx(62.5)
    assert lines[Kpi.CSAT].expected is None and lines[Kpi.CSAT].pace is None
    assert (lines[Kpi.NPS].actual, lines[Kpi.NPS].answers) == (None, None)  # none attached
    assert scores[Kpi.NPS].value == -50.0
    assert TargetLine(Kpi.NPS, -20, -50.0).achieved_pct is None  # no share of a negative


def test_target_and_attach():
    assert parse_target(["7", "核销", "200"]) == (7, Kpi.COUPONS_REDEEMED, 200)
    assert parse_target(["#7", "gmv", "off"]) == (7, Kpi.GMV, None)
    assert parse_attach(["7", "Offer", "12"]) == (7, AttachKind.OFFER, "12")
    assert parse_attach(["7", "journey", "winback"]) == (7, AttachKind.JOURNEY, "winback")
    assert parse_attach(["7", "channel", "小红书", " 11月"]) == (
        7, AttachKind.CHANNEL, "小红书 11月",
    )  # fmt: skip
    with pytest.raises(CampaignInputError) as long_ref:
        parse_attach(["7", "offer", "12", "13"])
    with pytest.raises(CampaignInputError) as bad_channel:
        parse_attach(["7", "channel", "x" * 33])
    assert long_ref.value.problem is CampaignProblem.USAGE
    assert bad_channel.value.problem is CampaignProblem.REF
    with pytest.raises(CampaignInputError) as bad_kind:
        parse_attach(["7", "coupon", "12"])
    with pytest.raises(CampaignInputError) as bad_ref:
        parse_attach(["7", "post", "-3"])
    assert bad_kind.value.problem is CampaignProblem.KIND
    assert bad_ref.value.problem is CampaignProblem.REF


WORDS = st.lists(st.one_of(st.text(max_size=12), st.sampled_from(
    ["11-01", "2026-11-05", "gmv=1", "budget=", "=", "phases=1/1", "journey", "0", "١٢",
     "nps", "csat", "nps=-", "nps=−7", "survey", "-100", "+"]
)), max_size=6)  # fmt: skip


@given(WORDS)
def test_the_parsers_raise_only_their_coded_error(words):
    for parse in (lambda w: parse_new(w, TODAY), parse_target, parse_attach):
        with contextlib.suppress(CampaignInputError):
            parse(words)


def order(n: int, user: int, at: dt.datetime, *codes: str) -> OrderFact:
    return OrderFact(n, user, at, 100 * n, codes)


def test_each_order_counts_once_and_only_within_the_window_after_a_reach():
    reaches = [Reach(1, T0, ReachKind.BROADCAST), Reach(1, T0 + D, ReachKind.COUPON),
               Reach(2, T0 + 20 * D, ReachKind.JOURNEY)]  # fmt: skip
    orders = [
        order(1, 1, T0 + 2 * D, "OWN"),  # both its coupon and reached: once, by coupon
        order(2, 1, T0 + 8 * D),  # 7 days after the coupon reach: in
        order(3, 1, T0 + 8 * D + dt.timedelta(seconds=1)),  # a second later: out
        order(4, 2, T0 + 21 * D),  # a journey message after the end: no reach
        order(5, 3, T0 - D, "OWN"),  # before the campaign
        order(2, 1, T0 + 8 * D),  # the same order twice
    ]

    found = attributed(
        orders, ["OWN"], reaches, since=T0, until=T0 + 10 * D, window=7 * D, as_of=T0 + 30 * D
    )

    assert [o.order_id for o in found.by_coupon] == [1]
    assert [o.order_id for o in found.by_reach] == [2]
    assert found.by_channel == []


def test_a_channel_join_in_its_days_takes_the_buyers_orders_from_then_to_the_windows_end():
    reaches = [
        Reach(1, T0 + D, ReachKind.CHANNEL),
        Reach(2, T0 - D, ReachKind.CHANNEL),  # joined before the campaign
        Reach(3, T0 + 2 * D, ReachKind.CHANNEL),
        Reach(3, T0 + 2 * D, ReachKind.BROADCAST),
    ]
    orders = [
        order(1, 1, T0 + 16 * D),  # 15 days after joining, before the window closes: in
        order(2, 1, T0 + 17 * D),  # the window closed (10 days + 7)
        order(3, 1, T0 + D - dt.timedelta(seconds=1)),  # before joining
        order(4, 2, T0 + 2 * D),
        order(5, 3, T0 + 3 * D, "OWN"),  # its coupon comes first
        order(6, 3, T0 + 4 * D),  # joined and reached: once, by the channel
    ]

    found = attributed(
        orders, ["OWN"], reaches, since=T0, until=T0 + 10 * D, window=7 * D, as_of=T0 + 30 * D
    )

    assert [o.order_id for o in found.by_coupon] == [5]
    assert [o.order_id for o in found.by_channel] == [6, 1]
    assert found.by_reach == []


def test_the_retro_counts_its_channels_cost_gmv_and_figures():
    c = Campaign("x", dt.date(2026, 11, 1), dt.date(2026, 11, 10), window_days=7)
    red = Channel(9, "小红书", "https://t.me/+r", cost=5_000)
    joins = [
        ChannelJoin(9, 1, T0 + D),
        ChannelJoin(8, 2, T0 + D),  # another channel's (抖音, not attached)
        ChannelJoin(8, 3, T0),  # first through the other channel, then through its own:
        ChannelJoin(9, 3, T0 + 2 * D),  # credited to the other
        ChannelJoin(9, 4, T0 + 11 * D),  # after its days
    ]
    members = {u: MemberNow(True, T0 + 2 * D) for u in (1, 2, 3, 4)}
    orders = [order(1, 1, T0 + 3 * D), order(2, 1, T0 + 9 * D), order(3, 3, T0 + 3 * D),
              order(4, 4, T0 + 12 * D)]  # fmt: skip
    bought: dict[int, list[OrderAt]] = {}
    for o in orders:
        bought.setdefault(o.user_id, []).append(OrderAt(o.at, o.amount))
    facts = ChannelFacts(joins, members, bought)

    r = retro(
        1, c, RetroFacts(orders=orders, channels=[red], channel_facts=facts), timezone="UTC",
        now=T0 + 20 * D, today=dt.date(2026, 11, 21), program=ReferralProgram(),
    )  # fmt: skip

    assert (r.gmv_channels, r.gmv, r.orders) == (100 + 200, 300, 2)  # member 1's two orders
    assert r.channel_cost == 5_000 and r.cost == 5_000
    assert r.roi == pytest.approx((300 - 5_000) / 5_000)
    [figures] = r.channels
    assert (figures.name, figures.joins, figures.confirmed, figures.first_orders) == (
        "小红书", 1, 1, 1,
    )  # fmt: skip
    assert (figures.orders, figures.gmv, figures.cost) == (2, 300, 5_000)
    assert figures.roi == pytest.approx((300 - 5_000) / 5_000)


def test_the_retro_shows_pace_roi_and_nothing_when_nothing_was_spent():
    c = Campaign("x", dt.date(2026, 11, 1), dt.date(2026, 11, 10), targets={Kpi.ORDERS: 100})
    days = [DayTotals(dt.date(2026, 11, 1), orders=30), DayTotals(dt.date(2026, 11, 2), orders=1)]

    r = retro(1, c, RetroFacts(days=days), timezone="UTC", now=T0 + D, today=dt.date(2026, 11, 2))

    [line] = r.lines
    assert (line.actual, line.expected, line.achieved_pct, line.pace) == (
        31,
        20.0,
        31.0,
        Pace.AHEAD,
    )
    assert r.cost == 0 and r.roi is None and r.budget_used_pct is None
    assert TargetLine(Kpi.ORDERS, 100, 19, 20.0).pace is Pace.ON
    assert TargetLine(Kpi.ORDERS, 100, 18, 20.0).pace is Pace.BEHIND
