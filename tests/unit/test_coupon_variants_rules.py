"""Coupon-offer A/B tests: reading variant terms and options, drawing arms, counting what each
arm did, and the comparisons the report makes (checked against textbook formulas)."""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter
from statistics import NormalDist

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from campaigns.coupon_variants import (
    Assigned,
    HeldOut,
    Issue,
    Measure,
    NewOffer,
    Terms,
    TermsProblem,
    TermsRefused,
    arm_of,
    assigned_of,
    check_test,
    counts_of,
    currency_of,
    parse_new_offer,
    parse_terms,
    read_variants,
    report_of,
    templates_of,
)
from campaigns.coupons import CouponKind, Template, discount
from campaigns.experiments import HOLDOUT, Method

FIXED, PERCENT = CouponKind.FIXED, CouponKind.PERCENT
AT = dt.datetime(2026, 12, 1, 10, 0, tzinfo=dt.UTC)
DAY = dt.timedelta(days=1)
SECOND = dt.timedelta(seconds=1)


@pytest.mark.parametrize(
    ("typed", "terms"),
    [
        ("满100减10", Terms(FIXED, 1000, 10000)),
        ("满 199 减 30", Terms(FIXED, 3000, 19900)),
        ("满100元减10元", Terms(FIXED, 1000, 10000, currency="CNY")),
        ("满１００减１０", Terms(FIXED, 1000, 10000)),  # a Chinese keyboard's full-width digits
        ("无门槛5", Terms(FIXED, 500)),
        ("立减5.5", Terms(FIXED, 550)),
        ("85折", Terms(PERCENT, 1500)),
        ("8.5折", Terms(PERCENT, 1500)),
        ("9折", Terms(PERCENT, 1000)),
        ("满200打9折", Terms(PERCENT, 1000, 20000)),
        ("8折 最高减50", Terms(PERCENT, 2000, cap=5000)),
        ("8折，封顶50", Terms(PERCENT, 2000, cap=5000)),
        ("¥10 off ¥100", Terms(FIXED, 1000, 10000, currency="CNY")),
        ("10 off 100", Terms(FIXED, 1000, 10000)),
        ("$5 off orders over $50", Terms(FIXED, 500, 5000, currency="USD")),
        ("¥10", Terms(FIXED, 1000, currency="CNY")),
        ("15% off", Terms(PERCENT, 1500)),
        ("１５％", Terms(PERCENT, 1500)),
        ("12.5%", Terms(PERCENT, 1250)),
        ("15% off cap ¥50", Terms(PERCENT, 1500, cap=5000, currency="CNY")),
        ("15% OFF (up to $50)", Terms(PERCENT, 1500, cap=5000, currency="USD")),
        ("15% off min 100 cap 20", Terms(PERCENT, 1500, 10000, 2000)),
    ],
)
def test_terms_read_as_shops_write_them(typed: str, terms: Terms):
    assert parse_terms(typed) == terms


@pytest.mark.parametrize(
    "typed",
    ["", "A", "10折", "0折", "¥0", "0%", "101%", "15.555%", "15% cap 0", "¥10 cap 5", "$10元",
     "满100减", "10 20", "²0%", "٣折", "满100减10" + " " * 80, "free coffee"],
)  # fmt: skip
def test_anything_else_is_refused_naming_the_variant(typed: str):
    with pytest.raises(TermsRefused) as refused:
        parse_terms(typed, "B")

    assert refused.value.problem is TermsProblem.UNREADABLE
    assert refused.value.label == "B" and refused.value.value == typed.strip()[:40]


