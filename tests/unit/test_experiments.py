"""A/B test rules: stable assignment, and statistics checked against textbook formulas and
published values computed here without scipy or statsmodels."""

import hashlib
import math
import subprocess
import sys
from collections import Counter
from fractions import Fraction
from pathlib import Path
from statistics import NormalDist

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from campaigns.experiments import (
    Method,
    arm_result,
    assign,
    compare,
    draw,
    needed_per_arm,
    pick,
)
from campaigns.journeys import Journey, in_holdout

Z = NormalDist().inv_cdf(0.975)
ROOT = Path(__file__).resolve().parents[2]


def wilson(k: int, n: int) -> tuple[float, float]:
    """The Wilson score interval, as Wilson (1927) wrote it."""
    p = k / n
    centre = (p + Z * Z / (2 * n)) / (1 + Z * Z / n)
    half = Z / (1 + Z * Z / n) * math.sqrt(p * (1 - p) / n + Z * Z / (4 * n * n))
    return centre - half, centre + half


def fisher_two_sided(a: int, b: int, c: int, d: int) -> float:
    """Fisher's exact test by hand: the hypergeometric tables as likely as or less likely
    than the one seen, with margins fixed."""
    row, col, n = a + b, a + c, a + b + c + d

    def prob(x: int) -> Fraction:
        return Fraction(math.comb(col, x) * math.comb(n - col, row - x), math.comb(n, row))

    seen = prob(a)
    lo, hi = max(0, row + col - n), min(row, col)
    return float(sum(p for x in range(lo, hi + 1) if (p := prob(x)) <= seen))


def test_the_wilson_interval_of_8_out_of_10_is_the_textbook_one():
    arm = arm_result(10, 8)

    assert arm.rate == 0.8
    assert arm.interval == pytest.approx(wilson(8, 10), abs=1e-12)
    assert arm.interval == pytest.approx((0.4902, 0.9433), abs=5e-5)  # Newcombe (1998)


def test_the_lady_tasting_tea_gives_fishers_published_p_value():
    milk_first, tea_first = arm_result(4, 3), arm_result(4, 1)  # 3 of 4 cups right

    result = compare(tea_first, milk_first)

    assert result.method is Method.FISHER
    assert result.p_value == pytest.approx(34 / 70, abs=1e-12)  # Fisher (1935): 0.486
    assert result.p_value == pytest.approx(fisher_two_sided(3, 1, 1, 3), abs=1e-12)


def test_small_counts_use_fishers_exact_test():
    control, variant = arm_result(12, 1), arm_result(10, 6)

    result = compare(control, variant)

    assert result.method is Method.FISHER
    assert result.p_value == pytest.approx(fisher_two_sided(6, 4, 1, 11), rel=1e-9)


def test_large_counts_use_the_two_proportion_z_test():
    control, variant = arm_result(1000, 100), arm_result(1000, 130)
    pooled = 230 / 2000
    z = (0.13 - 0.10) / math.sqrt(pooled * (1 - pooled) * (2 / 1000))

    result = compare(control, variant)

    assert result.method is Method.Z_TEST
    assert result.p_value == pytest.approx(2 * (1 - NormalDist().cdf(z)), rel=1e-9)
    assert result.lift_points == pytest.approx(0.03)
    assert result.lift_relative == pytest.approx(0.30)


def test_the_size_needed_is_the_textbook_one_for_cohens_h():
    h = 2 * math.asin(math.sqrt(0.6)) - 2 * math.asin(math.sqrt(0.5))
    textbook = 2 * ((Z + NormalDist().inv_cdf(0.8)) / h) ** 2

    assert needed_per_arm(0.5, 0.6) == math.ceil(textbook)
    assert needed_per_arm(0.6, 0.5) == math.ceil(textbook)
    assert 385 <= math.ceil(textbook) <= 390  # Cohen's table: h = 0.20 needs 392


def test_a_test_read_before_its_size_says_so_and_one_past_it_does_not():
    early = compare(arm_result(100, 10), arm_result(100, 13))
    enough = compare(arm_result(2000, 200), arm_result(2000, 260))
    planned = compare(arm_result(2000, 200), arm_result(2000, 260), planned=5000)

    assert early.needed is not None and early.needed > 100 and early.read_early
    assert enough.needed is not None and enough.needed < 2000 and not enough.read_early
    assert planned.read_early and planned.planned == 5000


