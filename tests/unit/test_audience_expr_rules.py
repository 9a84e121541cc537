"""The audience language: what each rule means, and/or/not/parentheses, canonical text, and
hostile input."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from campaigns.audience_expr import (
    MAX_TEXT,
    AllOf,
    AnyOf,
    AudienceExprError,
    AudienceProblem,
    Everyone,
    Member,
    Not,
    Op,
    Rule,
    describe,
    matches,
    parse,
    resolve_tiers,
)
from campaigns.segments import Segment, Stage, StageThresholds
from campaigns.tiers import DEFAULT_LADDER

NOW = dt.datetime(2026, 11, 30, 12, tzinfo=dt.UTC)
THRESHOLDS = StageThresholds()  # new 7 days, silent after 7, dormant after 30


def member(**changes) -> Member:
    base = dict(
        present=True,
        reachable=True,
        joined_at=NOW - dt.timedelta(days=100),
        last_active_at=NOW - dt.timedelta(days=40),
        last_checkin_day=None,
        last_order_at=NOW - dt.timedelta(days=45),
        points=120,
        orders=2,
        spend=68_000,
        invited=3,
        segment=Segment.AT_RISK,
        tier=1,
        tags=frozenset({"bought:tea"}),
        lang="zh-hans",
    )
    return Member(**(base | changes))


# What puts a member in each stage at NOW (campaigns.segments.stage_of, default thresholds).
EACH_STAGE = {
    Stage.NEW: {"joined_at": NOW - dt.timedelta(days=2)},
    Stage.ACTIVE: {"last_active_at": NOW - dt.timedelta(days=1)},
    Stage.SILENT: {"last_active_at": NOW - dt.timedelta(days=10)},
    Stage.DORMANT: {},
    Stage.LEFT: {"present": False},
}


def holds(text: str, m: Member | None = None) -> bool:
    expr = resolve_tiers(parse(text), DEFAULT_LADDER.level_named)
    return matches(expr, m or member(), NOW, THRESHOLDS)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("stage=dormant and spend>0", True),
        ("stage=沉睡", True),
        ("stage=active", False),
        ("rfm=at_risk", True),
        ("rfm=at-risk", True),
        ("rfm=champions", False),
        ("tier>=高级", True),
        ("tier>=vip", False),
        ("tier=高级", True),
        ("tag=bought:tea", True),
        ("tag=BOUGHT:TEA", True),
        ("tag!=bought:tea", False),
        ("orders>=2", True),
        ("orders>2", False),
        ("spend>=680", True),
        ("spend>680", False),
        ("spend>=679.99", True),
        ("last_order>30d", True),
        ("last_order<30d", False),
        ("invited>=3", True),
        ("lang=zh", True),  # zh-hans is Chinese
        ("lang=zh-hant", False),
        ("lang=en", False),
        ("active>30d joined>30d", True),  # side by side: and
        ("checkin<7d", False),  # never checked in: not within
        ("checkin>7d", True),  # never: over
        ("points>=100, orders=2", True),
        ("all", True),
        ("", True),
    ],
)
def test_each_rule_reads_what_it_says(text, expected):
    assert holds(text) is expected


def test_and_binds_tighter_than_or_and_parentheses_change_it():
    assert holds("stage=new and orders>5 or tag=bought:tea") is True
    assert holds("stage=new and (orders>5 or tag=bought:tea)") is False
    assert holds("not stage=new") is True
    assert holds("not (stage=dormant or stage=silent)") is False
    assert holds("非 stage=new 且 (rfm=at_risk 或 rfm=lost)") is True


def test_nobody_outside_the_group_or_unreachable_is_in_any_audience():
    assert holds("all", member(present=False)) is False
    assert holds("not stage=new", member(reachable=False)) is False


def test_a_member_without_an_order_or_a_language():
    newcomer = member(last_order_at=None, lang=None, orders=0, spend=0)

    assert holds("last_order>30d", newcomer) is True  # never ordered: over any days
    assert holds("last_order<365d", newcomer) is False
    assert holds("lang=zh", newcomer) is False
    assert holds("lang!=zh", newcomer) is True


@pytest.mark.parametrize(
    ("text", "problem", "token"),
    [
        ("stage=sleepy", AudienceProblem.BAD_VALUE, "stage=sleepy"),
        ("colour=red", AudienceProblem.UNKNOWN_RULE, "colour=red"),
        ("hello", AudienceProblem.UNKNOWN_RULE, "hello"),
        ("joined=7d", AudienceProblem.BAD_VALUE, "joined=7d"),  # within or over?
        ("stage>new", AudienceProblem.BAD_VALUE, "stage>new"),
        ("spend>=1.234", AudienceProblem.BAD_VALUE, "spend>=1.234"),
        ("orders>=٣", AudienceProblem.BAD_VALUE, "orders>=٣"),
        ("(stage=new", AudienceProblem.SYNTAX, "("),
        ("stage=new)", AudienceProblem.SYNTAX, ")"),
        ("stage=new and", AudienceProblem.SYNTAX, "and"),
        ("or stage=new", AudienceProblem.SYNTAX, "or"),
        ("not", AudienceProblem.SYNTAX, "not"),
        ("(" * 20 + "all" + ")" * 20, AudienceProblem.TOO_LONG, "("),
        (" ".join(["orders>1"] * 41), AudienceProblem.TOO_LONG, "orders>1"),
        ("x" * 501, AudienceProblem.TOO_LONG, "x" * 20),
    ],
)
def test_what_cannot_be_read_says_what_and_where(text, problem, token):
    with pytest.raises(AudienceExprError) as caught:
        parse(text)
    assert (caught.value.problem, caught.value.token) == (problem, token)


def test_a_tier_the_group_does_not_have_is_refused_when_resolved():
    with pytest.raises(AudienceExprError) as caught:
        resolve_tiers(parse("tier>=gold"), DEFAULT_LADDER.level_named)
    assert caught.value.problem is AudienceProblem.UNKNOWN_TIER


def test_the_canonical_text():
    assert describe(parse("STAGE=Dormant,spend>0")) == "stage=dormant and spend>0"
    assert describe(parse("spend>=99.5 or not (tag=a 或 lang=ZH)")) == (
        "spend>=99.50 or not (tag=a or lang=zh)"
    )
    assert describe(parse("joined<7")) == "joined<7d"
    assert describe(parse("all stage=new")) == "stage=new"


@given(st.text(max_size=120))
@settings(max_examples=400)
def test_parsing_anything_either_reads_or_refuses_with_an_audience_error(text):
    try:
        expr = parse(text)
    except AudienceExprError:
        return
    assert describe(parse(describe(expr))) == describe(expr)


RULES = st.sampled_from(
    [
        Rule("stage", Op.EQ, "dormant"),
        Rule("stage", Op.NE, "new"),
        Rule("rfm", Op.EQ, "at_risk"),
        Rule("tag", Op.EQ, "bought:tea"),
        Rule("lang", Op.EQ, "zh"),
        Rule("orders", Op.GE, 2),
        Rule("spend", Op.GT, 50_000),
        Rule("active", Op.GT, 30),
        Rule("last_order", Op.LT, 60),
        Rule("tier", Op.GE, "高级"),
        Rule("points", Op.LE, 100),
    ]
)
TREES = st.recursive(
    RULES | st.just(Everyone()),
    lambda inner: st.one_of(
        st.lists(inner, min_size=2, max_size=3).map(lambda xs: AllOf(tuple(xs))),
        st.lists(inner, min_size=2, max_size=3).map(lambda xs: AnyOf(tuple(xs))),
        inner.map(Not),
    ),
    max_leaves=8,
)
MEMBERS = st.builds(
    member,
    joined_at=st.sampled_from([NOW - dt.timedelta(days=d) for d in (2, 100)]),  # new or not
    last_active_at=st.sampled_from([NOW - dt.timedelta(days=d) for d in (1, 10, 40)]),
    segment=st.sampled_from(list(Segment)),
    orders=st.integers(0, 4),
    spend=st.sampled_from([0, 50_000, 50_001, 90_000]),
    tier=st.integers(0, 2),
    tags=st.sampled_from([frozenset(), frozenset({"bought:tea"})]),
    lang=st.sampled_from([None, "zh", "zh-hans", "en"]),
    points=st.integers(99, 101),
)


@given(TREES, MEMBERS)
@settings(max_examples=300)
def test_the_text_of_any_audience_means_the_same_as_the_audience(tree, m):
    again = parse(describe(tree))
    level = DEFAULT_LADDER.level_named

    assert matches(resolve_tiers(again, level), m, NOW, THRESHOLDS) == matches(
        resolve_tiers(tree, level), m, NOW, THRESHOLDS
    )


@pytest.mark.parametrize(
    "rule", ["tier=level:abc", "tier>=level:99999999999999999999", "tier=level:-1", "tier=LEVEL:1"]
)
def test_a_typed_tier_level_is_refused_not_passed_through(rule: str):
    with pytest.raises(AudienceExprError):
        parse(rule)


# What operators type: short aliases the canonical text spells out, nesting, and the
# and / or / not words in both languages, up to the limit on what is typed.
TYPED_TOKENS = st.sampled_from(
    ["stage=沉睡", "stage=新人", "rfm=流失", "tag=a", "orders>=2", "spend>0", "joined<7",
     "非", "not", "!", "且", "或", "or", "and", "(", ")", "all", " ", " ", " "]
)  # fmt: skip


@given(st.lists(TYPED_TOKENS, max_size=200).map(" ".join))
@settings(max_examples=400)
def test_what_is_stored_for_any_typed_rule_reads_back_as_the_same_audience(text):
    """The stored form is the canonical text, read again on every use: it may be longer
    than what was typed (`stage=沉睡` becomes `stage=dormant`), and must never be refused."""
    text = text[:MAX_TEXT]
    try:
        typed = parse(text)
    except AudienceExprError:
        return
    stored = parse(describe(typed), typed=False)
    assert describe(stored) == describe(typed)
    for m in (member(**activity) for activity in EACH_STAGE.values()):
        assert matches(stored, m, NOW, THRESHOLDS) == matches(typed, m, NOW, THRESHOLDS)


@pytest.mark.parametrize(
    "text",
    [
        "not not not not not not not (tag=a or tag=b tag=c)",  # one level deeper stored
        # or-groups inside and-groups as deep as may be typed: stored, each and-group inside
        # an or gets its parentheses too
        "tag=a (tag=b or tag=c " * 8 + "tag=d" + ")" * 8,
        " ".join(["stage=沉睡"] * 40),  # 359 characters typed, 715 stored
    ],
)
def test_a_rule_read_within_the_limits_is_never_refused_once_stored(text):
    assert len(text) <= MAX_TEXT
    assert parse(describe(parse(text)), typed=False) is not None


@pytest.mark.parametrize("stage", [s for s in Stage if s is not Stage.LEFT])
def test_the_stage_is_the_one_at_the_moment_from_activity_and_the_groups_thresholds(stage):
    """Not the stage the hourly refresh last stored: whoever spoke a minute ago is active."""
    m = member(**EACH_STAGE[stage])

    assert [s for s in Stage if holds(f"stage={s}", m)] == [stage]
    stricter = StageThresholds(silent_days=1, dormant_days=5)  # a group that calls it sooner
    if stage is Stage.SILENT:
        assert matches(parse("stage=dormant"), m, NOW, stricter)
