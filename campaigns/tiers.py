"""Membership tiers (会员等级): who qualifies for which tier, promotion, review and demotion.

A group has up to `MAX_TIERS` tiers, level 0 the entry tier everyone is in (普通 by default).
Each higher tier has entry thresholds on spend and/or points earned; meeting any threshold
the tier sets qualifies (a tier with both: spend *or* points). Points *earned* count, not the
balance, so spending points never demotes. What counts is over a rolling 12 months or the
member's lifetime, per group.

- Promotion is immediate: the moment an order or a points entry makes a member qualify for a
  higher tier, they move up, and each tier passed on the way grants its entry reward once
  (`rewards_due`); the database keeps one row per member and tier rewarded, so redelivery or
  two processes cannot grant twice.
- Demotion happens only at the periodic review, and only once the member has not qualified
  for their tier for a whole grace period (`review`). A tier raised by an admin is kept
  until the review after the grace period, like one that was earned.
"""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from pydantic import BaseModel, Field, model_validator

MAX_TIERS = 5


class TierBasis(StrEnum):
    ROLLING_12_MONTHS = "12m"
    LIFETIME = "lifetime"


class Tier(BaseModel):
    """One tier; thresholds None mean "not by this measure"."""

    model_config = {"frozen": True}

    name: str = Field(min_length=1, max_length=32)
    min_spend: int | None = Field(default=None, ge=0)  # minor units
    min_points: int | None = Field(default=None, ge=0)  # points earned
    multiplier: float = Field(default=1.0, ge=1.0, le=10.0)  # on check-in and order points
    reward_points: int = Field(default=0, ge=0, le=1_000_000)
    reward_offer: str | None = None  # a coupon offer's code, granted on entry
    title: str | None = Field(default=None, max_length=32)


class TierLadder(BaseModel):
    """A group's tiers, lowest first; the first has no thresholds."""

    model_config = {"frozen": True}

    tiers: tuple[Tier, ...]
    basis: TierBasis = TierBasis.ROLLING_12_MONTHS
    review_days: int = Field(default=30, ge=1, le=366)  # how often demotions are reviewed
    grace_days: int = Field(default=30, ge=0, le=366)

    @model_validator(mode="after")
    def _ladder(self) -> TierLadder:
        if not 1 <= len(self.tiers) <= MAX_TIERS:
            raise ValueError(f"a group has 1 to {MAX_TIERS} tiers")
        first, higher = self.tiers[0], self.tiers[1:]
        if first.min_spend is not None or first.min_points is not None:
            raise ValueError("the first tier is everyone's: it has no thresholds")
        if any(t.min_spend is None and t.min_points is None for t in higher):
            raise ValueError("every tier above the first needs a spend or points threshold")
        for lower, upper in itertools.pairwise(higher):
            for measure in ("min_spend", "min_points"):
                low, up = getattr(lower, measure), getattr(upper, measure)
                if low is not None and up is not None and up <= low:
                    raise ValueError("thresholds must rise from tier to tier")
        if len({t.name.casefold() for t in self.tiers}) != len(self.tiers):
            raise ValueError("tier names must differ")
        return self

    def level_named(self, name: str) -> int | None:
        """The level of a tier by name (case-insensitive), None if there is none."""
        wanted = name.strip().casefold()
        for level, tier in enumerate(self.tiers):
            if tier.name.casefold() == wanted:
                return level
        return None


DEFAULT_LADDER = TierLadder(
    tiers=(
        Tier(name="普通"),
        Tier(name="高级", min_spend=100_000, min_points=1_000, multiplier=1.2, reward_points=100),
        Tier(name="VIP", min_spend=500_000, min_points=5_000, multiplier=1.5, reward_points=500),
    )
)


@dataclass(frozen=True)
class Standing:
    """What a member has over the ladder's basis: spend (minor units) and points earned."""

    spend: int
    points_earned: int


def qualifying_level(ladder: TierLadder, standing: Standing) -> int:
    """The highest tier whose thresholds the member meets (any one of them)."""
    level = 0
    for index, tier in enumerate(ladder.tiers[1:], start=1):
        by_spend = tier.min_spend is not None and standing.spend >= tier.min_spend
        by_points = tier.min_points is not None and standing.points_earned >= tier.min_points
        if by_spend or by_points:
            level = index
    return level


def rewards_due(current: int, reached: int, rewarded: Sequence[int]) -> list[int]:
    """Tiers whose entry reward a promotion from `current` to `reached` grants: each tier
    passed, skipped ones included, unless it was rewarded before (a member who drops and
    climbs again is not paid twice)."""
    done = set(rewarded)
    return [level for level in range(current + 1, reached + 1) if level not in done]


@dataclass(frozen=True)
class Progress:
    """Where a member is and what the next tier still needs (None: no such threshold)."""

    level: int
    next_level: int | None
    spend_needed: int | None
    points_needed: int | None


def progress(ladder: TierLadder, level: int, standing: Standing) -> Progress:
    """Numbers for /tier and /me: the gap to the next tier on each of its thresholds."""
    if level + 1 >= len(ladder.tiers):
        return Progress(level, None, None, None)
    nxt = ladder.tiers[level + 1]
    spend = None if nxt.min_spend is None else max(0, nxt.min_spend - standing.spend)
    points = None if nxt.min_points is None else max(0, nxt.min_points - standing.points_earned)
    return Progress(level, level + 1, spend, points)


class ReviewOutcome(StrEnum):
    KEEP = "keep"
    GRACE = "grace"  # below the tier's thresholds, grace period running
    DEMOTE = "demote"


@dataclass(frozen=True)
class Review:
    outcome: ReviewOutcome
    level: int
    below_since: dt.datetime | None  # when the member first fell short of their tier


def review(
    ladder: TierLadder,
    *,
    level: int,
    standing: Standing,
    below_since: dt.datetime | None,
    now: dt.datetime,
) -> Review:
    """The periodic review of one member: keep the tier, start or continue the grace period,
    or demote to the tier they qualify for once it has run out."""
    qualifies = qualifying_level(ladder, standing)
    if qualifies >= level:
        return Review(ReviewOutcome.KEEP, level, None)
    since = below_since or now
    if now - since >= dt.timedelta(days=ladder.grace_days):
        return Review(ReviewOutcome.DEMOTE, qualifies, None)
    return Review(ReviewOutcome.GRACE, level, since)


def multiplied(points: int, ladder: TierLadder, level: int) -> int:
    """Points after the tier's multiplier, rounded down (never below the base)."""
    tier = ladder.tiers[min(max(level, 0), len(ladder.tiers) - 1)]
    return max(points, int(points * tier.multiplier))


def basis_start(ladder: TierLadder, now: dt.datetime) -> dt.datetime | None:
    """The earliest moment that counts towards tiers (None: the member's whole history)."""
    if ladder.basis is TierBasis.LIFETIME:
        return None
    return now - dt.timedelta(days=365)
