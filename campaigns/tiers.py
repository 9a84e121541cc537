"""Membership tiers (会员等级): who qualifies for which tier, promotion, review and demotion.

A group has up to `MAX_TIERS` tiers, level 0 the entry tier everyone is in (普通 by default;
the default ladder's names follow the group's language: Regular / Premium / VIP in English).
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
from decimal import Decimal
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field, ValidationError, model_validator
from pydantic_core import PydanticCustomError

from campaigns.access import parse_id
from campaigns.coupons import parse_amount
from campaigns.errors import DomainError

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
    # The names are the default ladder's, never typed by an admin: shown in the group's
    # language (in_language), and found by either language's (level_named), so a rule saved
    # as `tier>=高级` keeps working after the group switches to English.
    default_names: bool = False

    @model_validator(mode="after")
    def _ladder(self) -> TierLadder:
        # Each broken rule is its own error type (LadderProblem), naming the tier it is about:
        # /tier setup says which one and why.
        def broken(problem: LadderProblem, message: str, tier: str = "") -> PydanticCustomError:
            return PydanticCustomError(str(problem), message, {"tier": tier})

        if not 1 <= len(self.tiers) <= MAX_TIERS:
            raise broken(LadderProblem.TIERS, f"a group has 1 to {MAX_TIERS} tiers")
        first, higher = self.tiers[0], self.tiers[1:]
        if first.min_spend is not None or first.min_points is not None:
            raise broken(LadderProblem.FIRST, "the first tier is everyone's", first.name)
        for tier in higher:
            if tier.min_spend is None and tier.min_points is None:
                raise broken(LadderProblem.NO_THRESHOLD, "needs spend= or points=", tier.name)
        for lower, upper in itertools.pairwise(higher):
            for measure in ("min_spend", "min_points"):
                low, up = getattr(lower, measure), getattr(upper, measure)
                if low is not None and up is not None and up <= low:
                    raise broken(LadderProblem.NOT_RISING, "thresholds must rise", upper.name)
        seen: set[str] = set()
        for tier in self.tiers:
            if tier.name.casefold() in seen:
                raise broken(LadderProblem.SAME_NAME, "tier names must differ", tier.name)
            seen.add(tier.name.casefold())
        return self

    def name_of(self, level: int) -> str:
        """A level's tier name as operators see it everywhere (exports, JSON); the number
        of a level the ladder no longer has (it was shortened since)."""
        return self.tiers[level].name if 0 <= level < len(self.tiers) else str(level)

    def level_named(self, name: str) -> int | None:
        """The level of a tier by name (case-insensitive), None if there is none."""
        wanted = name.strip().casefold()
        for level, tier in enumerate(self.tiers):
            if tier.name.casefold() == wanted:
                return level
        if self._named_by_default():  # then each language's names are as many as the tiers
            for names in DEFAULT_NAMES.values():
                folded = [name.casefold() for name in names]
                if wanted in folded:
                    return folded.index(wanted)
        return None

    def in_language(self, language: str) -> TierLadder:
        """This ladder as a group in `language` sees it: the default names translated, any
        other ladder as it is (names an admin typed are theirs, in whatever language)."""
        names = DEFAULT_NAMES.get(language, DEFAULT_NAMES["en"])
        if not self._named_by_default() or self.names() == names:
            return self
        renamed = tuple(
            t.model_copy(update={"name": n}) for t, n in zip(self.tiers, names, strict=True)
        )
        return self.model_copy(update={"tiers": renamed})

    def names(self) -> tuple[str, ...]:
        return tuple(t.name for t in self.tiers)

    def _named_by_default(self) -> bool:
        """The default ladder's names in one of the languages (a copy renamed is not)."""
        return self.default_names and self.names() in DEFAULT_NAMES.values()

    def is_default(self) -> bool:
        """The default ladder, whatever language its names are shown in: nothing to store."""
        return self.in_language("zh") == DEFAULT_LADDER


DEFAULT_NAMES: dict[str, tuple[str, ...]] = {
    "zh": ("普通", "高级", "VIP"),
    "en": ("Regular", "Premium", "VIP"),
}


