"""Invite-referral rules: who gets credit for a join, when it counts, and which tiers it earns.

An invite is judged once, when the join happens (fraud checks), and confirmed later, when
the hold period has passed and the invitee is still there and has been active.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
from dataclasses import dataclass, field, replace
from enum import StrEnum
from zoneinfo import ZoneInfo

from campaigns.content import cut_units
from campaigns.errors import InvalidSetting
from campaigns.numbers import read_int

BURST_WINDOW = dt.timedelta(minutes=10)
LINK_NAME_LIMIT = 32  # Telegram's limit for an invite link's name
TITLE_LIMIT = 32
CODE_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no look-alikes: deep links get typed too
CODE_LENGTH = 8
DEEP_LINK_PREFIX = "ref_"
_NAME_OWNER = re.compile(r"^r(\d{1,20})\b")
_COUPON = re.compile(r"coupon\d{1,18}")


class Source(StrEnum):
    """How a new member came in."""

    MEMBER_LINK = "member_link"
    DEEP_LINK = "deep_link"
    JOIN_REQUEST = "join_request"
    OTHER_LINK = "other_link"
    ORGANIC = "organic"


ATTRIBUTED = frozenset({Source.MEMBER_LINK, Source.DEEP_LINK, Source.JOIN_REQUEST})


class InviteStatus(StrEnum):
    PENDING = "pending"
    CONFIRMED = "confirmed"
    LEFT = "left"
    REJECTED = "rejected"
    ORGANIC = "organic"  # a join nobody is credited for


class RejectReason(StrEnum):
    SELF_INVITE = "self_invite"
    ALREADY_MEMBER = "already_member"
    REJOIN = "rejoin"
    BOT = "bot"
    BURST = "burst"
    QUALITY = "quality"


@dataclass(frozen=True)
class Reward:
    """One thing a tier grants. `kind` picks the issuer: points and title today, coupons later."""

    kind: str
    amount: int = 0
    title: str | None = None


@dataclass(frozen=True)
class Tier:
    """Reached at `invites` confirmed invites; granted once per member."""

    invites: int
    rewards: tuple[Reward, ...]

    @property
    def points(self) -> int:
        return sum(r.amount for r in self.rewards if r.kind == "points")

    @property
    def title(self) -> str | None:
        return next((r.title for r in self.rewards if r.kind == "title"), None)


def _default_tiers() -> tuple[Tier, ...]:
    return (Tier(3, (Reward("points", 50),)), Tier(5, (Reward("points", 200),)))


@dataclass(frozen=True)
class ReferralProgram:
    """A group's referral settings, changed with `/referral set <key> <value>`."""

    hold_hours: int = 24
    require_activity: bool = True
    tiers: tuple[Tier, ...] = field(default_factory=_default_tiers)
    burst: int = 10  # joins through one link per BURST_WINDOW before further joins are rejected
    announce: bool = True
    clawback_days: int = 0
    approval: bool = False  # member links ask to join; the bot approves and greets
    first_order: int = 0  # points for the inviter when a credited friend first orders (好友首单)

    @property
    def hold(self) -> dt.timedelta:
        return dt.timedelta(hours=self.hold_hours)

    def as_pairs(self) -> list[tuple[str, str]]:
        """Settings as they are typed in `/referral set`."""
        return [
            ("hold", str(self.hold_hours)),
            ("activity", _on_off(self.require_activity)),
            ("tiers", format_tiers(self.tiers)),
            ("burst", str(self.burst)),
            ("announce", _on_off(self.announce)),
            ("clawback", str(self.clawback_days)),
            ("approval", _on_off(self.approval)),
            ("first_order", str(self.first_order)),
        ]

    def to_json(self) -> dict[str, object]:
        return dict(self.as_pairs())

    @classmethod
    def from_json(cls, data: dict[str, object] | None) -> ReferralProgram:
        """Stored settings; keys added in later versions fall back to defaults."""
        program = cls()
        for key, value in (data or {}).items():
            if key in PROGRAM_EXAMPLES:
                program = apply_program_setting(program, key, str(value))
        return program