@pytest.mark.parametrize(
    ("control", "variant"),
    [((0, 0), (0, 0)), ((0, 0), (10, 3)), ((10, 0), (12, 0)), ((10, 10), (7, 7)),
     ((500, 50), (500, 50)), ((1, 0), (1, 1)), ((40, 0), (40, 40))],
)  # fmt: skip
def test_degenerate_arms_give_none_where_no_number_exists_and_never_nan(control, variant):
    result = compare(arm_result(*control), arm_result(*variant))

    numbers = [result.lift_points, result.lift_relative, result.p_value, result.needed]
    assert not [x for x in numbers if x is not None and not math.isfinite(x)]
    if 0 in (control[0], variant[0]):
        assert result.lift_points is None and result.p_value is None and result.read_early
    elif control[1] * variant[0] == variant[1] * control[0]:  # identical rates
        assert result.lift_points == 0 and result.needed is None and result.p_value == 1.0


def test_an_arm_with_more_conversions_than_members_is_a_programming_error():
    with pytest.raises(ValueError):
        arm_result(3, 4)


@given(st.integers(1, 10**6).flatmap(lambda n: st.tuples(st.just(n), st.integers(0, n))))
def test_the_interval_holds_the_rate_and_lies_within_zero_and_one(sized):
    n, k = sized

    arm = arm_result(n, k)

    assert arm.interval is not None and arm.rate is not None
    low, high = arm.interval
    assert 0.0 <= low <= arm.rate <= high <= 1.0


arms = st.integers(0, 5000).flatmap(lambda n: st.tuples(st.just(n), st.integers(0, n)))


@given(arms, arms, st.none() | st.integers(1, 10_000))
def test_any_two_arms_compare_without_an_exception_or_a_nan(control, variant, planned):
    result = compare(arm_result(*control), arm_result(*variant), planned=planned)

    assert result.p_value is None or 0.0 <= result.p_value <= 1.0
    for x in (result.lift_points, result.lift_relative, result.p_value):
        assert x is None or math.isfinite(x)
    assert result.needed is None or result.needed >= 1


@settings(max_examples=15, deadline=None)
@given(st.text(max_size=30), st.sampled_from([(50, 50), (45, 45, 10), (70, 20, 10), (1, 3)]))
def test_assignment_is_stable_and_each_arm_gets_its_share(key, weights):
    split = {f"arm{i}": w for i, w in enumerate(weights)}
    members = range(1, 10_001)

    first = [assign(key, uid, split) for uid in members]
    again = [assign(key, uid, split) for uid in members]

    assert first == again
    counts = Counter(first)
    for arm, weight in split.items():
        share = weight / sum(weights)
        assert abs(counts[arm] / 10_000 - share) < 0.02


def test_assignment_is_a_sha256_of_the_experiment_and_the_member():
    digest = hashlib.sha256(b"broadcast:42:7001").digest()
    bucket = int.from_bytes(digest[:8], "big") % 10_000

    arm = assign("broadcast:42", 7001, {"A": 50, "B": 50})

    assert arm == ("A" if bucket < 5000 else "B")
    assert draw("broadcast:42:7001") == bucket


def test_the_journeys_holdout_is_the_same_draw_as_before_experiments():
    members = range(1, 10_001)

    for uid in members:
        old = hashlib.sha256(f"7:{uid}:winback:".encode()).digest()
        was = int.from_bytes(old[:8], "big") % 10_000 < 10 * 100
        assert in_holdout(7, uid, Journey.WINBACK, 10) is was


def test_growing_the_first_arm_only_moves_members_into_it():
    members = range(1, 5001)

    small = {u for u in members if assign("x", u, {"hold": 5, "rest": 95}) == "hold"}
    large = {u for u in members if assign("x", u, {"hold": 20, "rest": 80}) == "hold"}

    assert small < large


def test_weights_must_add_up_to_something():
    with pytest.raises(ValueError):
        pick(3, {"a": 0, "b": 0})
    with pytest.raises(ValueError):
        pick(3, {"a": -1, "b": 2})


def test_the_running_bot_does_not_load_scipy_or_statsmodels():
    code = "import sys, bot.app; print(sorted({'scipy', 'statsmodels'} & set(sys.modules)))"

    loaded = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    ).stdout

    assert loaded.strip() == "[]"
