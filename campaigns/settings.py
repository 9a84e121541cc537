"""Per-group settings and the validation behind `/set <key> <value>`."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from campaigns.checkin import CheckinRules
from campaigns.errors import InvalidSetting
from campaigns.journeys import NO_JOURNEYS, JourneyBook
from campaigns.listening import EXAMPLES as LISTEN_EXAMPLES
from campaigns.listening import ListenSettings, apply_listen_setting
from campaigns.moderation import (
    DEFAULT_MODERATION,
    MODERATION_EXAMPLES,
    ModerationRules,
    apply_moderation_setting,
)
from campaigns.numbers import read_int
from campaigns.referral import ReferralProgram, apply_program_setting
from campaigns.tiers import DEFAULT_LADDER, TierLadder, parse_ladder, with_option

LANGUAGES = ("zh", "en")
MAX_POINTS = 10_000

EXAMPLES = {
    "timezone": "Asia/Shanghai",
    "language": "zh",
    "checkin_points": "10",
    "streak_bonus": "1",
    "streak_bonus_max": "5",
    "milestones": "7:5,30:20",
    "order_points": "1",
    "milestone_coupons": "7:12",
    "points_expiry_months": "12",
    **MODERATION_EXAMPLES,  # anti-spam, flood control and warnings (campaigns/moderation.py)
    **LISTEN_EXAMPLES,  # watch_alerts, faq_replies, faq_cooldown
}
MAX_EXPIRY_MONTHS = 120
SETTING_KEYS = tuple(EXAMPLES)


@dataclass(frozen=True)
class ChatSettings:
    """Everything an admin can change about a group."""

    timezone: str = "UTC"
    language: str = "en"
    checkin: CheckinRules = field(default_factory=CheckinRules)
    referral: ReferralProgram = field(default_factory=ReferralProgram)
    order_points: int = 0  # points per whole major unit of an order (0: off)
    tiers: TierLadder = DEFAULT_LADDER  # membership tiers (会员等级), set with /tier setup
    journeys: JourneyBook = NO_JOURNEYS  # automations, set with /journey
    points_expiry_months: int = 0  # points expire this many months after earned (0: never)
    # No points expire before this local day: set when expiry is turned on or shortened
    # (campaigns.shop.with_expiry_grace), so members are told before anything goes.
    points_expire_from: dt.date | None = None
    moderation: ModerationRules = DEFAULT_MODERATION  # anti-spam, flood control, warnings
    listening: ListenSettings = field(default_factory=ListenSettings)  # watch words, FAQ

    def __post_init__(self) -> None:
        # The default tier names in the group's language, here once for every reader.
        object.__setattr__(self, "tiers", self.tiers.in_language(self.language))

    def as_pairs(self) -> list[tuple[str, str]]:
        """Settings as they are typed in `/set`, in a stable order."""
        return [
            ("timezone", self.timezone),
            ("language", self.language),
            ("checkin_points", str(self.checkin.points)),
            ("streak_bonus", str(self.checkin.streak_bonus)),
            ("streak_bonus_max", str(self.checkin.streak_bonus_max)),
            ("milestones", format_milestones(self.checkin.milestones)),
            ("order_points", str(self.order_points)),
            ("milestone_coupons", format_milestones(self.checkin.milestone_coupons)),
            ("points_expiry_months", str(self.points_expiry_months)),
            *self.moderation.as_pairs(),
            *self.listening.pairs(),
        ]


def format_milestones(milestones: dict[int, int]) -> str:
    """`{7: 5, 30: 20}` -> `7:5,30:20`; `none` when empty."""
    if not milestones:
        return "none"
    return ",".join(f"{day}:{points}" for day, points in sorted(milestones.items()))


def language_for(code: str | None, default: str = "en") -> str:
    """Telegram language_code to a supported language: zh* is Chinese, anything else English."""
    if code is None:
        return default
    return "zh" if code.lower().startswith("zh") else "en"


def _invalid(key: str, reason: str) -> InvalidSetting:
    return InvalidSetting(key=key, reason=reason, example=EXAMPLES.get(key, ""))


def _points(key: str, raw: str) -> int:
    try:
        value = read_int(raw)
    except ValueError:
        raise _invalid(key, "not_a_number") from None
    if not 0 <= value <= MAX_POINTS:
        raise _invalid(key, "out_of_range")
    return value


@cache
def _zones() -> frozenset[str]:
    return frozenset(available_timezones())


def known_timezone(name: str) -> bool:
    """An IANA zone name this machine's tz database has. The set is read once: listing it
    walks the database's files (about 20 ms), which every check used to do."""
    return name in _zones()