DEFAULT_LADDER = TierLadder(
    tiers=(
        Tier(name="普通"),
        Tier(name="高级", min_spend=100_000, min_points=1_000, multiplier=1.2, reward_points=100),
        Tier(name="VIP", min_spend=500_000, min_points=5_000, multiplier=1.5, reward_points=500),
    ),
    default_names=True,
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


def could_rise(ladder: TierLadder, level: int, lifetime: Standing) -> bool:
    """Whether a promotion is possible at all: no window holds more than the lifetime, so
    a member who does not qualify on that needs no closer look (a check-in rush asks this)."""
    return qualifying_level(ladder, lifetime) > level


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
    return max(points, int(Decimal(points) * Decimal(str(tier.multiplier))))


def basis_start(ladder: TierLadder, now: dt.datetime) -> dt.datetime | None:
    """The earliest moment that counts towards tiers (None: the member's whole history)."""
    if ladder.basis is TierBasis.LIFETIME:
        return None
    return now - dt.timedelta(days=365)


def month_of(day: dt.date) -> dt.date:
    """The month bucket a day's points and spend go to: its first day (the group's calendar)."""
    return day.replace(day=1)


def window_start(ladder: TierLadder, today: dt.date) -> dt.date | None:
    """The first month bucket that counts: the rolling 12 months are whole calendar months,
    the current one and the 11 before it (None: lifetime, the member's running totals)."""
    if ladder.basis is TierBasis.LIFETIME:
        return None
    months = today.year * 12 + today.month - 1 - 11
    return dt.date(months // 12, months % 12 + 1, 1)


def is_review_day(ladder: TierLadder, day: dt.date) -> bool:
    """Demotions are reviewed every `review_days` days of the group's calendar (30 by
    default: about monthly); running the review twice on one day changes nothing more."""
    return day.toordinal() % ladder.review_days == 0


# -- the admin's one-line ladder ---------------------------------------------------------------


class LadderProblem(StrEnum):
    """Why a `/tier setup` line was refused; texts say each one."""

    BAD_OPTION = "bad_option"  # `value` is the word
    BAD_NUMBER = "bad_number"  # `value` is the word
    TIERS = "tiers"  # not 1 to MAX_TIERS tiers
    FIRST = "first_has_threshold"  # the first tier is everyone's: `value` is its name
    NO_THRESHOLD = "no_threshold"  # a higher tier without spend= or points=: its name
    NOT_RISING = "not_rising"  # a threshold not above the tier below's: the tier's name
    SAME_NAME = "same_name"  # two tiers alike: the name
    OUT_OF_RANGE = "out_of_range"  # an option's value outside its range: `tier option`
    INVALID = "invalid"  # anything else the ladder's model refuses


@dataclass
class LadderRefused(DomainError):
    problem: LadderProblem
    value: str = ""

    def __str__(self) -> str:
        return str(self.problem)


def _number(word: str, value: str, *, money: bool = False) -> int | float:
    try:
        if money:
            return parse_amount(value)
        return float(value) if word == "x" else int(value)
    except ValueError:
        raise LadderRefused(LadderProblem.BAD_NUMBER, f"{word}={value}") from None


def parse_ladder(line: str, *, keep: TierLadder | None = None) -> TierLadder:
    """`普通 | 高级 spend=1000 points=1000 x=1.2 reward=100 title=银卡 | VIP spend=5000 …`:
    tiers lowest first, separated by `|`; each a name, then options. Spend is in major
    units (¥1000 = 1000). `basis=`, `grace=` and `review=` of `keep` are kept."""
    options = {"spend", "points", "x", "reward", "coupon", "title"}
    tiers = []
    for part in line.split("|"):
        words = part.split()
        if not words:
            raise LadderRefused(LadderProblem.INVALID, "empty tier")
        fields: dict[str, object] = {"name": words[0]}
        for word in words[1:]:
            key, eq, value = word.partition("=")
            key = key.casefold()
            if not eq or key not in options or not value:
                raise LadderRefused(LadderProblem.BAD_OPTION, word)
            if key == "spend":
                fields["min_spend"] = _number(key, value, money=True)
            elif key == "points":
                fields["min_points"] = _number(key, value)
            elif key == "x":
                fields["multiplier"] = _number(key, value)
            elif key == "reward":
                fields["reward_points"] = _number(key, value)
            elif key == "coupon":
                offer = parse_id(value)  # an id a stored offer can have, in ASCII digits
                if offer is None:
                    raise LadderRefused(LadderProblem.BAD_NUMBER, word)
                fields["reward_offer"] = str(offer)
            else:
                fields["title"] = value
        tiers.append(fields)
    base = keep or DEFAULT_LADDER
    try:
        return TierLadder.model_validate(
            {
                "tiers": tiers,
                "basis": base.basis,
                "review_days": base.review_days,
                "grace_days": base.grace_days,
            }
        )
    except ValidationError as error:
        raise _refused(error, tiers) from None


def _refused(error: ValidationError, tiers: list[dict[str, object]]) -> LadderRefused:
    """The first rule the ladder breaks, as /tier setup says it: which tier, and why."""
    first = error.errors()[0]
    kind, loc = str(first.get("type", "")), first.get("loc", ())
    if kind in {p.value for p in LadderProblem}:
        return LadderRefused(LadderProblem(kind), str(first.get("ctx", {}).get("tier", "")))
    if len(loc) >= 3 and loc[0] == "tiers" and isinstance(loc[1], int) and loc[1] < len(tiers):
        option = {
            "min_spend": "spend",
            "min_points": "points",
            "multiplier": "x",
            "reward_points": "reward",
            "title": "title",
            "name": "name",
        }.get(str(loc[2]))
        if option is not None:  # e.g. x=11, points=-5, a name of 40 characters
            return LadderRefused(
                LadderProblem.OUT_OF_RANGE, f"{tiers[loc[1]]['name']} {option}"
            )  # fmt: skip
    return LadderRefused(LadderProblem.INVALID, str(first.get("msg", "")))


def with_option(ladder: TierLadder, key: str, value: str) -> TierLadder:
    """`/tier basis 12m|lifetime`, `/tier grace <days>`, `/tier review <days>`."""
    try:
        if key == "basis":
            return ladder.model_copy(update={"basis": TierBasis(value.casefold())})
        field_name = {"grace": "grace_days", "review": "review_days"}[key]
        data = ladder.model_dump()
        data[field_name] = int(value)
        return TierLadder.model_validate(data)
    except (ValueError, KeyError):
        raise LadderRefused(LadderProblem.BAD_NUMBER, f"{key} {value}") from None


def ladder_to_json(ladder: TierLadder) -> dict[str, Any]:
    """How chats.tiers stores a ladder."""
    return ladder.model_dump(mode="json")


def ladder_from_json(data: dict[str, Any] | None) -> TierLadder:
    """A stored ladder; none stored (or one no longer valid) is the default ladder. One
    stored before ladders said whether their names were typed (`default_names` absent)
    with the default's Chinese names is the default ladder with options changed (`/tier
    basis` and the like stored it whole): its names follow the language too."""
    if not data:
        return DEFAULT_LADDER
    try:
        ladder = TierLadder.model_validate(data)
    except ValidationError:
        return DEFAULT_LADDER
    if "default_names" not in data and ladder.names() == DEFAULT_NAMES["zh"]:
        return ladder.model_copy(update={"default_names": True})
    return ladder
