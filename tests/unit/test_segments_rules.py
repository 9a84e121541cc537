"""Lifecycle stages, RFM quintiles and fixed cut-offs, and the 11-segment map."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from campaigns.segments import (
    QUINTILE_MIN,
    SEGMENT_GRID,
    RfmFacts,
    Segment,
    Stage,
    StageThresholds,
    fixed_score,
    quintile_cutoffs,
    quintile_scores,
    score_group,
    segment_of,
    stage_of,
)

NOW = dt.datetime(2026, 11, 30, 12, tzinfo=dt.UTC)
DEFAULT = StageThresholds()


def days_ago(days: float) -> dt.datetime:
    return NOW - dt.timedelta(days=days)


def stage(joined: float | None, active: float | None, *, present: bool = True, t=DEFAULT):
    return stage_of(
        present=present,
        joined_at=None if joined is None else days_ago(joined),
        last_active_at=None if active is None else days_ago(active),
        now=NOW,
        thresholds=t,
    )


@pytest.mark.parametrize(
    ("joined", "active", "expected"),
    [
        (2, None, Stage.NEW),  # joined this week, not yet said anything
        (6.9, 30, Stage.NEW),  # new wins over everything but left
        (7, 1, Stage.ACTIVE),
        (100, 6.99, Stage.ACTIVE),
        (100, 7, Stage.SILENT),  # the boundary belongs to the later stage
        (100, 29.9, Stage.SILENT),
        (100, 30, Stage.DORMANT),
        (100, 400, Stage.DORMANT),
        (10, None, Stage.SILENT),  # never active: counted from the join
        (45, None, Stage.DORMANT),
        (None, None, Stage.DORMANT),  # there before the bot and never seen
        (None, 3, Stage.ACTIVE),
    ],
)
def test_each_member_is_in_exactly_the_stage_their_days_say(joined, active, expected):
    assert stage(joined, active) is expected


def test_a_member_who_left_is_left_whatever_they_did():
    assert stage(1, 0, present=False) is Stage.LEFT


def test_thresholds_are_per_group():
    strict = StageThresholds(silent_days=3, dormant_days=14)

    assert stage(100, 5, t=strict) is Stage.SILENT
    assert stage(100, 15, t=strict) is Stage.DORMANT
    assert stage(100, 15) is Stage.SILENT  # the default group still calls it silent


def test_dormant_must_come_after_silent():
    with pytest.raises(ValidationError):
        StageThresholds(silent_days=30, dormant_days=30)


def test_every_cell_of_the_grid_is_one_of_the_eleven_segments_and_all_eleven_occur():
    cells = [segment_of(r, f, f) for r in range(1, 6) for f in range(1, 6)]

    assert len(cells) == 25
    assert set(cells) == set(Segment)
    assert set(SEGMENT_GRID) == {1, 2, 3, 4, 5}


@pytest.mark.parametrize(
    ("r", "f", "m", "expected"),
    [
        (5, 5, 5, Segment.CHAMPIONS),
        (5, 1, 1, Segment.NEW),  # just bought, once, little
        (4, 1, 1, Segment.PROMISING),
        (1, 5, 5, Segment.CANT_LOSE),  # spent most, long gone
        (1, 1, 1, Segment.LOST),
        (2, 4, 3, Segment.AT_RISK),  # FM 3.5 rounds to 4
        (3, 3, 3, Segment.NEED_ATTENTION),
        (3, 1, 2, Segment.ABOUT_TO_SLEEP),
        (2, 1, 2, Segment.HIBERNATING),
        (3, 5, 4, Segment.LOYAL),
        (5, 2, 2, Segment.POTENTIAL_LOYALIST),
    ],
)
def test_the_segment_map(r, f, m, expected):
    assert segment_of(r, f, m) is expected


def test_scores_outside_one_to_five_are_refused():
    with pytest.raises(ValueError):
        segment_of(0, 3, 3)


def test_quintiles_split_a_spread_into_fifths():
    assert quintile_scores(list(range(10))) == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]
    assert quintile_scores(list(range(10)), lower_is_better=True) == [5, 5, 4, 4, 3, 3, 2, 2, 1, 1]


def test_ties_share_a_score_and_everyone_equal_is_the_middle():
    assert quintile_scores([7, 7, 7, 7]) == [3, 3, 3, 3]
    scores = quintile_scores([1, 5, 5, 5, 5, 5, 5, 5, 5, 9])
    assert len(set(scores[1:9])) == 1
    assert scores[0] < scores[1] < scores[9]


@given(
    st.lists(st.integers(0, 40) | st.integers(0, 10**9), min_size=1, max_size=300),
    st.booleans(),
)
def test_cutoffs_from_the_histogram_score_every_value_as_its_quintile(values, lower_is_better):
    histogram = Counter(values).items()

    cutoffs = quintile_cutoffs(histogram, lower_is_better=lower_is_better)

    scored = [fixed_score(v, cutoffs, lower_is_better=lower_is_better) for v in values]
    assert scored == quintile_scores(values, lower_is_better=lower_is_better)


def test_a_score_no_value_earns_has_no_cutoff():
    assert quintile_cutoffs([(7, 4)]) == (7, 7, None, None)  # all equal: 3 throughout
    assert quintile_cutoffs([(7, 4)], lower_is_better=True) == (7, 7, None, None)
    assert fixed_score(8, (7, 7, None, None)) == 3


@given(st.lists(st.integers(min_value=0, max_value=10**9), min_size=1, max_size=200))
def test_quintiles_are_one_to_five_monotone_and_equal_for_equal_values(values):
    scores = quintile_scores(values)
    inverse = quintile_scores(values, lower_is_better=True)

    assert all(1 <= s <= 5 for s in scores + inverse)
    for a, sa, ia in zip(values, scores, inverse, strict=True):
        for b, sb, ib in zip(values, scores, inverse, strict=True):
            if a < b:
                assert sa <= sb and ia >= ib
            if a == b:
                assert sa == sb and ia == ib


@pytest.mark.parametrize(
    ("value", "expected"), [(0, 1), (4_999, 1), (5_000, 2), (99_999, 3), (100_000, 4), (10**9, 5)]
)
def test_fixed_spend_cut_offs(value, expected):
    from campaigns.segments import SPEND_CUTOFFS

    assert fixed_score(value, SPEND_CUTOFFS) == expected


def test_fixed_recency_cut_offs_favour_the_recent():
    from campaigns.segments import RECENCY_CUTOFFS

    scores = [
        fixed_score(d, RECENCY_CUTOFFS, lower_is_better=True) for d in (0, 7, 8, 30, 90, 180, 181)
    ]
    assert scores == [5, 5, 4, 4, 3, 2, 1]


def test_a_small_group_uses_the_fixed_cut_offs_and_a_big_one_quintiles():
    small = [RfmFacts(1, 3, 12, 600_000), RfmFacts(2, 3, 12, 600_000)]
    assert [(s.r, s.f, s.m) for s in score_group(small, by_orders=True)] == [(5, 5, 5), (5, 5, 5)]

    # The same two among 48 who bought more recently, more often and more: ranked low.
    big = small + [RfmFacts(10 + i, 0, 50, 900_000) for i in range(QUINTILE_MIN - 2)]
    scored = score_group(big, by_orders=True)
    assert [(s.r, s.f, s.m) for s in scored[:2]] == [(1, 1, 1), (1, 1, 1)]


def test_nothing_scores_above_nothing():
    facts = [RfmFacts(1, None, 0, 0), RfmFacts(2, 200, 0, 0)]
    scored = score_group(facts, by_orders=True)

    assert [(s.r, s.f, s.m) for s in scored] == [(1, 1, 1), (1, 1, 1)]
    assert scored[0].segment is Segment.LOST


def test_without_orders_frequency_stands_for_fm():
    chatty = score_group([RfmFacts(1, 1, 150, 0)], by_orders=False)[0]

    assert (chatty.r, chatty.f, chatty.m) == (5, 5, 1)
    assert chatty.segment is Segment.CHAMPIONS
