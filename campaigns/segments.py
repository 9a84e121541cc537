"""Where each member stands: lifecycle stage and RFM score, from their summary.

Both are pure functions of a member's summary (joined, last activity, orders, spend) and the
group's thresholds, so they can be recomputed at any time from the summaries alone, and the
SQL that pre-filters by stage is checked against `stage_of` in the storage tests.

Stages (one per member, thresholds per group):
- new: joined within `new_days` (7);
- active: active within `silent_days` (7);
- silent: last active `silent_days` to `dormant_days` (7-30) ago;
- dormant (沉睡): last active `dormant_days` (30) or more ago;
- left: no longer in the group.
A member never seen active counts from when they joined; one there before the bot (join
unknown) and never active is dormant.

RFM: Recency is days since the last order (since the last activity in a group without
orders), Frequency the orders (or active days) in the window, Monetary the spend in minor
units in the window. Each is scored 1-5 by quintile within the group (ties share a score:
the mid-rank decides), or by the fixed cut-offs below in a group with fewer than
`QUINTILE_MIN` scored members, where quintiles would mean little. R and the mean of F and M
place the member in one of the 11 standard segments (`SEGMENT_GRID`). Nothing scores
above nothing: no orders (no activity) at all, or a frequency or spend of 0, scores 1. In a
group without orders, spend means nothing: F alone stands for FM.
"""

from __future__ import annotations

import datetime as dt
import math
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from pydantic import BaseModel, Field, model_validator

MAX_DAYS = 3650
QUINTILE_MIN = 50  # scored members a group needs before scores are quintiles
DEFAULT_WINDOW_DAYS = 365


class Stage(StrEnum):
    NEW = "new"
    ACTIVE = "active"
    SILENT = "silent"
    DORMANT = "dormant"
    LEFT = "left"


class StageThresholds(BaseModel):
    """A group's stage boundaries in days (`/segments set silent 7`, `… dormant 30`)."""

    model_config = {"frozen": True}

    new_days: int = Field(default=7, ge=1, le=MAX_DAYS)
    silent_days: int = Field(default=7, ge=1, le=MAX_DAYS)
    dormant_days: int = Field(default=30, ge=2, le=MAX_DAYS)
    rfm_window_days: int = Field(default=DEFAULT_WINDOW_DAYS, ge=7, le=MAX_DAYS)

    @model_validator(mode="after")
    def _ordered(self) -> StageThresholds:
        if self.dormant_days <= self.silent_days:
            raise ValueError("dormant_days must be more than silent_days")
        return self


def stage_of(
    *,
    present: bool,
    joined_at: dt.datetime | None,
    last_active_at: dt.datetime | None,
    now: dt.datetime,
    thresholds: StageThresholds,
) -> Stage:
    """The one stage a member is in at `now`."""
    if not present:
        return Stage.LEFT
    if joined_at is not None and now - joined_at < dt.timedelta(days=thresholds.new_days):
        return Stage.NEW
    since = last_active_at or joined_at
    if since is None:
        return Stage.DORMANT
    idle = now - since
    if idle < dt.timedelta(days=thresholds.silent_days):
        return Stage.ACTIVE
    if idle < dt.timedelta(days=thresholds.dormant_days):
        return Stage.SILENT
    return Stage.DORMANT


class Segment(StrEnum):
    CHAMPIONS = "champions"
    LOYAL = "loyal"
    POTENTIAL_LOYALIST = "potential_loyalist"
    NEW = "new"
    PROMISING = "promising"
    NEED_ATTENTION = "need_attention"
    ABOUT_TO_SLEEP = "about_to_sleep"
    AT_RISK = "at_risk"
    CANT_LOSE = "cant_lose"
    HIBERNATING = "hibernating"
    LOST = "lost"


_S = Segment
# Rows: R score 5 (most recent) down to 1; columns: FM score 5 down to 1. The usual reading of
# the 11 segments, made exhaustive: every (R, FM) cell is in exactly one segment.
SEGMENT_GRID: dict[int, tuple[Segment, Segment, Segment, Segment, Segment]] = {
    5: (_S.CHAMPIONS, _S.CHAMPIONS, _S.LOYAL, _S.POTENTIAL_LOYALIST, _S.NEW),
    4: (_S.CHAMPIONS, _S.CHAMPIONS, _S.LOYAL, _S.POTENTIAL_LOYALIST, _S.PROMISING),
    3: (_S.LOYAL, _S.LOYAL, _S.NEED_ATTENTION, _S.ABOUT_TO_SLEEP, _S.ABOUT_TO_SLEEP),
    2: (_S.AT_RISK, _S.AT_RISK, _S.AT_RISK, _S.HIBERNATING, _S.HIBERNATING),
    1: (_S.CANT_LOSE, _S.CANT_LOSE, _S.AT_RISK, _S.LOST, _S.LOST),
}


def segment_of(r: int, f: int, m: int) -> Segment:
    """The segment for scores 1-5; FM is the mean of F and M, rounded half up."""
    for score in (r, f, m):
        if not 1 <= score <= 5:
            raise ValueError(f"RFM scores are 1-5, not {score}")
    fm = (f + m + 1) // 2
    return SEGMENT_GRID[r][5 - fm]


# Fixed cut-offs for small groups: the least value that earns scores 2, 3, 4 and 5.
# Recency is in days and lower is better, so its cut-offs are the most days that still
# earn each score: 180 days or fewer earns 2, …, 7 or fewer earns 5.
RECENCY_CUTOFFS = (180, 90, 30, 7)
ORDER_CUTOFFS = (2, 3, 5, 10)  # orders in the window
ACTIVE_DAY_CUTOFFS = (3, 10, 30, 100)  # active days in the window (groups without orders)
SPEND_CUTOFFS = (5_000, 30_000, 100_000, 500_000)  # minor units: 50, 300, 1,000, 5,000