def _timezone(raw: str) -> str:
    if not known_timezone(raw):
        raise _invalid("timezone", "unknown_timezone")
    try:
        ZoneInfo(raw)
    except (ZoneInfoNotFoundError, ValueError):
        raise _invalid("timezone", "unknown_timezone") from None
    return raw


def parse_milestones(raw: str, key: str = "milestones", low: int = 0) -> dict[int, int]:
    """`7:5,30:20` -> {7: 5, 30: 20} (streak day: points, or offer id); `none` clears them."""
    if raw.strip().lower() in {"none", "off", "0", "-"}:
        return {}
    result: dict[int, int] = {}
    for part in raw.replace("，", ",").split(","):
        day_text, sep, value_text = part.strip().partition(":")
        if not sep:
            raise _invalid(key, "bad_format")
        try:
            day, value = read_int(day_text), read_int(value_text)
        except ValueError:
            raise _invalid(key, "bad_format") from None
        high = MAX_POINTS if key == "milestones" else 10**18
        if not (2 <= day <= 3650 and low <= value <= high):
            raise _invalid(key, "out_of_range")
        if day in result:  # `7:5,7:10` kept the last: which one was meant?
            raise _invalid(key, "duplicate_day")
        result[day] = value
    return result


def setting_key(typed: str) -> str:
    """A setting's key as typed (`/set Language`, a form's ` language `), as stored."""
    return typed.strip().lower()


def apply_setting(settings: ChatSettings, key: str, raw: str) -> ChatSettings:
    """Validate one `/set` and return the new settings; InvalidSetting names what is wrong."""
    key = setting_key(key)
    raw = raw.strip()
    if key not in EXAMPLES:
        raise InvalidSetting(key=key, reason="unknown_key", example=", ".join(SETTING_KEYS))
    if not raw:
        raise _invalid(key, "missing_value")
    if key in MODERATION_EXAMPLES:
        return replace(settings, moderation=apply_moderation_setting(settings.moderation, key, raw))
    rules = settings.checkin
    if key in LISTEN_EXAMPLES:
        return replace(settings, listening=apply_listen_setting(settings.listening, key, raw))
    if key == "timezone":
        return replace(settings, timezone=_timezone(raw))
    if key == "milestone_coupons":
        coupons = parse_milestones(raw, key, low=1)
        return replace(settings, checkin=replace(settings.checkin, milestone_coupons=coupons))
    if key == "order_points":
        value = _points(key, raw)
        if value > 100:
            raise _invalid(key, "out_of_range")
        return replace(settings, order_points=value)
    if key == "points_expiry_months":
        months = _points(key, raw)
        if months > MAX_EXPIRY_MONTHS:
            raise _invalid(key, "out_of_range")
        return replace(settings, points_expiry_months=months)
    if key == "language":
        if raw.lower() not in LANGUAGES:
            raise _invalid(key, "unknown_language")
        return replace(settings, language=raw.lower())
    if key == "checkin_points":
        rules = replace(rules, points=_points(key, raw))
    elif key == "streak_bonus":
        rules = replace(rules, streak_bonus=_points(key, raw))
    elif key == "streak_bonus_max":
        rules = replace(rules, streak_bonus_max=_points(key, raw))
    else:
        rules = replace(rules, milestones=parse_milestones(raw))
    return replace(settings, checkin=rules)


def apply_referral_setting(settings: ChatSettings, key: str, raw: str) -> ChatSettings:
    """Validate one `/referral set` and return the new settings."""
    return replace(settings, referral=apply_program_setting(settings.referral, key, raw))


TIER_KEYS = ("setup", "basis", "grace", "review", "reset")


def apply_tier_setting(settings: ChatSettings, key: str, raw: str) -> ChatSettings:
    """Validate one `/tier setup|basis|grace|review|reset` and return the new settings;
    LadderRefused (nothing changed) if it is not a valid ladder."""
    if key == "setup":
        return replace(settings, tiers=parse_ladder(raw, keep=settings.tiers))
    if key == "reset":
        return replace(settings, tiers=DEFAULT_LADDER)
    return replace(settings, tiers=with_option(settings.tiers, key, raw.strip()))


def utc(at: dt.datetime) -> dt.datetime:
    """Normalise an aware datetime to UTC (databases hand back either)."""
    if at.tzinfo is None:
        return at.replace(tzinfo=dt.UTC)
    return at.astimezone(dt.UTC)