def test_more_off_than_the_minimum_spend_is_refused_in_chat_and_on_the_command_line():
    """满5减10: every order it applies to would cost nothing and count as an order of ¥0.
    A free item at the minimum (满10减10) and no-threshold discounts stay allowed."""
    from campaigns.coupons import OfferProblem, OfferRefused, check_offer

    with pytest.raises(TermsRefused) as refused:
        parse_terms("满5减10", "A")
    assert (refused.value.problem, refused.value.value) == (TermsProblem.OVER_MIN_SPEND, "满5减10")
    assert parse_terms("满10减10").value == 1000 and parse_terms("无门槛减10").min_spend == 0

    now = dt.datetime(2026, 11, 30, tzinfo=dt.UTC)
    with pytest.raises(OfferRefused) as made:  # `growthbot coupons create` builds a Template
        check_offer(name="x", template=Template(FIXED, 1000, min_spend=500), stock=None,
                    per_member=1, audience_joined_days=None, now=now)  # fmt: skip
    assert made.value.problem is OfferProblem.OVER_MIN_SPEND
    check_offer(name="x", template=Template(FIXED, 1000, min_spend=1000), stock=None,
                per_member=1, audience_joined_days=None, now=now)  # fmt: skip


def test_85_zhe_takes_15_percent_off_a_100_order():
    [a] = templates_of([parse_terms("85折")], Template(FIXED, 1))

    assert (a.kind, discount(a, 10000)) == (PERCENT, 1500)


def test_variants_are_lines_a_first_labels_optional_but_in_order():
    read = read_variants(["A: 满100减10", "", "b：85折", "15% off"])

    assert read == [Terms(FIXED, 1000, 10000), Terms(PERCENT, 1500), Terms(PERCENT, 1500)]
    with pytest.raises(TermsRefused) as wrong:
        read_variants(["满100减10", "C: 85折"])
    assert (wrong.value.problem, wrong.value.value, wrong.value.label) == (
        TermsProblem.LABEL, "C", "B"
    )  # fmt: skip
    with pytest.raises(TermsRefused) as five:
        read_variants(["5%", "6%", "7%", "8%", "9%"])
    assert (five.value.problem, five.value.count) == (TermsProblem.TOO_MANY, 5)
    with pytest.raises(TermsRefused) as none:
        read_variants(["", "  "])
    assert none.value.problem is TermsProblem.NO_TERMS
    with pytest.raises(TermsRefused) as bad:
        read_variants(["满100减10", "B: lots off"])
    assert (bad.value.problem, bad.value.label) == (TermsProblem.UNREADABLE, "B")


def test_an_offer_has_one_currency():
    yuan, dollars = parse_terms("¥10"), parse_terms("$5")

    assert currency_of([yuan, parse_terms("85折")], None) == "CNY"
    assert currency_of([parse_terms("85折")], "USD") == "USD"
    assert currency_of([parse_terms("85折")], None) is None
    with pytest.raises(TermsRefused) as mixed:
        currency_of([yuan, dollars], None)
    assert (mixed.value.problem, mixed.value.value) == (TermsProblem.CURRENCY, "CNY, USD")
    with pytest.raises(TermsRefused):
        currency_of([yuan], "USD")


def test_new_offer_options_and_name():
    new = parse_new_offer(
        ["周末", "stock=500", "券", "days=7", "holdout=10%", "plan=400", "每人=2"],
        ["A: 满100减10", "B: 85折"],
    )

    assert new == NewOffer(
        "周末 券", [Terms(FIXED, 1000, 10000), Terms(PERCENT, 1500)], stock=500,
        per_member=2, valid_days=7, holdout=10, planned=400,
    )  # fmt: skip
    assert parse_new_offer(["Plain"], ["5"]) == NewOffer("Plain", [Terms(FIXED, 500)])


@pytest.mark.parametrize(
    ("words", "problem", "value"),
    [
        (["X", "holdout=60"], TermsProblem.HOLDOUT, "holdout=60"),
        (["X", "holdout=-1"], TermsProblem.HOLDOUT, "holdout=-1"),
        (["X", "plan=0"], TermsProblem.PLAN, "plan=0"),
        (["X", "stock=0"], TermsProblem.OPTION, "stock=0"),
        (["X", "stock=²"], TermsProblem.OPTION, "stock=²"),
        (["X", "per=1", "per=2"], TermsProblem.OPTION, "per=2"),
        (["X", "colour=red"], TermsProblem.OPTION, "colour=red"),
        (["stock=5"], TermsProblem.NO_NAME, ""),
    ],
)
def test_new_offer_options_out_of_range_are_refused(words, problem, value):
    with pytest.raises(TermsRefused) as refused:
        parse_new_offer(words, ["¥5"])

    assert (refused.value.problem, refused.value.value) == (problem, value)