def _on_off(value: bool) -> str:
    return "on" if value else "off"


PROGRAM_EXAMPLES = {
    "hold": "24",
    "activity": "on",
    "tiers": "3:50,5:200:Ambassador",
    "burst": "10",
    "announce": "on",
    "clawback": "7",
    "approval": "off",
    "first_order": "100",
}


def _bad(key: str, reason: str) -> InvalidSetting:
    return InvalidSetting(key=key, reason=reason, example=PROGRAM_EXAMPLES.get(key, ""))


def _int(key: str, raw: str, low: int, high: int) -> int:
    try:
        value = read_int(raw)
    except ValueError:
        raise _bad(key, "not_a_number") from None
    if not low <= value <= high:
        raise _bad(key, "out_of_range")
    return value


def _flag(key: str, raw: str) -> bool:
    value = raw.strip().lower()
    if value in {"on", "yes", "true", "1", "开", "开启"}:
        return True
    if value in {"off", "no", "false", "0", "关", "关闭"}:
        return False
    raise _bad(key, "not_on_off")


def format_tiers(tiers: tuple[Tier, ...]) -> str:
    """Tiers as typed: `3:50,5:200:Ambassador:coupon12`; `none` when there are none."""
    if not tiers:
        return "none"
    parts = []
    for tier in tiers:
        text = f"{tier.invites}:{tier.points}"
        if tier.title:
            text += f":{tier.title}"
        text += "".join(f":coupon{r.amount}" for r in tier.rewards if r.kind == "coupon")
        parts.append(text)
    return ",".join(parts)


def parse_tiers(raw: str) -> tuple[Tier, ...]:
    """`3:50,5:200:Ambassador:coupon12` -> tiers at 3 and 5 confirmed invites.

    After the count come the points, then optionally a title and `coupon<offer id>`.
    """
    if raw.strip().lower() in {"none", "off", "-"}:
        return ()
    tiers: dict[int, Tier] = {}
    for part in raw.replace("，", ",").replace("：", ":").split(","):
        count_text, sep, rest = part.strip().partition(":")
        points_text, _, extra = rest.partition(":")
        if not sep:
            raise _bad("tiers", "bad_format")
        try:
            count, points = read_int(count_text), read_int(points_text)
        except ValueError:
            raise _bad("tiers", "bad_format") from None
        coupons = [
            int(token.strip()[6:])
            for token in extra.split(":")
            if _COUPON.fullmatch(token.strip().lower())
        ]
        titles = [
            t.strip()
            for t in extra.split(":")
            if t.strip() and not _COUPON.fullmatch(t.strip().lower())
        ]
        if len(titles) > 1:
            raise _bad("tiers", "bad_format")
        title = titles[0] if titles else ""
        if not (1 <= count <= 10_000 and 0 <= points <= 1_000_000) or len(title) > TITLE_LIMIT:
            raise _bad("tiers", "out_of_range")
        rewards = [Reward("points", points)] if points else []
        if title:
            rewards.append(Reward("title", title=title))
        rewards += [Reward("coupon", offer) for offer in coupons]
        if not rewards:
            raise _bad("tiers", "empty_tier")
        tiers[count] = Tier(count, tuple(rewards))
    return tuple(tiers[count] for count in sorted(tiers))


