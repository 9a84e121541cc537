"""Journeys (自动化旅程): the retention moves the bot runs on its own, and their rules.

A journey is switched on and tuned per group (`/journey on winback`, `/journey set winback
offer 12`, or the calendar YAML's `journeys:`). Each member's step of a journey happens once per
occurrence: a run row keyed by (group, member, journey, episode, step) is inserted before
anything else, so a rerun, a redelivery or a second process finds the key taken. What an
episode is belongs to the journey (`episode_*` below): one dormancy spell, one birthday year,
one order.

A share of the eligible members (the holdout) is chosen by a hash of the group, the member and
the journey, so every process agrees and a member stays in the same arm: they are recorded but
not messaged, which is what lets a report compare the two.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from pydantic import BaseModel, Field, ValidationError

from campaigns.errors import DomainError
from campaigns.experiments import draw, pick
from campaigns.numbers import read_int


class Journey(StrEnum):
    WINBACK = "winback"  # 沉睡唤醒: a member entering dormant (or a saved audience)
    BIRTHDAY = "birthday"  # 生日券: on the member's birthday, in the group's timezone
    MEMBER_DAY = "member_day"  # 会员日: a monthly or weekly day with more points
    FIRST_ORDER = "first_order"  # 首单后权益包: a welcome pack after the first order
    REPURCHASE = "repurchase"  # 复购提醒: N days after an order with no later one
    REFERRAL = "referral"  # 双方得券: the invited friend's welcome coupon
    NUDGE = "nudge"  # 新人引导: joined N days ago and never checked in


class RunStatus(StrEnum):
    """What happened to one member's step, recorded when the step is taken."""

    QUEUED = "queued"  # a private message is in the outbox
    HOLDOUT = "holdout"  # in the holdout: recorded, not messaged
    SKIPPED = "skipped"  # a gift-only step whose coupon could not be issued: nothing sent


GROUP_MEMBER = 0  # the run of a group-wide step (a member day's announcement)
MAX_HOLDOUT = 50  # percent: a journey that holds out more than half is not running
WINDOW_DAYS = 90  # win-back: members idle longer than this are past winning back
FIRST_ORDER_WITHIN = dt.timedelta(hours=24)
# Birthday and member-day gifts go to members who joined at least this long ago (or were
# there before the bot): joining on one's birthday to collect every group's coupon earns none.
GIFT_AFTER_JOINING = dt.timedelta(days=7)
REPURCHASE_GRACE = dt.timedelta(days=2)  # a reminder due while the bot was down still goes
NUDGE_GRACE = dt.timedelta(days=7)  # members who joined long before it was switched on: no
REFERRAL_WITHIN = dt.timedelta(days=7)  # invites confirmed before that are left alone
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
WEEKDAYS_ZH = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")


class JourneySettings(BaseModel):
    """One journey's switch and knobs; keys that do not apply to a journey stay at default."""

    model_config = {"frozen": True}

    on: bool = False
    since: dt.datetime | None = None  # when it was last switched on
    holdout: int = Field(default=0, ge=0, le=MAX_HOLDOUT)  # percent of eligible members
    offer: int | None = None  # a coupon offer of the group's, sent with the message
    after: int | None = Field(default=None, ge=1, le=365)  # days; see DEFAULT_AFTER
    second: int = Field(default=0, ge=0, le=365)  # win-back: days to the second step (0: none)
    second_offer: int | None = None  # win-back: the second step's (larger) coupon
    audience: str | None = None  # win-back: a saved audience instead of `stage=dormant`
    window: int = Field(default=WINDOW_DAYS, ge=1, le=3650)  # win-back: idle at most, days
    day: str | None = None  # member day: "1".."28" monthly, "mon".."sun" weekly
    multiplier: float = Field(default=2.0, ge=1.0, le=10.0)  # member day: points multiplier
    hour: int = Field(default=10, ge=0, le=23)  # member day: announcement, local hour
    tier: str | None = Field(default=None, max_length=32)  # member day: gifts from this tier up


