"""A journey report's A/B tests: the messaged arm against the holdout, over the members whose
days are over, and how the report says what they show."""

import datetime as dt
import math
from statistics import NormalDist

from campaigns.content import html_problems
from campaigns.experiments import Method
from campaigns.journeys import Journey, RunStatus
from campaigns.journeys_report import Arm, JourneyReport, Measure, report_of
from campaigns.ports.journeys import Outcomes, RunRecord
from handlers.journey_texts import JourneyTexts

AT = dt.datetime(2026, 11, 30, 2, 0, tzinfo=dt.UTC)
DAY = dt.timedelta(days=1)
NO_ORDERS = Outcomes(orders={}, redeemed=set())


def run(user: int, status: RunStatus, at: dt.datetime = AT, back: dt.datetime | None = None):
    return RunRecord(user, "e", 1, status, at, None, back, delivered=status is RunStatus.QUEUED)


def report(messaged: Arm, holdout: Arm) -> JourneyReport:
    return JourneyReport(Journey.WINBACK, 90, messaged.members + holdout.members, messaged,
                         holdout, 0, 0, 0)  # fmt: skip


def returned(members: int, back: int) -> Arm:
    """An arm whose members all had their 14 days; `back` of them returned within 7."""
    return Arm(members=members, delivered=members, matured7=members, returned7=back,
               matured14=members, returned14=back)  # fmt: skip


def test_the_test_compares_only_members_whose_days_are_over_in_both_arms():
    runs = [
        run(1, RunStatus.QUEUED, back=AT + DAY),
        run(2, RunStatus.QUEUED),
        run(3, RunStatus.QUEUED, at=AT + 10 * DAY, back=AT + 11 * DAY),  # 7 days over, not 14
        run(4, RunStatus.HOLDOUT, back=AT + 3 * DAY),
        run(5, RunStatus.HOLDOUT, at=AT + 15 * DAY),  # not even 7 days
    ]

    r = report_of(Journey.WINBACK, runs, NO_ORDERS, AT + 20 * DAY, 90)
    seven, fourteen = r.test(Measure.RETURNED_7), r.test(Measure.RETURNED_14)

    assert seven is not None and fourteen is not None
    assert (seven.variant.size, seven.variant.conversions) == (3, 2)
    assert (seven.control.size, seven.control.conversions) == (1, 1)
    assert (fourteen.variant.size, fourteen.variant.conversions) == (2, 1)
    assert seven.method is Method.FISHER


def test_a_journey_without_a_holdout_has_nothing_to_compare():
    runs = [run(1, RunStatus.QUEUED, back=AT + DAY), run(2, RunStatus.QUEUED)]

    r = report_of(Journey.WINBACK, runs, NO_ORDERS, AT + 20 * DAY, 90)
    text = JourneyTexts("en").report(r)

    assert r.test(Measure.RETURNED_7) is None
    assert "Returned within 7 days: 1/2 (50%) · holdout –" in text
    assert "95% CI" not in text and "Lift" not in text and "p: Fisher" not in text


def test_buying_counts_only_orders_of_members_whose_14_days_are_over():
    runs = [run(1, RunStatus.QUEUED), run(2, RunStatus.QUEUED, at=AT + 10 * DAY)]
    orders = {1: [(AT + 2 * DAY, 500)], 2: [(AT + 11 * DAY, 700)]}

    r = report_of(Journey.WINBACK, runs, Outcomes(orders, set()), AT + 20 * DAY, 90)

    assert (r.messaged.buyers, r.messaged.bought14, r.messaged.matured14) == (2, 1, 1)


def test_a_small_lift_on_few_members_is_flagged_as_read_early():
    pooled = 14 / 80
    z = (0.20 - 0.15) / math.sqrt(pooled * (1 - pooled) * 2 / 40)
    h = 2 * math.asin(math.sqrt(0.20)) - 2 * math.asin(math.sqrt(0.15))
    needed = math.ceil(2 * ((NormalDist().inv_cdf(0.975) + NormalDist().inv_cdf(0.8)) / h) ** 2)

    text = JourneyTexts("en").report(report(returned(40, 8), returned(40, 6)))

    p = 2 * (1 - NormalDist().cdf(z))
    assert "Returned within 7 days: 8/40 (20%) · holdout 6/40 (15%)" in text
    assert f"Lift +5.0 points (+33%), p = {p:.2f} (two-proportion z-test)" in text
    assert f"⚠️ Read early: a lift this size needs {needed} members per arm." in text


def test_a_large_lift_on_enough_members_is_not_flagged():
    text = JourneyTexts("en").report(report(returned(300, 90), returned(300, 45)))

    assert "✅ Enough members: a lift this size needs" in text
    assert "Read early" not in text
    assert "p &lt; 0.001 (two-proportion z-test)" in text  # HTML, as every reply
    assert html_problems(text) == []  # a bare < and Telegram refused the whole report


def test_identical_arms_say_there_is_nothing_to_detect_and_never_show_nan():
    text = JourneyTexts("zh").report(report(returned(20, 0), returned(20, 0)))

    assert "提升 +0.0 个百分点，p = 1.0（Fisher 精确检验）" in text
    assert "两组之间没有可检测的差异。" in text
    assert "nan" not in text.casefold() and "inf" not in text.casefold()
