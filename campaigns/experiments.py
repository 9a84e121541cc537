"""A/B tests: who is in which arm, and what the arms' numbers say.

Assignment is a hash of the experiment and the member (sha256, not Python's salted `hash()`),
so a member lands in the same arm after a restart and in every process, without storing a
draw. The draw is one of 10,000 buckets; arms take consecutive bucket ranges in the order
given, so growing the first arm (a holdout) only moves members into it, never between others.

The statistics come from scipy and statsmodels, not hand-rolled: a rate's Wilson 95% interval
(good at small counts and near 0% or 100%, where the textbook ±1.96·SE is not), Fisher's exact
test when a 2×2 table has an expected cell below 5 (the z-test's normal approximation is poor
there), else the two-proportion z-test, and the members per arm needed to detect the observed
difference (normal approximation on Cohen's h, as statsmodels' NormalIndPower). Where a number
cannot exist (an empty arm, no difference to detect) the result holds None, never NaN.

scipy and statsmodels are imported by the functions that use them: they take about a second
and a hundred megabytes to load, and only a report needs them, not the running bot's jobs.
"""

from __future__ import annotations

import hashlib
import math
import warnings
from collections.abc import Hashable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import TypeVar

BUCKETS = 10_000
ALPHA = 0.05  # two-sided
POWER = 0.8
FISHER_BELOW = 5  # an expected cell count under this: Fisher's exact test

A = TypeVar("A", bound=Hashable)


def draw(text: str) -> int:
    """The bucket (0..9,999) a text hashes to: the same in every process and after restarts."""
    digest = hashlib.sha256(text.encode()).digest()
    return int.from_bytes(digest[:8], "big") % BUCKETS


def pick(bucket: int, arms: Mapping[A, int]) -> A:
    """The arm whose share of the buckets holds `bucket`: arms take consecutive ranges in
    their order, each in proportion to its (non-negative, integer) weight."""
    total = sum(arms.values())
    if total <= 0 or any(w < 0 for w in arms.values()):
        raise ValueError("arms need non-negative weights and a positive total")
    upto = 0
    for arm, weight in arms.items():
        upto += weight
        if bucket * total < upto * BUCKETS:
            return arm
    raise ValueError(f"bucket {bucket} is not in 0..{BUCKETS - 1}")


def assign(experiment_key: str, user_id: int, arms: Mapping[A, int]) -> A:
    """The member's arm of the experiment (`{"A": 45, "B": 45, "holdout": 10}`)."""
    return pick(draw(f"{experiment_key}:{user_id}"), arms)


# --- variants and a holdout: the arms every test of this bot is made of (broadcasts, offers)

MAX_VARIANTS = 4
MAX_HOLDOUT = 50  # percent
LABELS = "ABCD"
HOLDOUT = "holdout"  # the arm of the members held out


def labels(variants: int) -> list[str]:
    """The variants' arms: A, B, …"""
    return list(LABELS[: max(variants, 1)])


def is_experiment(variants: int, holdout: int) -> bool:
    """Variants to compare, or a holdout to compare against."""
    return variants > 1 or holdout > 0


def arms(variants: int, holdout: int) -> dict[str, int]:
    """The arms' weights: the holdout first, then the variants in equal shares of the rest
    (`arms(2, 10)` is `{"holdout": 20, "A": 90, "B": 90}`: 10%, 45%, 45%)."""
    n = max(variants, 1)
    weights = {HOLDOUT: holdout * n} if holdout else {}
    return weights | dict.fromkeys(labels(n), 100 - holdout)


@dataclass(frozen=True)
class ArmResult:
    """One arm: its members, how many converted, the rate and its Wilson 95% interval
    (None for an empty arm)."""

    size: int
    conversions: int
    rate: float | None
    interval: tuple[float, float] | None