DEFAULT_AFTER = {Journey.REPURCHASE: 30, Journey.NUDGE: 3}

# The keys `/journey set <journey> <key> <value>` accepts, per journey.
KEYS: dict[Journey, tuple[str, ...]] = {
    Journey.WINBACK: ("offer", "holdout", "audience", "window", "second", "second_offer"),
    Journey.BIRTHDAY: ("offer", "hour", "holdout"),
    Journey.MEMBER_DAY: ("day", "multiplier", "hour", "offer", "tier", "holdout"),
    Journey.FIRST_ORDER: ("offer", "holdout"),
    Journey.REPURCHASE: ("after", "offer", "holdout"),
    Journey.REFERRAL: ("offer", "holdout"),
    Journey.NUDGE: ("after", "holdout"),
}

EXAMPLES = {
    "offer": "12",
    "holdout": "10",
    "audience": "winback",
    "window": "90",
    "second": "7",
    "second_offer": "13",
    "after": "30",
    "day": "15 (1-28) / sat",
    "multiplier": "2",
    "hour": "10",
    "tier": "VIP",
}


class JourneyBook(BaseModel):
    """A group's journeys, as chats.journeys stores them (absent: off, defaults)."""

    model_config = {"frozen": True}

    journeys: dict[Journey, JourneySettings] = Field(default_factory=dict)

    def get(self, journey: Journey) -> JourneySettings:
        return self.journeys.get(journey, JourneySettings())

    def with_(self, journey: Journey, settings: JourneySettings) -> JourneyBook:
        return JourneyBook(journeys={**self.journeys, journey: settings})

    @property
    def running(self) -> list[Journey]:
        return [j for j in Journey if self.get(j).on]

    def after(self, journey: Journey) -> int:
        """The journey's day count: as set, else its default."""
        return self.get(journey).after or DEFAULT_AFTER.get(journey, 1)


NO_JOURNEYS = JourneyBook()


def book_to_json(book: JourneyBook) -> dict[str, Any] | None:
    """How chats.journeys stores a book; None for the default (nothing set)."""
    if not book.journeys:
        return None
    return book.model_dump(mode="json", exclude_defaults=True) or None


def book_from_json(data: dict[str, Any] | None) -> JourneyBook:
    """A stored book; nothing stored, or a value no longer valid, is every journey off."""
    if not data:
        return NO_JOURNEYS
    try:
        return JourneyBook.model_validate(data)
    except ValidationError:
        return NO_JOURNEYS


class JourneyProblem(StrEnum):
    UNKNOWN_JOURNEY = "unknown_journey"  # `value`: what was typed
    UNKNOWN_KEY = "unknown_key"  # `value`: the key; `choices`: the journey's keys
    BAD_VALUE = "bad_value"  # `value`: the key; `example`: a valid value
    MISSING_DAY = "missing_day"  # member day switched on before its day was set
    UNKNOWN_OFFER = "unknown_offer"  # `value`: the offer id, not a live offer of this group
    UNKNOWN_AUDIENCE = "unknown_audience"  # `value`: no saved audience by that name
    WINDOW_TOO_SHORT = "window_too_short"  # `value`: the days a member must be idle first
    UNKNOWN_TIER = "unknown_tier"  # `value`: no tier by that name; `choices`: the ladder's


@dataclass
class JourneyRefused(DomainError):
    problem: JourneyProblem
    value: str = ""
    choices: tuple[str, ...] = ()
    example: str = ""

    def __str__(self) -> str:
        return f"{self.problem}: {self.value}"


def parse_journey(word: str) -> Journey:
    """A journey's name as typed (`winback`, `member-day`, `member_day`)."""
    name = word.strip().casefold().replace("-", "_")
    try:
        return Journey(name)
    except ValueError:
        raise JourneyRefused(JourneyProblem.UNKNOWN_JOURNEY, word[:40]) from None