@dataclass(frozen=True)
class RfmFacts:
    """One member's raw RFM values in the window."""

    user_id: int
    recency_days: int | None  # None: no order (or no activity) at all: scores 1
    frequency: int
    monetary: int


@dataclass(frozen=True)
class RfmScore:
    user_id: int
    r: int
    f: int
    m: int
    by_orders: bool = True

    @property
    def segment(self) -> Segment:
        return segment_of(self.r, self.f, self.m if self.by_orders else self.f)


Cutoffs = Sequence[int | None]  # the least (most) value earning each of 2-5; None: none does


def fixed_score(value: int, cutoffs: Cutoffs, *, lower_is_better: bool = False) -> int:
    """1-5 from a value and the least (most, for recency) value earning each of 2-5."""
    if lower_is_better:
        return 1 + sum(1 for most in cutoffs if most is not None and value <= most)
    return 1 + sum(1 for least in cutoffs if least is not None and value >= least)


def quintile_scores(values: Sequence[int], *, lower_is_better: bool = False) -> list[int]:
    """1-5 per value by its mid-rank within `values`: tied values share a score, and a
    group where everyone is equal scores 3 throughout.

    The mid-rank is (values worse + half the ties) / n; in integers, so that the SQL that
    scores a whole group in the database (storage) computes exactly the same score."""
    if not values:
        return []
    ordered = sorted(values)
    n = len(ordered)
    scores = []
    for value in values:
        below, upto = bisect_left(ordered, value), bisect_right(ordered, value)
        worse = n - upto if lower_is_better else below
        scores.append(mid_rank_score(worse, upto - below, n))
    return scores


def mid_rank_score(worse: int, ties: int, n: int) -> int:
    """1 + floor(5 * (worse + ties / 2) / n), at most 5."""
    return min(5, 1 + (5 * (2 * worse + ties)) // (2 * n))


def quintile_cutoffs(
    histogram: Iterable[tuple[int, int]], *, lower_is_better: bool = False
) -> tuple[int | None, ...]:
    """The cut-offs with which `fixed_score` gives each value what `quintile_scores` gives
    it within the group, from (value, members with it) pairs: a group is scored per
    distinct value, not per member (a million members have a few thousand recencies).

    The mid-rank score only grows with the value (falls, for recency), so each score is a
    band of values, and four cut-offs say where the bands start."""
    counts: dict[int, int] = {}
    for value, members in histogram:
        counts[value] = counts.get(value, 0) + members
    n = sum(counts.values())
    bands: dict[int, tuple[int, int]] = {}
    below = 0
    for value in sorted(counts):
        ties = counts[value]
        worse = n - below - ties if lower_is_better else below
        score = mid_rank_score(worse, ties, n)
        least, most = bands.get(score, (value, value))
        bands[score] = (min(least, value), max(most, value))
        below += ties
    return band_cutoffs(bands, lower_is_better=lower_is_better)


def band_cutoffs(
    bands: Mapping[int, tuple[int, int]], *, lower_is_better: bool = False
) -> tuple[int | None, ...]:
    """Cut-offs from the least and most value scoring each of 1-5 (scores that no value
    earns left out): the least value scoring 2 or more, 3 or more …; for recency, where
    lower is better, the most."""
    cutoffs: list[int | None] = []
    for score in (2, 3, 4, 5):
        earning = [band for s, band in bands.items() if s >= score]
        if not earning:
            cutoffs.append(None)
        elif lower_is_better:
            cutoffs.append(max(most for _least, most in earning))
        else:
            cutoffs.append(min(least for least, _most in earning))
    return tuple(cutoffs)


def days_since(now: dt.datetime, then: dt.datetime) -> int:
    """Whole days between two instants, counted on whole seconds since the epoch (what the
    database can compute the same way on SQLite and PostgreSQL)."""
    return (math.floor(now.timestamp()) - math.floor(then.timestamp())) // 86_400


def score_group(facts: Sequence[RfmFacts], *, by_orders: bool) -> list[RfmScore]:
    """Scores for every member of one group; `by_orders` False: a group without orders, where
    F counts active days (Recency and Frequency come from activity instead)."""
    never = [f.recency_days is None for f in facts]
    if len(facts) >= QUINTILE_MIN:
        r = quintile_scores([_days(f) for f in facts], lower_is_better=True)
        fr = quintile_scores([f.frequency for f in facts])
        m = quintile_scores([f.monetary for f in facts])
    else:
        r = [fixed_score(_days(f), RECENCY_CUTOFFS, lower_is_better=True) for f in facts]
        cut = ORDER_CUTOFFS if by_orders else ACTIVE_DAY_CUTOFFS
        fr = [fixed_score(f.frequency, cut) for f in facts]
        m = [fixed_score(f.monetary, SPEND_CUTOFFS) for f in facts]
    return [
        RfmScore(
            f.user_id,
            1 if nothing else rs,
            1 if nothing or f.frequency <= 0 else fs,
            1 if nothing or f.monetary <= 0 else ms,
            by_orders,
        )
        for f, nothing, rs, fs, ms in zip(facts, never, r, fr, m, strict=True)
    ]


def _days(facts: RfmFacts) -> int:
    return MAX_DAYS * 10 if facts.recency_days is None else max(0, facts.recency_days)
