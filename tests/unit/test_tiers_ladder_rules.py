"""The admin's one-line ladder, the month window, the review day, and the multiplier in the
rules that compute check-in and order points."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from campaigns.checkin import CheckinRules, PreviousCheckin, award
from campaigns.orders import purchase_points
from campaigns.settings import ChatSettings, apply_tier_setting
from campaigns.tiers import (
    DEFAULT_LADDER,
    LadderProblem,
    LadderRefused,
    TierBasis,
    is_review_day,
    ladder_from_json,
    ladder_to_json,
    month_of,
    parse_ladder,
    window_start,
    with_option,
)


def test_a_ladder_line_gives_names_thresholds_in_minor_units_and_benefits():
    ladder = parse_ladder(
        "普通 | 银卡 spend=500 points=500 x=1.2 reward=50 | 金卡 spend=2000.50 coupon=12 title=金"
    )

    assert [t.name for t in ladder.tiers] == ["普通", "银卡", "金卡"]
    assert (ladder.tiers[1].min_spend, ladder.tiers[1].min_points) == (50_000, 500)
    assert (ladder.tiers[1].multiplier, ladder.tiers[1].reward_points) == (1.2, 50)
    assert (ladder.tiers[2].min_spend, ladder.tiers[2].min_points) == (200_050, None)
    assert (ladder.tiers[2].reward_offer, ladder.tiers[2].title) == ("12", "金")


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ("普通 | 银 level=3", LadderProblem.BAD_OPTION),
        ("普通 | 银 points", LadderProblem.BAD_OPTION),
        ("普通 | 银 points=many", LadderProblem.BAD_NUMBER),
        ("普通 | 银 spend=1.234", LadderProblem.BAD_NUMBER),
        ("普通 | 银 points=10 coupon=abc", LadderProblem.BAD_NUMBER),
        # no stored offer has such an id: it broke every check-in once in the ladder
        ("普通 | 银 points=10 coupon=99999999999999999999999999", LadderProblem.BAD_NUMBER),
        ("普通 | 银 points=10 coupon=٣", LadderProblem.BAD_NUMBER),  # an Arabic-Indic 3
        ("普通 | 银 points=10 coupon=0", LadderProblem.BAD_NUMBER),
        ("普通 || 银 points=5", LadderProblem.INVALID),
    ],
)
def test_a_bad_ladder_line_is_refused_with_its_problem(line: str, problem: LadderProblem):
    with pytest.raises(LadderRefused) as refused:
        parse_ladder(line)

    assert refused.value.problem is problem


@pytest.mark.parametrize(
    ("line", "problem", "named"),
    [
        ("普通 | 银 points=100 | 金 points=50", LadderProblem.NOT_RISING, "金"),
        ("普通 | 银卡 spend=500 x=1.2 | 金卡 spend=300", LadderProblem.NOT_RISING, "金卡"),
        ("普通 | 银", LadderProblem.NO_THRESHOLD, "银"),
        ("普通 points=5", LadderProblem.FIRST, "普通"),
        ("普通 | 普通 points=5", LadderProblem.SAME_NAME, "普通"),
        ("普通 | 银 points=5 | VIP points=9 | vip points=20", LadderProblem.SAME_NAME, "vip"),
        ("普通 | 银 points=5 x=11", LadderProblem.OUT_OF_RANGE, "银 x"),
        ("普通 | 银 points=-5", LadderProblem.OUT_OF_RANGE, "银 points"),
        ("a | b points=1 | c points=2 | d points=3 | e points=4 | f points=5",
         LadderProblem.TIERS, ""),
    ],
)  # fmt: skip
def test_a_ladder_that_breaks_a_rule_says_which_tier_and_which_rule(
    line: str, problem: LadderProblem, named: str
):
    """Once one reply listed every rule for any of them; an admin could not tell which."""
    with pytest.raises(LadderRefused) as refused:
        parse_ladder(line)

    assert (refused.value.problem, refused.value.value) == (problem, named)


def test_a_new_ladder_keeps_the_groups_basis_grace_and_review():
    kept = with_option(with_option(DEFAULT_LADDER, "basis", "lifetime"), "grace", "7")

    ladder = parse_ladder("普通 | 银 points=5", keep=kept)

    assert (ladder.basis, ladder.grace_days, ladder.review_days) == (TierBasis.LIFETIME, 7, 30)


@pytest.mark.parametrize(("key", "value"), [("basis", "forever"), ("grace", "x"), ("review", "0")])
def test_a_bad_option_is_refused(key: str, value: str):
    with pytest.raises(LadderRefused):
        with_option(DEFAULT_LADDER, key, value)


def test_tier_settings_round_trip_through_storage_json_and_reset():
    settings = apply_tier_setting(ChatSettings(), "setup", "普通 | 银 points=5 x=2")

    assert ladder_from_json(ladder_to_json(settings.tiers)) == settings.tiers
    assert apply_tier_setting(settings, "reset", "").tiers == DEFAULT_LADDER.in_language("en")
    assert apply_tier_setting(settings, "reset", "").tiers.is_default()
    assert ladder_from_json(None) == DEFAULT_LADDER
    assert ladder_from_json({"tiers": []}) == DEFAULT_LADDER  # no longer valid: the default


@pytest.mark.parametrize(
    ("today", "start"),
    [
        (dt.date(2026, 11, 30), dt.date(2025, 12, 1)),
        (dt.date(2026, 1, 1), dt.date(2025, 2, 1)),
        (dt.date(2026, 12, 31), dt.date(2026, 1, 1)),
    ],
)
def test_the_rolling_window_is_the_current_month_and_the_eleven_before(today, start):
    assert window_start(DEFAULT_LADDER, today) == start
    assert month_of(today) == today.replace(day=1)


def test_a_lifetime_ladder_has_no_window():
    assert window_start(with_option(DEFAULT_LADDER, "basis", "lifetime"), dt.date.today()) is None


def test_a_review_day_comes_every_review_days():
    ladder = with_option(DEFAULT_LADDER, "review", "7")
    days = [dt.date(2026, 11, 1) + dt.timedelta(days=n) for n in range(21)]

    assert sum(is_review_day(ladder, d) for d in days) == 3


def test_the_tier_multiplier_raises_checkin_base_and_streak_points_not_milestones():
    rules = CheckinRules(points=10, streak_bonus=1, streak_bonus_max=5, milestones={2: 5})
    ladder = parse_ladder("普通 | 银 points=5 x=1.5")
    before = PreviousCheckin(day=dt.date(2026, 11, 1), streak=1)

    plain = award(before, dt.date(2026, 11, 2), rules, ladder=ladder, level=0)
    boosted = award(before, dt.date(2026, 11, 2), rules, ladder=ladder, level=1)

    assert (plain.tier_points, plain.total) == (0, 16)
    assert (boosted.tier_points, boosted.total) == (5, 21)  # (10 + 1) × 1.5 = 16, + 5


def test_the_tier_multiplier_raises_order_points_rounded_down():
    ladder = parse_ladder("普通 | 银 points=5 x=1.25")

    assert purchase_points(19_990, 1) == 199
    assert purchase_points(19_990, 1, ladder=ladder, level=1) == 248


@pytest.mark.parametrize("ref", ["99999999999999999999999999", "٣", "-1", "0", ""])
async def test_a_stored_ladders_offer_no_offer_can_have_grants_nothing_and_breaks_nothing(ref):
    """A ladder saved before its offer ids were checked: the promotion stands, no coupon,
    and the database is never asked for an id it cannot hold."""
    from campaigns.services.coupons import tier_coupon

    no_store: Any = None  # asked anything, this would fail
    assert (
        await tier_coupon(no_store, no_store, 5, ref, dt.datetime(2026, 11, 30, tzinfo=dt.UTC))
        is None
    )


def test_the_default_ladder_is_named_in_the_groups_language_and_found_by_either():
    english = ChatSettings(language="en").tiers
    chinese = ChatSettings(language="zh").tiers

    assert [t.name for t in english.tiers] == ["Regular", "Premium", "VIP"]
    assert [t.name for t in chinese.tiers] == ["普通", "高级", "VIP"]
    # A rule saved in one language keeps meaning the same level after a switch.
    assert english.level_named("高级") == chinese.level_named("premium") == 1
    assert english.is_default() and chinese.is_default()
    # Thresholds and benefits are the same ladder's.
    assert english.tiers[2].min_spend == chinese.tiers[2].min_spend == 500_000
    # Changed options keep the names following the language, through storage too.
    lifetime = apply_tier_setting(ChatSettings(language="zh"), "basis", "lifetime").tiers
    stored = ladder_from_json(ladder_to_json(lifetime))
    assert not stored.is_default()
    assert ChatSettings(language="en", tiers=stored).tiers.tiers[0].name == "Regular"


def test_a_default_ladder_stored_whole_before_its_names_were_marked_follows_the_language():
    stored_then = ladder_to_json(with_option(DEFAULT_LADDER, "basis", "lifetime"))
    del stored_then["default_names"]  # what /tier basis stored before
    typed_now = ladder_to_json(parse_ladder("普通 | 高级 points=5 | VIP points=9"))

    assert ladder_from_json(stored_then).in_language("en").names() == ("Regular", "Premium", "VIP")
    assert ladder_from_json(stored_then).basis is TierBasis.LIFETIME
    assert ladder_from_json(typed_now).in_language("en").names() == ("普通", "高级", "VIP")


def test_names_an_admin_typed_are_never_translated():
    typed = apply_tier_setting(ChatSettings(language="en"), "setup", "普通 | 高级 points=5")
    renamed = DEFAULT_LADDER.model_copy(
        update={"tiers": (DEFAULT_LADDER.tiers[0].model_copy(update={"name": "Bronze"}),
                          *DEFAULT_LADDER.tiers[1:])}
    )  # fmt: skip

    assert [t.name for t in typed.tiers.tiers] == ["普通", "高级"]
    assert typed.tiers.level_named("Premium") is None
    assert ChatSettings(language="en", tiers=renamed).tiers.tiers[0].name == "Bronze"
    assert renamed.level_named("Regular") is None
    assert not typed.tiers.is_default()