def parse_day(raw: str) -> str:
    """A member day: a day of the month 1–28 (every month has it) or a weekday."""
    word = raw.strip().casefold()
    if word in WEEKDAYS:
        return word
    chinese = raw.strip().replace("星期", "周").replace("礼拜", "周").replace("周天", "周日")
    if chinese in WEEKDAYS_ZH:
        return WEEKDAYS[WEEKDAYS_ZH.index(chinese)]
    number = read_int(word.removesuffix("号").removesuffix("日"))  # ValueError on the rest
    if not 1 <= number <= 28:
        raise ValueError("a day of the month from 1 to 28")
    return str(number)


def _value(key: str, raw: str) -> object:
    """One typed value for `key`; ValueError when it is not one."""
    word = raw.strip().casefold()
    if key in {"offer", "second_offer", "audience", "tier"} and word in {"none", "off", "-", "无"}:
        return None
    if key == "tier":
        return raw.strip()
    if key == "audience":
        if word == "dormant":
            return None
        return raw.strip()
    if key == "day":
        return parse_day(raw)
    if key == "multiplier":
        value = float(word.strip("x×").removesuffix("倍"))
        if value != value or not (value == 1 or value >= 1.1):  # NaN, or too close to 1
            raise ValueError("1, or from 1.1")
        return round(value, 2)
    return read_int(word.removesuffix("%").removesuffix("d").removesuffix("天"))


def apply_journey_setting(book: JourneyBook, journey: Journey, key: str, raw: str) -> JourneyBook:
    """`/journey set <journey> <key> <value>`: the book with it changed, or JourneyRefused
    (nothing changed). Whether an offer or audience exists is the use case's to check."""
    key = key.strip().casefold()
    if key not in KEYS[journey]:
        raise JourneyRefused(JourneyProblem.UNKNOWN_KEY, key[:40], KEYS[journey])
    bad = JourneyRefused(JourneyProblem.BAD_VALUE, key, example=EXAMPLES[key])
    try:
        value = _value(key, raw)
        current = book.get(journey).model_dump()
        current[key] = value
        changed = JourneySettings.model_validate(current)
    except (ValueError, ValidationError, OverflowError):
        raise bad from None
    return book.with_(journey, changed)


def switched(book: JourneyBook, journey: Journey, on: bool, at: dt.datetime) -> JourneyBook:
    """On (from `at`) or off; a member day needs its day first."""
    current = book.get(journey)
    if on and journey is Journey.MEMBER_DAY and current.day is None:
        raise JourneyRefused(JourneyProblem.MISSING_DAY, example=EXAMPLES["day"])
    if current.on == on:
        return book
    return book.with_(journey, current.model_copy(update={"on": on, "since": at if on else None}))


def in_holdout(chat_pk: int, user_id: int, journey: Journey, share: int, period: str = "") -> bool:
    """Whether the member is in the journey's holdout: a hash every process computes alike,
    uniform over members, stable while the share stays (a member never switches arm within a
    `period`; see `holdout_period`)."""
    if share <= 0:
        return False
    # The draw predates campaigns/experiments.py's `assign` (which hashes "key:member"): the
    # text stays as it was so that nobody already drawn moves arm.
    bucket = draw(f"{chat_pk}:{user_id}:{journey}:{period}")
    return pick(bucket, {True: min(share, 100), False: 100 - min(share, 100)})


def holdout_period(journey: Journey, episode: str) -> str:
    """What a holdout is drawn for. A recurring benefit draws anew each year (birthday) or
    month (member day), so nobody is left out of it for good; the other journeys keep one
    draw per member, for a clean comparison."""
    if journey is Journey.BIRTHDAY:
        return episode  # the year
    if journey is Journey.MEMBER_DAY:
        return episode[:7]  # the month of the date
    return ""


def episode_of_spell(last_active: dt.datetime | None) -> str:
    """A win-back's episode: the spell of inactivity, named by the last activity before it
    (activity again starts a new spell, so a member drifting off twice is won back twice)."""
    if last_active is None:
        return "never"
    return last_active.astimezone(dt.UTC).strftime("%Y%m%dT%H%M%S")