def apply_program_setting(program: ReferralProgram, key: str, raw: str) -> ReferralProgram:
    """Validate one `/referral set`; InvalidSetting names what is wrong."""
    key, raw = key.strip().lower(), raw.strip()
    if key not in PROGRAM_EXAMPLES:
        raise InvalidSetting(key=key, reason="unknown_key", example=", ".join(PROGRAM_EXAMPLES))
    if not raw:
        raise _bad(key, "missing_value")
    if key == "hold":
        return replace(program, hold_hours=_int(key, raw, 0, 24 * 90))
    if key == "activity":
        return replace(program, require_activity=_flag(key, raw))
    if key == "tiers":
        return replace(program, tiers=parse_tiers(raw))
    if key == "burst":
        return replace(program, burst=_int(key, raw, 0, 10_000))
    if key == "announce":
        return replace(program, announce=_flag(key, raw))
    if key == "clawback":
        return replace(program, clawback_days=_int(key, raw, 0, 365))
    if key == "first_order":
        return replace(program, first_order=_int(key, raw, 0, 1_000_000))
    return replace(program, approval=_flag(key, raw))


# -- links and codes -------------------------------------------------------------------------


def link_name(owner_id: int, display_name: str) -> str:
    """The invite link's name: the owner's id first, so attribution survives truncation
    (cut as Telegram counts: an emoji in the name is two of its 32)."""
    return cut_units(f"r{owner_id} {display_name}", LINK_NAME_LIMIT).rstrip()


def owner_from_name(name: str | None) -> int | None:
    """The member a link was made for, read back from its name (see link_name)."""
    match = _NAME_OWNER.match(name or "")
    return int(match.group(1)) if match else None


def new_code() -> str:
    """A random referral code for deep links (`?start=ref_<code>`)."""
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def code_from_start(payload: str | None) -> str | None:
    """The referral code in a /start payload, if it is one."""
    if not payload or not payload.startswith(DEEP_LINK_PREFIX):
        return None
    code = payload[len(DEEP_LINK_PREFIX) :].lower()
    if len(code) != CODE_LENGTH or any(ch not in CODE_ALPHABET for ch in code):
        return None
    return code


# -- judging a join --------------------------------------------------------------------------


@dataclass(frozen=True)
class JoinFacts:
    """What is known about a join when it happens."""

    invitee_id: int
    inviter_id: int | None
    is_bot: bool = False
    already_present: bool = False
    former_member: bool = False
    recent_joins_via_link: int = 0  # before this one, within BURST_WINDOW


def judge_join(
    facts: JoinFacts, program: ReferralProgram
) -> tuple[InviteStatus, RejectReason | None]:
    """The status a join starts in; a rejected invite records the first reason that applies."""
    if facts.inviter_id is None:
        return InviteStatus.ORGANIC, None
    if facts.is_bot:
        return InviteStatus.REJECTED, RejectReason.BOT
    if facts.inviter_id == facts.invitee_id:
        return InviteStatus.REJECTED, RejectReason.SELF_INVITE
    if facts.already_present:
        return InviteStatus.REJECTED, RejectReason.ALREADY_MEMBER
    if facts.former_member:
        return InviteStatus.REJECTED, RejectReason.REJOIN
    if program.burst and facts.recent_joins_via_link >= program.burst:
        return InviteStatus.REJECTED, RejectReason.BURST
    return InviteStatus.PENDING, None


def confirmable(
    *,
    joined_at: dt.datetime,
    present: bool,
    last_active_at: dt.datetime | None,
    now: dt.datetime,
    program: ReferralProgram,
    captcha_pending: bool = False,
) -> bool:
    """A pending invite counts once the hold has passed, the invitee stayed and (if asked) spoke,
    and has passed the group's join captcha (a pending captcha holds it; a failed one rejects
    it for `quality`, see rejected_by_captcha).

    The one rule: the sweep's SQL only pre-filters for it (`confirmable_prefilter`).
    """
    if captcha_pending or not present or now < joined_at + program.hold:
        return False
    return not program.require_activity or (
        last_active_at is not None and last_active_at >= joined_at
    )


def rejected_by_captcha(status: InviteStatus) -> tuple[InviteStatus, RejectReason] | None:
    """A failed or timed-out captcha: an invite still pending is rejected for quality; any
    other status (organic, already decided) is left alone."""
    if status is not InviteStatus.PENDING:
        return None
    return InviteStatus.REJECTED, RejectReason.QUALITY