def test_a_test_has_four_variants_a_holdout_to_50_and_a_positive_plan():
    check_test(4, 50, 1)
    for variants, holdout, plan, problem in [
        (5, 0, None, TermsProblem.TOO_MANY),
        (2, 51, None, TermsProblem.HOLDOUT),
        (2, -1, None, TermsProblem.HOLDOUT),
        (2, 10, 0, TermsProblem.PLAN),
    ]:
        with pytest.raises(TermsRefused) as refused:
            check_test(variants, holdout, plan)
        assert refused.value.problem is problem


# --- who gets which -----------------------------------------------------------------------------


def test_arms_split_as_weighted_and_claims_never_hold_anyone_out():
    members = range(1, 20_001)

    grants = Counter(arm_of(7, m, 2, 10, may_hold_out=True) for m in members)
    claims = {m: arm_of(7, m, 2, 10, may_hold_out=False) for m in members}

    assert set(grants) == {"A", "B", HOLDOUT}
    assert grants[HOLDOUT] / 20_000 == pytest.approx(0.10, abs=0.01)
    assert grants["A"] / 20_000 == pytest.approx(0.45, abs=0.015)
    assert set(claims.values()) == {"A", "B"}
    for m in members:  # a member not held out has the same terms however they get them
        granted = arm_of(7, m, 2, 10, may_hold_out=True)
        assert granted in {HOLDOUT, claims[m]}
    assert arm_of(8, 1, 2, 10, may_hold_out=True) == arm_of(8, 1, 2, 10, may_hold_out=True)


# --- what each arm did ------------------------------------------------------------------------


def test_each_member_counts_once_in_the_arm_they_were_first_put_in():
    issues = [
        Issue(1, "A", AT, audience=True, redeemed=False),
        Issue(1, "A", AT + DAY, audience=False, redeemed=True),  # their second coupon, used
        Issue(2, "B", AT + DAY, audience=False, redeemed=True),  # claimed after being held out
        Issue(3, "B", AT, audience=False, redeemed=False),
        Issue(4, None, AT, audience=False, redeemed=True),  # not part of a test
    ]
    held = [HeldOut(2, AT), HeldOut(5, AT + DAY)]

    members = assigned_of(issues, held)

    assert members == [
        Assigned(1, "A", AT, audience=True, redeemed=True),
        Assigned(2, HOLDOUT, AT, audience=True, redeemed=False),
        Assigned(3, "B", AT, audience=False, redeemed=False),
        Assigned(5, HOLDOUT, AT + DAY, audience=True, redeemed=False),
    ]


def test_orders_count_within_14_days_to_the_second_and_up_to_now():
    members = [
        Assigned(1, "A", AT, True, True),
        Assigned(2, "A", AT, False, False),
        Assigned(3, "A", AT, True, False),
        Assigned(4, HOLDOUT, AT, True, False),
    ]
    orders = {
        1: [(AT + 14 * DAY, 5000), (AT + 14 * DAY + SECOND, 9999)],  # the second is too late
        2: [(AT - SECOND, 100)],  # before the coupon
        3: [(AT + 2 * DAY, 300), (AT + 3 * DAY, 200)],
        4: [(AT + DAY, 1000)],
    }

    counts = counts_of(members, orders, now=AT + 30 * DAY)
    early = counts_of(members, orders, now=AT + DAY)  # member 4's order is not in yet

    a, held = counts["A"], counts[HOLDOUT]
    assert (a.members, a.redeemed, a.ordered, a.gmv) == (3, 1, 2, 5500)
    assert (a.granted, a.granted_ordered) == (2, 2)
    assert (held.members, held.ordered, held.gmv, held.granted) == (1, 1, 1000, 1)
    assert early[HOLDOUT].ordered == 0 and early["A"].ordered == 0


def z_test(k1: int, n1: int, k2: int, n2: int) -> float:
    """The pooled two-proportion z-test, by hand."""
    pooled = (k1 + k2) / (n1 + n2)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    z = (k2 / n2 - k1 / n1) / se
    return 2 * (1 - NormalDist().cdf(abs(z)))


