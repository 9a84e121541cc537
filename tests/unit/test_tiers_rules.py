"""Membership tiers: qualifying, promotion rewards (once, skipped tiers too), grace and
demotion at review, progress numbers, the multiplier."""

from __future__ import annotations

import datetime as dt

import pytest
from pydantic import ValidationError

from campaigns.tiers import (
    DEFAULT_LADDER,
    ReviewOutcome,
    Standing,
    Tier,
    TierLadder,
    multiplied,
    progress,
    qualifying_level,
    review,
    rewards_due,
)

NOW = dt.datetime(2026, 11, 30, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("spend", "points", "level"),
    [
        (0, 0, 0),
        (99_999, 999, 0),
        (100_000, 0, 1),  # 1,000.00 spent: 高级
        (0, 1_000, 1),  # or 1,000 points earned
        (499_999, 4_999, 1),
        (0, 5_000, 2),  # VIP by points alone
        (10**9, 0, 2),
    ],
)
def test_a_member_qualifies_for_the_highest_tier_any_of_whose_thresholds_they_meet(
    spend, points, level
):
    assert qualifying_level(DEFAULT_LADDER, Standing(spend, points)) == level


def test_skipping_a_tier_grants_each_reward_once():
    assert rewards_due(0, 2, rewarded=[]) == [1, 2]
    assert rewards_due(0, 2, rewarded=[1]) == [2]  # dropped back once, climbs again
    assert rewards_due(1, 1, rewarded=[1]) == []
    assert rewards_due(2, 1, rewarded=[1, 2]) == []  # a lower tier reached pays nothing


def test_demotion_waits_for_the_grace_period_then_drops_to_what_they_qualify_for():
    short = Standing(spend=0, points_earned=1_200)  # still 高级, no longer VIP

    first = review(DEFAULT_LADDER, level=2, standing=short, below_since=None, now=NOW)
    assert (first.outcome, first.level, first.below_since) == (ReviewOutcome.GRACE, 2, NOW)

    early = NOW + dt.timedelta(days=29)
    still = review(DEFAULT_LADDER, level=2, standing=short, below_since=NOW, now=early)
    assert still.outcome is ReviewOutcome.GRACE and still.below_since == NOW

    later = NOW + dt.timedelta(days=30)
    done = review(DEFAULT_LADDER, level=2, standing=short, below_since=NOW, now=later)
    assert (done.outcome, done.level) == (ReviewOutcome.DEMOTE, 1)


def test_qualifying_again_ends_the_grace_period():
    again = review(DEFAULT_LADDER, level=2, standing=Standing(600_000, 0), below_since=NOW, now=NOW)
    assert (again.outcome, again.below_since) == (ReviewOutcome.KEEP, None)


def test_progress_gives_the_gap_on_each_threshold_of_the_next_tier():
    gap = progress(DEFAULT_LADDER, 1, Standing(spend=120_000, points_earned=4_200))
    assert (gap.next_level, gap.spend_needed, gap.points_needed) == (2, 380_000, 800)

    top = progress(DEFAULT_LADDER, 2, Standing(spend=0, points_earned=0))
    assert top.next_level is None


def test_the_multiplier_rounds_down_and_never_lowers_points():
    assert multiplied(10, DEFAULT_LADDER, 0) == 10
    assert multiplied(10, DEFAULT_LADDER, 1) == 12
    assert multiplied(5, DEFAULT_LADDER, 2) == 7  # 7.5
    assert multiplied(10, DEFAULT_LADDER, 99) == 15  # a level past the top: the top tier


@pytest.mark.parametrize(
    "tiers",
    [
        (),
        (Tier(name="a", min_spend=1),),  # the first tier is everyone's
        (Tier(name="a"), Tier(name="b")),  # no threshold
        (Tier(name="a"), Tier(name="b", min_spend=500), Tier(name="c", min_spend=100)),
        (Tier(name="VIP"), Tier(name="vip", min_points=5)),
        tuple(Tier(name=f"t{i}", min_points=i if i else None) for i in range(6)),
    ],
)
def test_a_ladder_that_makes_no_sense_is_refused(tiers):
    with pytest.raises(ValidationError):
        TierLadder(tiers=tiers)


def test_level_named_ignores_case_and_spaces():
    assert DEFAULT_LADDER.level_named(" vip ") == 2
    assert DEFAULT_LADDER.level_named("高级") == 1
    assert DEFAULT_LADDER.level_named("gold") is None