def is_member_day(day_setting: str | None, day: dt.date) -> bool:
    """Whether `day` (a local date) is the group's member day."""
    if day_setting is None:
        return False
    if day_setting in WEEKDAYS:
        return day.weekday() == WEEKDAYS.index(day_setting)
    return day_setting.isdigit() and day.day == int(day_setting)


def configured(
    book: JourneyBook, entries: dict[str, dict[Any, object]], at: dt.datetime
) -> tuple[JourneyBook, list[tuple[Journey, str]]]:
    """A calendar file's `journeys:` (`winback: {on: true, offer: 12}`) applied as the
    `/journey` commands would be, settings before the switch; JourneyRefused for the first bad
    entry (nothing is stored then). Also the (journey, key) pairs set, for the checks that
    need the database (offers, audiences)."""
    keys: list[tuple[Journey, str]] = []
    for name, values in entries.items():
        journey = parse_journey(str(name))
        switch = None
        for key, value in values.items():
            if key is True or str(key).casefold() == "on":  # YAML 1.1 reads `on:` as true
                switch = _switch(value)
                continue
            if key is False or str(key).casefold() == "off":  # and `off:` as false
                switch = not _switch(value)
                continue
            book = apply_journey_setting(book, journey, str(key), _text(str(key), value))
            keys.append((journey, str(key).casefold()))
        if switch is not None:
            book = switched(book, journey, switch, at)
    return book, keys


def journey_entries(book: JourneyBook) -> dict[str, dict[str, object]]:
    """The book as a calendar file's `journeys:` says it, every key of each journey the group
    ever set, so that `configured` on any group gives back these settings (a calendar export
    imports back to the same journeys; `since` is the import's own moment)."""
    entries: dict[str, dict[str, object]] = {}
    for journey, settings in sorted(book.journeys.items()):
        entry: dict[str, object] = {"on": settings.on}
        for key in KEYS[journey]:
            value = book.after(journey) if key == "after" else getattr(settings, key)
            if key == "day" and value is None:
                continue  # no day yet: the member day cannot be on, and nothing to say
            entry[key] = value
        entries[str(journey)] = entry
    return entries


def _text(key: str, value: object) -> str:
    """A YAML value as it would be typed; a yes/no where a number or name belongs is refused
    (YAML reads `yes`, `on` and `true` as booleans)."""
    if value is None:
        return "none"
    if isinstance(value, bool):
        raise JourneyRefused(JourneyProblem.BAD_VALUE, key[:40], example=EXAMPLES.get(key, ""))
    return str(value)


def _switch(value: object) -> bool:
    if isinstance(value, bool):
        return value
    word = str(value).casefold()
    if word in {"on", "yes", "true", "1", "开", "开启"}:
        return True
    if word in {"off", "no", "false", "0", "关", "关闭"}:
        return False
    raise JourneyRefused(JourneyProblem.BAD_VALUE, "on", example="true")


def member_day_multiplier(book: JourneyBook, at: dt.datetime, timezone: str) -> float:
    """The member day's points multiplier for a check-in or order at `at`: the journey's
    when it is on, was on by then (an order imported from before it was switched on earns
    nothing extra) and `at` falls on its day in the group's timezone; else 1."""
    settings = book.get(Journey.MEMBER_DAY)
    if not settings.on or settings.since is None or at < settings.since:
        return 1.0
    day = at.astimezone(ZoneInfo(timezone)).date()
    return settings.multiplier if is_member_day(settings.day, day) else 1.0


def on_member_day(points: int, multiplier: float) -> int:
    """Check-in or order points after the member day's multiplier, rounded down (never below).

    The one place the two multipliers compose: the tier's first (campaigns/tiers.py
    `multiplied`), then the member day's on that result, so a ×1.5 tier on a ×2 member day
    earns ×3 (each step rounded down)."""
    return max(points, times(points, multiplier))


def times(points: int, multiplier: float) -> int:
    """`points` × `multiplier` rounded down, in decimal: ×2.3 on 100 is 230 (binary floats
    make it 229.99… and cost the member a point)."""
    return int(Decimal(points) * Decimal(str(multiplier)))