def status_after_leave(
    status: InviteStatus,
    *,
    confirmed_at: dt.datetime | None,
    left_at: dt.datetime,
    program: ReferralProgram,
) -> InviteStatus | None:
    """A pending invite whose invitee leaves is `left`; a confirmed one stays (unless clawback)."""
    if status is InviteStatus.PENDING:
        return InviteStatus.LEFT
    if (
        status is InviteStatus.CONFIRMED
        and program.clawback_days
        and confirmed_at is not None
        and left_at - confirmed_at <= dt.timedelta(days=program.clawback_days)
    ):
        return InviteStatus.LEFT
    return None


# -- tiers -----------------------------------------------------------------------------------


def tiers_due(confirmed: int, program: ReferralProgram, granted: set[int]) -> list[Tier]:
    """Tiers the member has reached and not been granted yet."""
    return [t for t in program.tiers if t.invites <= confirmed and t.invites not in granted]


def tiers_lost(confirmed: int, program: ReferralProgram, granted: set[int]) -> list[Tier]:
    """Granted tiers the member has fallen below (only used when clawback is on)."""
    return [t for t in program.tiers if t.invites > confirmed and t.invites in granted]


def next_tier(confirmed: int, program: ReferralProgram) -> Tier | None:
    return next((t for t in program.tiers if t.invites > confirmed), None)


# -- periods and the report ------------------------------------------------------------------

PERIODS = ("week", "month", "all")


def period_start(period: str, now: dt.datetime, timezone: str) -> dt.datetime | None:
    """Start of this local week (Monday) or month; None for all time."""
    if period == "all":
        return None
    local = now.astimezone(ZoneInfo(timezone))
    day = local.date()
    if period == "week":
        day -= dt.timedelta(days=day.weekday())
    else:
        day = day.replace(day=1)
    start = dt.datetime.combine(day, dt.time(), tzinfo=ZoneInfo(timezone))
    return start.astimezone(dt.UTC)


@dataclass(frozen=True)
class InviteCounts:
    """One member's invites by status."""

    confirmed: int = 0
    pending: int = 0
    left: int = 0
    rejected: int = 0

    @classmethod
    def of(cls, by_status: dict[str, int]) -> InviteCounts:
        return cls(
            confirmed=by_status.get(InviteStatus.CONFIRMED, 0),
            pending=by_status.get(InviteStatus.PENDING, 0),
            left=by_status.get(InviteStatus.LEFT, 0),
            rejected=by_status.get(InviteStatus.REJECTED, 0),
        )


@dataclass(frozen=True)
class ReportNumbers:
    """Raw counts for a period; the report's ratios are derived here, not in SQL."""

    joins_by_source: dict[str, int]
    new_members: int
    status_of_attributed: dict[str, int]
    members_at_start: int

    @property
    def joins(self) -> int:
        return sum(self.joins_by_source.values())

    @property
    def referred(self) -> int:
        """Attributed joins that were not rejected (裂变用户)."""
        attributed = sum(self.status_of_attributed.values())
        return attributed - self.status_of_attributed.get(InviteStatus.REJECTED, 0)

    @property
    def referral_share(self) -> float:
        """Referred members among new ones (re-joins are not new, and are never credited)."""
        return self.referred / self.new_members if self.new_members else 0.0

    @property
    def confirmed(self) -> int:
        return self.status_of_attributed.get(InviteStatus.CONFIRMED, 0)

    @property
    def confirmation_rate(self) -> float:
        """Confirmed among attributed joins that are decided (not pending any more)."""
        decided = sum(n for s, n in self.status_of_attributed.items() if s != InviteStatus.PENDING)
        return self.confirmed / decided if decided else 0.0

    @property
    def k_factor(self) -> float:
        """Confirmed referred members per member present at the start of the period."""
        return self.confirmed / self.members_at_start if self.members_at_start else 0.0