def arm_result(size: int, conversions: int) -> ArmResult:
    """An arm's numbers; ValueError unless 0 <= conversions <= size."""
    if not 0 <= conversions <= size:
        raise ValueError(f"{conversions} conversions of {size} members")
    if size == 0:
        return ArmResult(0, 0, None, None)
    from statsmodels.stats.proportion import proportion_confint

    rate = conversions / size
    low, high = proportion_confint(conversions, size, alpha=ALPHA, method="wilson")
    # float rounding may put a bound a hair past the rate or outside [0, 1] at 0% and 100%
    low, high = min(max(float(low), 0.0), rate), max(min(float(high), 1.0), rate)
    return ArmResult(size, conversions, rate, (low, high))


class Method(StrEnum):
    FISHER = "fisher"  # Fisher's exact test: some expected cell count below 5
    Z_TEST = "z_test"  # two-proportion z-test (pooled)


@dataclass(frozen=True)
class Comparison:
    """A variant against its control. Lift is the variant's rate minus the control's, in
    points (0.05 = 5 points) and relative to the control's rate; `needed` the members per
    arm to detect a difference this large (at ALPHA two-sided, POWER); `read_early` that an
    arm is below it, or below the planned size when one was set."""

    control: ArmResult
    variant: ArmResult
    lift_points: float | None
    lift_relative: float | None  # None when the control converted nobody
    p_value: float | None
    method: Method | None
    needed: int | None  # None: an empty arm, or no difference to detect
    planned: int | None
    read_early: bool


def compare(control: ArmResult, variant: ArmResult, *, planned: int | None = None) -> Comparison:
    """The variant against the control: lift, p-value and the method that gave it, the size
    needed, and whether the test is read before it got there."""
    c, v = control.rate, variant.rate
    if c is None or v is None:
        return Comparison(control, variant, None, None, None, None, None, planned, True)
    needed = needed_per_arm(c, v)
    target = planned if planned is not None else needed
    early = target is not None and min(control.size, variant.size) < target
    p_value, method = _test(control, variant)
    return Comparison(
        control, variant, v - c, (v - c) / c if c > 0 else None, p_value, method, needed,
        planned, early,
    )  # fmt: skip


def _test(control: ArmResult, variant: ArmResult) -> tuple[float | None, Method]:
    """Two-sided p-value for a difference in rates: Fisher's exact test when any cell of the
    2×2 table expects fewer than 5 members (under no difference), else the z-test."""
    n = control.size + variant.size
    converted = control.conversions + variant.conversions
    expected = min(control.size, variant.size) * min(converted, n - converted) / n
    if expected < FISHER_BELOW:
        from scipy.stats import fisher_exact

        table = [
            [variant.conversions, variant.size - variant.conversions],
            [control.conversions, control.size - control.conversions],
        ]
        p = float(fisher_exact(table, alternative="two-sided").pvalue)
        return _probability(p), Method.FISHER
    from statsmodels.stats.proportion import proportions_ztest

    _, p = proportions_ztest(
        [variant.conversions, control.conversions], [variant.size, control.size]
    )
    return _probability(float(p)), Method.Z_TEST


def _probability(p: float) -> float | None:
    """A p-value as shown: NaN is None, float noise past 1 is 1."""
    return None if math.isnan(p) else min(max(p, 0.0), 1.0)


def needed_per_arm(
    p_control: float, p_variant: float, alpha: float = ALPHA, power: float = POWER
) -> int | None:
    """Members per arm (equal arms) to detect `p_control` vs `p_variant` with a two-sided
    test at `alpha` and `power`; None when the rates are equal (nothing to detect)."""
    from statsmodels.stats.power import NormalIndPower
    from statsmodels.stats.proportion import proportion_effectsize

    h = abs(float(proportion_effectsize(p_variant, p_control)))
    if h == 0 or math.isnan(h):
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # non-convergence is handled below
        n = float(NormalIndPower().solve_power(effect_size=h, alpha=alpha, power=power, ratio=1))
    if not math.isfinite(n):
        # The root finder gives up on extreme effects (h near π, or tiny): the same normal
        # approximation in closed form, without the opposite tail's negligible power.
        from scipy.stats import norm

        n = 2 * ((norm.ppf(1 - alpha / 2) + norm.ppf(power)) / h) ** 2
    return math.ceil(n - 1e-9)  # 392.0000001 members is 392, not 393