def arm(name: str, n: int, redeemed: int, ordered: int, *, granted: int = 0, since=AT):
    """`n` members of an arm, the first `redeemed` redeemed and the first `ordered` ordered;
    the first `granted` by an audience grant."""
    members = [
        Assigned(1000 * ord(name[0]) + i, name, since, i < granted, i < redeemed) for i in range(n)
    ]
    orders = {m.user_id: [(since + DAY, 100)] for m in members[:ordered]}
    return members, orders


def test_the_report_compares_b_with_a_and_every_variant_with_the_holdout():
    a, a_orders = arm("A", 200, 40, 50, granted=100)
    b, b_orders = arm("B", 200, 60, 70, granted=100)
    h, h_orders = arm("holdout", 50, 0, 5, granted=50)

    r = report_of(
        9, variants=2, holdout=10, planned=None, members=a + b + h,
        orders=a_orders | b_orders | h_orders, now=AT + 20 * DAY,
    )  # fmt: skip
    tests = {(t.arm, t.control, t.measure, t.granted_only): t.comparison for t in r.tests()}

    assert r.order == ["A", "B", HOLDOUT] and not r.counting
    assert list(tests) == [
        ("B", "A", Measure.REDEEMED, False),
        ("B", "A", Measure.ORDERED_14D, False),
        ("A", HOLDOUT, Measure.ORDERED_14D, True),
        ("B", HOLDOUT, Measure.ORDERED_14D, True),
    ]
    redeemed = tests["B", "A", Measure.REDEEMED, False]
    assert redeemed.method is Method.Z_TEST
    assert redeemed.lift_points == pytest.approx(0.10)
    assert redeemed.lift_relative == pytest.approx(0.5)
    assert redeemed.p_value == pytest.approx(z_test(40, 200, 60, 200), rel=1e-9)
    assert redeemed.p_value == pytest.approx(0.0209, abs=1e-4)
    against_holdout = tests["A", HOLDOUT, Measure.ORDERED_14D, True]
    assert (against_holdout.variant.size, against_holdout.control.size) == (100, 50)
    assert against_holdout.variant.conversions == 50  # the granted half ordered
    assert against_holdout.method is Method.Z_TEST


def test_a_planned_size_makes_a_clear_result_early_until_it_is_reached():
    a, a_orders = arm("A", 30, 3, 3)
    b, b_orders = arm("B", 30, 25, 25)

    def test(planned):
        r = report_of(
            1, variants=2, holdout=0, planned=planned, members=a + b,
            orders=a_orders | b_orders, now=AT + DAY,
        )  # fmt: skip
        return r.tests()[0].comparison, r

    unplanned, r = test(None)
    planned, _ = test(400)

    assert unplanned.needed is not None and unplanned.needed < 30 and not unplanned.read_early
    assert planned.read_early and planned.planned == 400
    assert r.counting  # members' 14 days are not over


def test_an_empty_arm_has_no_numbers_and_reads_early():
    a, a_orders = arm("A", 10, 2, 2)

    r = report_of(1, variants=2, holdout=0, planned=None, members=a, orders=a_orders, now=AT + DAY)
    [redeemed, _] = [t.comparison for t in r.tests()]

    assert r.counts("B").members == 0
    assert redeemed.p_value is None and redeemed.read_early


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.integers(1, 30),
            st.sampled_from(["A", "B", None]),
            st.integers(0, 40),
            st.booleans(),
            st.booleans(),
        ),
        max_size=40,
    ),
    st.lists(st.tuples(st.integers(1, 30), st.integers(0, 40)), max_size=15),
)
def test_every_member_is_counted_once_whatever_the_records(issues, held):
    members = assigned_of(
        [Issue(u, a, AT + d * DAY, g, r) for u, a, d, g, r in issues],
        [HeldOut(u, AT + d * DAY) for u, d in held],
    )
    counts = counts_of(members, {}, AT + 100 * DAY)

    expected = {u for u, a, *_ in issues if a is not None} | {u for u, _ in held}
    assert sorted(m.user_id for m in members) == sorted(expected)
    assert sum(c.members for c in counts.values()) == len(expected)
    assert counts.get(HOLDOUT, None) is None or counts[HOLDOUT].redeemed == 0
