"""Check-in rules: the local day, streaks and the points a check-in earns."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from campaigns.journeys import on_member_day
from campaigns.tiers import TierLadder, multiplied


@dataclass(frozen=True)
class CheckinRules:
    """Per-group points policy for check-ins."""

    points: int = 10
    streak_bonus: int = 1
    streak_bonus_max: int = 5
    milestones: dict[int, int] = field(default_factory=lambda: {7: 5, 30: 20})
    milestone_coupons: dict[int, int] = field(default_factory=dict)  # streak day -> offer id


@dataclass(frozen=True)
class PreviousCheckin:
    """The member's latest check-in strictly before the day being checked in."""

    day: dt.date
    streak: int


@dataclass(frozen=True)
class CheckinAward:
    """What one check-in is worth: the streak it makes and the points broken down."""

    day: dt.date
    streak: int
    base_points: int
    streak_points: int
    milestone_points: int
    tier_points: int = 0  # what the member's tier multiplier adds to base and streak points
    member_day: float = 1.0  # the member day's multiplier (1: not a member day)
    member_day_points: int = 0  # what it adds on top of the tier's (campaigns/journeys.py)

    @property
    def multiplied(self) -> int:
        """Base and streak points after the tier's and the member day's multipliers."""
        return self.base_points + self.streak_points + self.tier_points + self.member_day_points

    @property
    def total(self) -> int:
        """Points granted for this check-in altogether."""
        return self.multiplied + self.milestone_points


def local_day(at: dt.datetime, timezone: str) -> dt.date:
    """The calendar day of `at` in the group's timezone; a check-in belongs to this day."""
    if at.tzinfo is None:
        raise ValueError("check-in time must be timezone-aware")
    return at.astimezone(ZoneInfo(timezone)).date()


def next_reset(at: dt.datetime, timezone: str) -> dt.datetime:
    """Next local midnight after `at`, when a new check-in becomes possible."""
    zone = ZoneInfo(timezone)
    tomorrow = at.astimezone(zone).date() + dt.timedelta(days=1)
    return dt.datetime.combine(tomorrow, dt.time(0), tzinfo=zone)


def streak_after(previous: PreviousCheckin | None, day: dt.date) -> int:
    """A streak continues only from yesterday; any gap starts it again at one."""
    if previous is not None and previous.day == day - dt.timedelta(days=1):
        return previous.streak + 1
    return 1


def award(
    previous: PreviousCheckin | None,
    day: dt.date,
    rules: CheckinRules,
    *,
    ladder: TierLadder | None = None,
    level: int = 0,
    member_day: float = 1.0,
) -> CheckinAward:
    """Points for a check-in on `day`: base, a capped per-day streak bonus, and milestones;
    the member's tier (`level` of `ladder`) multiplies base and streak points, then the
    member day's multiplier (`member_day`) multiplies that."""
    streak = streak_after(previous, day)
    streak_points = max(min(rules.streak_bonus * (streak - 1), rules.streak_bonus_max), 0)
    earned = rules.points + streak_points
    boosted = multiplied(earned, ladder, level) if ladder is not None else earned
    feasted = on_member_day(boosted, member_day)
    return CheckinAward(
        day=day,
        streak=streak,
        base_points=rules.points,
        streak_points=streak_points,
        milestone_points=rules.milestones.get(streak, 0),
        tier_points=boosted - earned,
        member_day=member_day,
        member_day_points=feasted - boosted,
    )


def streak_alive_since(today: dt.date) -> dt.date:
    """A streak is still alive today if the last check-in was on or after this day (yesterday)."""
    return today - dt.timedelta(days=1)


def current_streak(last_day: dt.date | None, last_streak: int, today: dt.date) -> int:
    """The streak as shown today: zero once a day was missed."""
    if last_day is None or last_day < streak_alive_since(today):
        return 0
    return last_streak
