"""Broadcast A/B tests: reading variants and the holdout, drawing arms, counting outcomes."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest
from hypothesis import given
from hypothesis import strategies as st

from campaigns.audience import AudienceError, HoldoutError, split_broadcast
from campaigns.broadcast_variants import (
    HOLDOUT,
    ArmCounts,
    Measure,
    Recipient,
    ReportRefusal,
    ReportRefused,
    VariantProblem,
    VariantsRefused,
    arm_of,
    arms,
    counts_of,
    member_of,
    parse_report,
    read_variants,
    report_of,
    split,
    split_variants,
)
from campaigns.content import ContentRefused
from campaigns.outbox import DeliveryStatus

T = dt.datetime(2026, 11, 16, 4, 0, tzinfo=dt.UTC)
D = dt.timedelta(days=1)


def test_a_body_without_a_separator_line_is_one_variant():
    assert split_variants("Sale --- tonight\n----\n- - -") == ["Sale --- tonight\n----\n- - -"]


def test_lines_holding_only_three_dashes_split_the_variants_in_order():
    body = "<b>Sale</b> tonight\n---\nSale  tonight, 20% off\n  ---  \nLast call"

    assert split_variants(body) == ["<b>Sale</b> tonight", "Sale  tonight, 20% off", "Last call"]


def test_more_than_four_variants_are_refused_with_the_count():
    with pytest.raises(VariantsRefused) as refused:
        split_variants("\n---\n".join("abcde"))

    assert (refused.value.problem, refused.value.count) == (VariantProblem.TOO_MANY, 5)


@pytest.mark.parametrize(("body", "label"), [("---\nB", "A"), ("A\n---\n \n---\nC", "B")])
def test_an_empty_variant_is_refused_naming_it(body, label):
    with pytest.raises(VariantsRefused) as refused:
        split_variants(body)

    assert (refused.value.problem, refused.value.label) == (VariantProblem.EMPTY, label)


def test_each_variant_is_checked_as_a_post_and_shares_the_photo():
    a, b = read_variants("Hi\n---\nHello\nbutton: Shop | https://shop.example/", "photo-id")

    assert (a.text, a.photo, a.buttons) == ("Hi", "photo-id", [])
    assert (b.text, b.photo, b.buttons[0].text) == ("Hello", "photo-id", "Shop")
    with pytest.raises(ContentRefused):
        read_variants("Fine\n---\n<b>broken")


TEXT = st.text(st.characters(codec="utf-8"), max_size=200)
VARIANT = TEXT.filter(lambda t: t.strip() and "---" not in t)


@given(TEXT | st.lists(TEXT, max_size=6).map("\n---\n".join))
def test_reading_variants_of_any_text_gives_variants_or_a_coded_refusal(body):
    try:
        variants = split_variants(body)
    except VariantsRefused as refused:
        assert refused.problem in set(VariantProblem)
        return
    assert 1 <= len(variants) <= 4
    assert len(variants) == 1 or all(v.strip() for v in variants)


@given(st.lists(VARIANT, min_size=2, max_size=4))
def test_variants_joined_by_separator_lines_read_back(parts):
    assert split_variants("\n---\n".join(parts)) == [p.strip() for p in parts]


def test_holdout_is_read_among_the_rules_and_the_rest_is_as_before():
    audience, held, text = split_broadcast(["points>=10", "holdout=10%", "Hello"], has_body=False)
    none = split_broadcast(["Hello", "holdout=10"], has_body=False)

    assert (audience.points_min, held, text) == (10, 10, "Hello")
    assert none[1:] == (0, "Hello holdout=10")  # after the text began, it is text


@pytest.mark.parametrize("tokens", [["holdout=51"], ["holdout=5", "holdout=5"]])
def test_a_holdout_over_half_or_given_twice_is_refused(tokens):
    with pytest.raises(HoldoutError):
        split_broadcast(tokens, has_body=True)


@given(
    st.lists(
        st.sampled_from(["holdout=10", "holdout=0", "holdout=99", "HOLDOUT=5%", "all", "x"])
        | st.text(max_size=12),
        max_size=6,
    ),
    st.booleans(),
)
def test_the_broadcast_command_line_never_fails_with_anything_but_a_coded_refusal(tokens, body):
    try:
        _, held, _ = split_broadcast(tokens, has_body=body)
    except AudienceError:
        return
    assert 0 <= held <= 50


def test_arms_share_the_rest_equally_after_the_holdout_which_comes_first():
    assert arms(2, 10) == {HOLDOUT: 20, "A": 90, "B": 90}
    assert arms(1, 0) == {"A": 100}
    assert arms(3, 0) == {"A": 100, "B": 100, "C": 100}


def test_a_members_arm_is_the_same_every_time_and_the_shares_hold():
    members = range(1, 20_001)

    first = [arm_of(42, m, 3, 10) for m in members]
    shares = Counter(first)

    assert first == [arm_of(42, m, 3, 10) for m in members]
    assert abs(shares[HOLDOUT] / 20_000 - 0.10) < 0.01
    assert all(abs(shares[a] / 20_000 - 0.30) < 0.015 for a in "ABC")
    assert first != [arm_of(43, m, 3, 10) for m in members]  # each broadcast draws anew


def test_split_puts_every_target_in_exactly_one_arm():
    parts = split(5, range(500), 2, 20)

    assert sorted(u for users in parts.values() for u in users) == list(range(500))
    assert set(parts) == {HOLDOUT, "A", "B"}


def test_only_sent_variant_rows_and_every_holdout_row_count():
    assert member_of(1, "A", DeliveryStatus.SENT, T, T - D) == Recipient(1, "A", T)
    assert member_of(1, "A", DeliveryStatus.FAILED, None, T) is None
    assert member_of(1, None, DeliveryStatus.SENT, T, T) is None  # a plain broadcast's row
    assert member_of(1, HOLDOUT, DeliveryStatus.HOLDOUT, None, T - D) == Recipient(
        1, HOLDOUT, T - D
    )
    assert member_of(1, HOLDOUT, DeliveryStatus.HOLDOUT, None, None) is None


def test_active_within_three_days_and_ordered_within_seven_count_per_arm():
    members = [Recipient(1, "A", T), Recipient(2, "A", T), Recipient(3, HOLDOUT, T)]
    activity = {1: [T + 3 * D], 2: [T + 3 * D + dt.timedelta(seconds=1)], 3: [T - D]}
    orders = {1: [T + 7 * D + dt.timedelta(seconds=1)], 2: [T + 7 * D], 3: [T + D]}

    counted = counts_of(members, activity, orders, now=T + 30 * D)
    early = counts_of(members, activity, orders, now=T + 2 * D)

    assert counted == {"A": ArmCounts(2, 1, 1), HOLDOUT: ArmCounts(1, 0, 1)}
    assert early == {"A": ArmCounts(2, 0, 0), HOLDOUT: ArmCounts(1, 0, 1)}


def test_variants_are_compared_with_the_holdout_or_else_with_a():
    counts = {"A": ArmCounts(400, 120, 10), "B": ArmCounts(400, 80, 12)}
    against_a = report_of(9, variants=2, holdout=0, arms=counts, last_sent=T, now=T + 8 * D)
    with_holdout = report_of(
        9, variants=2, holdout=10, arms=counts | {HOLDOUT: ArmCounts(90, 9, 1)},
        last_sent=T, now=T + 2 * D,
    )  # fmt: skip

    test = against_a.test("B", Measure.ACTIVE_3D)

    assert (against_a.control, against_a.tested(), against_a.counting) == ("A", ["B"], False)
    assert (with_holdout.control, with_holdout.tested(), with_holdout.counting) == (
        HOLDOUT, ["A", "B"], True
    )  # fmt: skip
    assert test.lift_points == pytest.approx(-0.10)
    assert test.p_value is not None and test.p_value < 0.01


@pytest.mark.parametrize(
    ("words", "expected"), [(["report", "12"], 12), (["report", "#7"], 7), (["报告", "3"], 3)]
)
def test_the_report_takes_one_broadcast_id(words, expected):
    assert parse_report(words) == expected


@given(st.lists(st.text(max_size=25), max_size=3))
def test_a_report_command_never_fails_with_anything_but_a_coded_refusal(words):
    try:
        assert parse_report(words) >= 0
    except ReportRefused as refused:
        assert refused.reason is ReportRefusal.USAGE
