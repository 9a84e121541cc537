"""Campaigns (活动) and their 复盘: what a campaign is, how it is typed, and how its results
are counted, in plain Python.

A campaign is a run of whole local days of its group (the group's timezone), optionally cut
into phases (预热 warm-up / 爆发 peak / 收尾 wrap-up, or a calendar plan's own), with KPI
targets set up front, a budget, and the objects attached to it: offers (coupon templates),
group-buy deals (their coupons), scheduled posts, broadcasts, journeys, surveys and channels
(渠道: a channel is one placement, so it belongs to at most one campaign).

The 复盘 (`retro`) counts, from facts storage gathers:

- **targets**: each KPI of campaigns/stats.py over the campaign's days so far (the daily
  rollup, as /stats counts it), the achievement in percent, and while it runs the pace: the
  straight line from 0 at the start to the target at the end, for figures that add up day by
  day (counts and money; an average or a rate has no pace);
- **CSAT / NPS** targets: the score (campaigns/surveys.py) of every answer to the surveys of
  that kind attached to it, pooled (each member's answer to each survey once), whenever it
  was given: attaching says which surveys measure the campaign, so a survey run for
  something else never counts. Without an attached survey of that kind there is no value;
- **cost** = the discounts its coupons took off (coupons of its offers and deals, redeemed
  up to now) + the points its referral rewards granted in its days (tier and first-order
  rewards, less clawbacks) x the campaign's value of a point + the recorded costs of its
  channels' placements. Nothing else is counted: check-in and purchase points are the
  group's standing programme, not the campaign's;
- **attributed GMV**: orders placed from its start to `window` days after its end that used
  one of its coupons; else whose buyer is credited to one of its channels (campaigns/
  channels.py: first touch) by a join in its days, placed from that join on; else whose
  buyer it had reached at most `window` days before the order (a message of one of its
  broadcasts, a message of one of its journeys sent in its days, or one of its coupons
  issued to them); each order counted once, in the first of these that takes it;
- **channels**: each of its channels' figures (campaigns/channels.py) over the members it
  brought in the campaign's days, orders counted up to `window` days after its end;
- **ROI** = (attributed GMV - cost) / cost, none when nothing was spent;
- **top inviters**: invites confirmed in its days, per inviter;
- **response** to each of its broadcasts: recipients active in the group (a message or a
  check-in) within 3 days of their message (the funnels' rule); to each of its posts: the
  coupons claimed, in its days, from the offers the post's buttons name (posts naming one
  offer share its claims; a post without a coupon button has no measured response).
"""

from __future__ import annotations

import datetime as dt
import math
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from campaigns.channels import (
    Channel,
    ChannelFacts,
    ChannelInputError,
    ChannelStats,
    channel_figures,
    channel_name,
    credited,
)
from campaigns.coupons import AmountError, parse_amount
from campaigns.errors import DomainError
from campaigns.funnels import ACTIVE_WITHIN
from campaigns.referral import ReferralProgram
from campaigns.stats import (
    KIND,
    DayTotals,
    Kpi,
    KpiKind,
    Period,
    PeriodFacts,
    Value,
    checked_in,
    summed,
    values,
)
from campaigns.surveys import NPS_RANGE, RATED, Score, SurveyKind, SurveyResult, pooled

DEFAULT_POINT_VALUE = 1  # minor units per point: 100 points are worth ¥1
DEFAULT_WINDOW_DAYS = 7
MAX_WINDOW_DAYS = 30
MAX_DAYS = 366
MAX_TARGET = 10**12
# CSAT is the % of answers rated 4 or 5 stars. A target under 20% is no goal anybody sets;
# `csat 4` is an admin thinking of a 1-5 average, so it is refused with that explained.
MIN_CSAT_TARGET = 20
NAME_MAX = 64
TOP = 5  # inviters, broadcasts and posts a report lists
RESPONSE_WITHIN = ACTIVE_WITHIN  # a broadcast's recipient who is active within 3 days
PHASE_NAMES = ("预热", "爆发", "收尾")
NAME = re.compile(r"^[\w.:#&+-]{1,64}$")  # letters of any script, digits and a few marks


class CampaignStatus(StrEnum):
    """Stored: `active` until its 复盘 went out once, then `finished`."""

    ACTIVE = "active"
    FINISHED = "finished"


class Stage(StrEnum):
    """Where a campaign stands on a local day."""

    UPCOMING = "upcoming"
    RUNNING = "running"
    ENDED = "ended"


class AttachKind(StrEnum):
    OFFER = "offer"  # a coupon template: its coupons are the campaign's
    DEAL = "deal"  # a group-buy: the coupons of its completed teams
    POST = "post"  # a scheduled post
    BROADCAST = "broadcast"
    JOURNEY = "journey"  # by name: its messages sent in the campaign's days
    CHANNEL = "channel"  # by name, stored by link id: its joins in the campaign's days
    SURVEY = "survey"  # its answers score the campaign's CSAT or NPS target


class CampaignProblem(StrEnum):
    """Why a /campaign command was refused; texts say each with `value`."""

    USAGE = "usage"  # not a known verb, or missing words
    NAME = "name"  # not one word of letters, digits and . : # & + - _ (64 at most)
    DATE = "date"  # not YYYY-MM-DD or MM-DD
    ORDER = "order"  # ends before it starts
    LENGTH = "length"  # more than a year, or starting more than a year ago or ahead
    KPI = "kpi"  # not a KPI this bot counts
    VALUE = "value"  # a target that is not a number of the KPI's kind
    DUPLICATE = "duplicate"  # an option given twice
    BUDGET = "budget"  # not an amount
    POINT = "point"  # the value of a point: not an amount
    WINDOW = "window"  # attribution window outside 1-30 days
    PHASES = "phases"  # not 2 or 3 day counts adding up to the campaign's days
    KIND = "kind"  # attach: not offer, deal, post, broadcast, journey, survey or channel
    REF = "ref"  # attach: not an id (or a journey's or channel's name)
    CSAT_LOW = "csat_low"  # a CSAT target below MIN_CSAT_TARGET %: most likely a 1-5 average
    ID = "id"  # not a campaign id
    SCORE = "score"  # a CSAT target that is not a share in %, or an NPS not −100..100 (not 0)


@dataclass
class CampaignInputError(DomainError):
    """A /campaign command that means nothing; `value` is the offending word."""

    problem: CampaignProblem
    value: str = ""


@dataclass
class CampaignRefused(DomainError):
    """A well-formed command the group's state refuses."""

    reason: CampaignRefusal
    value: str = ""


class CampaignRefusal(StrEnum):
    UNKNOWN = "unknown"  # no such campaign in this group
    NAME_TAKEN = "name_taken"
    NOT_FOUND = "not_found"  # the object to attach is not this group's
    ATTACHED = "attached"  # attached already
    CHANNEL_TAKEN = "channel_taken"  # a channel attached to another campaign (`value`: its id)


@dataclass(frozen=True)
class Phase:
    name: str
    start: dt.date
    end: dt.date


@dataclass(frozen=True)
class Campaign:
    """The plan of a campaign: days, phases, targets (KPI -> count, minor units, or a 0-1
    ratio), budget (minor units), the value of one point (minor units) and the attribution
    window (days after reaching a member, or after the end, that an order still counts)."""

    name: str
    start: dt.date
    end: dt.date
    phases: tuple[Phase, ...] = ()
    targets: Mapping[Kpi, float] = field(default_factory=dict)
    budget: int = 0
    point_value: int = DEFAULT_POINT_VALUE
    window_days: int = DEFAULT_WINDOW_DAYS

    @property
    def period(self) -> Period:
        return Period(self.start, self.end)

    @property
    def days(self) -> int:
        return self.period.days

    def stage(self, today: dt.date) -> Stage:
        if today < self.start:
            return Stage.UPCOMING
        return Stage.RUNNING if today <= self.end else Stage.ENDED

    def phase_on(self, day: dt.date) -> Phase | None:
        return next((p for p in self.phases if p.start <= day <= p.end), None)

    def bounds(self, timezone: str) -> tuple[dt.datetime, dt.datetime]:
        """Its first instant and the instant after its last (local midnights, UTC)."""
        return self.period.bounds(timezone)

    def ended(self, now: dt.datetime, timezone: str) -> bool:
        """Its last local day is over."""
        return now >= self.bounds(timezone)[1]

    @property
    def window(self) -> dt.timedelta:
        return dt.timedelta(days=self.window_days)


# --- parsing ----------------------------------------------------------------------------

KPI_WORDS: dict[str, Kpi] = {
    **{k.value: k for k in Kpi},
    "new_members": Kpi.JOINS,
    "members_new": Kpi.JOINS,
    "新增": Kpi.JOINS,
    "新成员": Kpi.JOINS,
    "成员": Kpi.MEMBERS,
    "净增长": Kpi.NET_GROWTH,
    "日活": Kpi.DAU,
    "消息": Kpi.MESSAGES,
    "invites": Kpi.INVITES_CONFIRMED,
    "邀请": Kpi.INVITES_CONFIRMED,
    "邀请确认": Kpi.INVITES_CONFIRMED,
    "claims": Kpi.COUPONS_CLAIMED,
    "领券": Kpi.COUPONS_CLAIMED,
    "redemptions": Kpi.COUPONS_REDEEMED,
    "核销": Kpi.COUPONS_REDEEMED,
    "订单": Kpi.ORDERS,
    "客单价": Kpi.AOV,
    "复购率": Kpi.REPURCHASE_RATE,
    "满意度": Kpi.CSAT,
    "净推荐值": Kpi.NPS,
}
OPTIONS = ("budget", "point", "window", "phases")


def parse_kpi(word: str) -> Kpi:
    kpi = KPI_WORDS.get(_fold(word))
    if kpi is None:
        raise CampaignInputError(CampaignProblem.KPI, word[:32])
    return kpi


def _fold(word: str) -> str:
    return unicodedata.normalize("NFKC", word).strip().lower().replace("-", "_")


def parse_target_value(kpi: Kpi, raw: str) -> float:
    """A target as typed: counts whole, money in major units (`50000`, `¥50,000`), rates in
    percent (`30%` or `30`, CSAT too), averages as a number, NPS a whole number from −100 to
    100 (not 0, which is `off`). CampaignInputError(VALUE, or SCORE for CSAT and NPS)
    otherwise."""
    kind = KIND[kpi]
    text = unicodedata.normalize("NFKC", raw).strip()
    if kpi in (Kpi.CSAT, Kpi.NPS):
        return _score_target(kpi, text, raw)
    try:
        if kind is KpiKind.MONEY:
            return float(parse_amount(text))
        if kind is KpiKind.RATIO:
            pct = float(_number(text.removesuffix("%")))
            if not 0 < pct <= 100:
                raise ValueError(raw)
            return pct / 100
        number = _number(text)
        if kind is KpiKind.AVERAGE:
            if not 0 < number <= MAX_TARGET:
                raise ValueError(raw)
            return float(number)
        if number != int(number) or not 0 < number <= MAX_TARGET:
            raise ValueError(raw)
        return float(int(number))
    except (ValueError, AmountError):
        raise CampaignInputError(CampaignProblem.VALUE, raw[:32]) from None


def _score_target(kpi: Kpi, text: str, raw: str) -> float:
    """CSAT: a share in percent, MIN_CSAT_TARGET to 100 (0-1 stored, like every rate); NPS: a
    signed whole number."""
    try:
        if kpi is Kpi.CSAT:
            pct = float(_number(text.removesuffix("%")))
            if 0 < pct < MIN_CSAT_TARGET:
                raise CampaignInputError(CampaignProblem.CSAT_LOW, raw[:32])
            if not 0 < pct <= 100:
                raise ValueError(raw)
            return pct / 100
        sign, digits = (-1, text[1:]) if text[:1] in ("-", "−") else (1, text.removeprefix("+"))
        number = _number(digits)
        if number != int(number) or not number or sign * int(number) not in NPS_RANGE:
            raise ValueError(raw)
        return float(sign * int(number))
    except ValueError:
        raise CampaignInputError(CampaignProblem.SCORE, raw[:32]) from None


def _number(text: str) -> float:
    """Plain digits with an optional fraction: no `1e9`, `inf`, `nan` or `١٢`."""
    if not re.fullmatch(r"[0-9]{1,13}(\.[0-9]{1,4})?", text.replace(",", "")):
        raise ValueError(text)
    return float(text.replace(",", ""))


def parse_day(word: str, today: dt.date, after: dt.date | None = None) -> dt.date:
    """`2026-11-01`, or `11-01` (this year; for an end, the first such day from `after`)."""
    text = unicodedata.normalize("NFKC", word).strip().replace("/", "-")
    try:
        if re.fullmatch(r"[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}", text):
            year, month, day = map(int, text.split("-"))
            return dt.date(year, month, day)
        if re.fullmatch(r"[0-9]{1,2}-[0-9]{1,2}", text):
            month, day = map(int, text.split("-"))
            found = dt.date(today.year, month, day)
            if after is not None and found < after:
                found = dt.date(today.year + 1, month, day)
            return found
    except ValueError:
        pass
    raise CampaignInputError(CampaignProblem.DATE, word[:32])


def parse_id(word: str) -> int:
    text = word.strip().lstrip("#")
    if not (text.isascii() and text.isdigit()) or len(text) > 12 or int(text) == 0:
        raise CampaignInputError(CampaignProblem.ID, word[:32])
    return int(text)


def phases_by_days(spec: str, start: dt.date, end: dt.date) -> tuple[Phase, ...]:
    """`3/2/2`: 预热 the first 3 days, 爆发 the next 2, 收尾 the last 2 (2 or 3 parts that add
    up to the campaign's days; `3/4` is 预热 and 爆发 only)."""
    parts = spec.split("/")
    if not 2 <= len(parts) <= 3 or not all(p.isascii() and p.isdigit() and p for p in parts):
        raise CampaignInputError(CampaignProblem.PHASES, spec[:32])
    lengths = [int(p) for p in parts]
    if any(n < 1 for n in lengths) or sum(lengths) != (end - start).days + 1:
        raise CampaignInputError(CampaignProblem.PHASES, spec[:32])
    phases, day = [], start
    for name, n in zip(PHASE_NAMES, lengths, strict=False):
        phases.append(Phase(name, day, day + dt.timedelta(days=n - 1)))
        day += dt.timedelta(days=n)
    return tuple(phases)


def parse_new(words: Sequence[str], today: dt.date) -> Campaign:
    """`<name> <start> <end> [kpi=value …] [budget=amount] [point=amount] [window=days]
    [phases=3/2/2]`. CampaignInputError for anything else; nothing else is raised."""
    if len(words) < 3:
        raise CampaignInputError(CampaignProblem.USAGE)
    name = unicodedata.normalize("NFKC", words[0])
    if not NAME.fullmatch(name):
        raise CampaignInputError(CampaignProblem.NAME, words[0][:32])
    start = parse_day(words[1], today)
    end = parse_day(words[2], today, after=start)
    if end < start:
        raise CampaignInputError(CampaignProblem.ORDER, words[2][:32])
    if (end - start).days + 1 > MAX_DAYS or abs((today - start).days) > MAX_DAYS:
        raise CampaignInputError(CampaignProblem.LENGTH, words[2][:32])
    options: dict[str, str] = {}
    targets: dict[Kpi, float] = {}
    for word in words[3:]:
        key, sep, value = word.partition("=")
        if not sep or not value:
            raise CampaignInputError(CampaignProblem.USAGE, word[:32])
        folded = _fold(key)
        if folded in OPTIONS:
            if folded in options:
                raise CampaignInputError(CampaignProblem.DUPLICATE, key[:32])
            options[folded] = value
            continue
        kpi = parse_kpi(key)
        if kpi in targets:
            raise CampaignInputError(CampaignProblem.DUPLICATE, key[:32])
        targets[kpi] = parse_target_value(kpi, value)
    budget = _money(options.get("budget"), CampaignProblem.BUDGET, 0)
    point = _money(options.get("point"), CampaignProblem.POINT, DEFAULT_POINT_VALUE)
    window = options.get("window", str(DEFAULT_WINDOW_DAYS)).removesuffix("d")
    if not (window.isascii() and window.isdigit() and 1 <= int(window) <= MAX_WINDOW_DAYS):
        raise CampaignInputError(CampaignProblem.WINDOW, options.get("window", "")[:32])
    phases = phases_by_days(options["phases"], start, end) if "phases" in options else ()
    return Campaign(name, start, end, phases, targets, budget, point, int(window))


def _money(raw: str | None, problem: CampaignProblem, default: int) -> int:
    if raw is None:
        return default
    try:
        return parse_amount(unicodedata.normalize("NFKC", raw))
    except AmountError:
        raise CampaignInputError(problem, raw[:32]) from None


def parse_target(words: Sequence[str]) -> tuple[int, Kpi, float | None]:
    """`<id> <kpi> <value>`; the value `off` (or `0`) removes the target."""
    if len(words) != 3:
        raise CampaignInputError(CampaignProblem.USAGE)
    campaign_id, kpi = parse_id(words[0]), parse_kpi(words[1])
    if words[2].strip().lower() in {"off", "0", "-"}:
        return campaign_id, kpi, None
    return campaign_id, kpi, parse_target_value(kpi, words[2])


def parse_attach(words: Sequence[str]) -> tuple[int, AttachKind, str]:
    """`<id> offer|deal|post|broadcast|journey|channel <ref>`: an id, a journey's name, or
    a channel's name (the rest of the line: it may hold spaces)."""
    if len(words) < 3:
        raise CampaignInputError(CampaignProblem.USAGE)
    campaign_id = parse_id(words[0])
    try:
        kind = AttachKind(_fold(words[1]))
    except ValueError:
        raise CampaignInputError(CampaignProblem.KIND, words[1][:32]) from None
    if kind is AttachKind.CHANNEL:
        try:
            return campaign_id, kind, channel_name(" ".join(words[2:]))
        except ChannelInputError:
            raise CampaignInputError(CampaignProblem.REF, " ".join(words[2:])[:32]) from None
    if len(words) != 3:
        raise CampaignInputError(CampaignProblem.USAGE)
    if kind is AttachKind.JOURNEY:
        ref = _fold(words[2])
        if not re.fullmatch(r"[a-z_]{1,16}", ref):
            raise CampaignInputError(CampaignProblem.REF, words[2][:32])
        return campaign_id, kind, ref
    try:
        return campaign_id, kind, str(parse_id(words[2]))
    except CampaignInputError:
        raise CampaignInputError(CampaignProblem.REF, words[2][:32]) from None


def from_plan(
    name: str, dated: Iterable[tuple[str, dt.date]], start: dt.date | None, today: dt.date
) -> Campaign:
    """A campaign made by a calendar import: from the plan's start (else its first dated
    post) to its last dated post, each phase over its own posts' days."""
    days = sorted({day for _phase, day in dated})
    first = start or (days[0] if days else today)
    last = max([first, *days])
    spans: dict[str, tuple[dt.date, dt.date]] = {}
    for phase, day in dated:
        if not phase:
            continue
        lo, hi = spans.get(phase, (day, day))
        spans[phase] = (min(lo, day), max(hi, day))
    phases = tuple(Phase(n[:64], max(lo, first), hi) for n, (lo, hi) in spans.items())
    return Campaign(name[:NAME_MAX], first, last, phases)


# --- the 复盘 -----------------------------------------------------------------------------


class Pace(StrEnum):
    AHEAD = "ahead"
    ON = "on"
    BEHIND = "behind"


class ReachKind(StrEnum):
    BROADCAST = "broadcast"
    JOURNEY = "journey"
    COUPON = "coupon"
    CHANNEL = "channel"  # joined through one of its channels: orders from then on count


@dataclass(frozen=True)
class OrderFact:
    order_id: int
    user_id: int
    at: dt.datetime
    amount: int  # minor units
    codes: tuple[str, ...] = ()


@dataclass(frozen=True)
class CouponFact:
    """One coupon of the campaign's offers and deals."""

    code: str
    user_id: int
    issued_at: dt.datetime
    redeemed_at: dt.datetime | None = None
    discount: int = 0  # minor units, once redeemed


@dataclass(frozen=True)
class Reach:
    """A member the campaign reached, and when: a broadcast's or a journey's message sent."""

    user_id: int
    at: dt.datetime
    kind: ReachKind


@dataclass(frozen=True)
class Inviter:
    user_id: int
    name: str
    invites: int


@dataclass(frozen=True)
class Response:
    """A broadcast (recipients, those active within 3 days) or a post (runs sent, coupon
    claims from the offers its buttons name; None without a coupon button)."""

    kind: AttachKind
    object_id: int
    label: str  # the first line of its text (variant A's, for an A/B test)
    sent: int
    responded: int | None
    variants: int = 1  # a broadcast's A/B test: how many texts its members got

    @property
    def rate(self) -> float | None:
        if self.responded is None or not self.sent:
            return None
        return self.responded / self.sent


@dataclass(frozen=True)
class RetroFacts:
    """What storage gathers for one 复盘 (see the module's definitions)."""

    days: Sequence[DayTotals] = ()
    facts: PeriodFacts = field(default_factory=PeriodFacts)
    coupons: Sequence[CouponFact] = ()
    orders: Sequence[OrderFact] = ()
    reaches: Sequence[Reach] = ()
    referral_points: int = 0
    inviters: Sequence[Inviter] = ()
    responses: Sequence[Response] = ()
    channels: Sequence[Channel] = ()  # its channels
    channel_facts: ChannelFacts = field(default_factory=ChannelFacts)  # the group's
    surveys: Sequence[SurveyResult] = ()  # its attached surveys, with their answers


@dataclass(frozen=True)
class TargetLine:
    kpi: Kpi
    target: float
    actual: Value
    expected: float | None = None  # the straight-line pace's value by today (running only)
    answers: int | None = None  # CSAT / NPS: the answers scored; None: no such survey attached

    @property
    def achieved_pct(self) -> float | None:
        """Actual / target in percent; none for a target below zero (an NPS of −20), where
        a share of it means nothing."""
        if self.actual is None or self.target <= 0:
            return None
        return self.actual / self.target * 100

    @property
    def pace(self) -> Pace | None:
        if self.expected is None or self.actual is None:
            return None
        if self.actual > self.expected * 1.05:
            return Pace.AHEAD
        return Pace.BEHIND if self.actual < self.expected * 0.95 else Pace.ON


@dataclass(frozen=True)
class Retro:
    """A campaign's 复盘 as of `as_of` (money in minor units)."""

    campaign_id: int
    campaign: Campaign
    title: str | None
    timezone: str
    as_of: dt.datetime
    stage: Stage
    counted: Period | None  # its days counted so far (None before it starts)
    lines: tuple[TargetLine, ...]
    discount: int
    points: int
    gmv_coupons: int  # attributed orders that used its coupons
    gmv_reached: int  # the other attributed orders: by members it reached
    orders: int
    inviters: tuple[Inviter, ...]
    responses: tuple[Response, ...]
    attribution_open: bool  # orders may still be attributed (within the window after its end)
    gmv_channels: int = 0  # the other attributed orders: by members its channels brought
    channels: tuple[ChannelStats, ...] = ()
    surveys: tuple[SurveyResult, ...] = ()  # its attached surveys, oldest first

    @property
    def points_cost(self) -> int:
        return self.points * self.campaign.point_value

    @property
    def channel_cost(self) -> int:
        """Its channels' placements, as recorded (a channel without a cost adds nothing)."""
        return sum(c.cost or 0 for c in self.channels)

    @property
    def cost(self) -> int:
        return self.discount + self.points_cost + self.channel_cost

    @property
    def gmv(self) -> int:
        return self.gmv_coupons + self.gmv_channels + self.gmv_reached

    @property
    def roi(self) -> float | None:
        return (self.gmv - self.cost) / self.cost if self.cost else None

    @property
    def budget_used_pct(self) -> float | None:
        budget = self.campaign.budget
        return self.cost / budget * 100 if budget else None


@dataclass(frozen=True)
class Attributed:
    """A campaign's attributed orders, each in the first bucket that takes it."""

    by_coupon: list[OrderFact]
    by_channel: list[OrderFact]
    by_reach: list[OrderFact]


def attributed(
    orders: Iterable[OrderFact],
    codes: Iterable[str],
    reaches: Iterable[Reach],
    *,
    since: dt.datetime,
    until: dt.datetime,
    window: dt.timedelta,
    as_of: dt.datetime,
) -> Attributed:
    """Of the orders placed from `since` to `window` after `until` and not after `as_of`,
    each once: those that used one of `codes`; else by a buyer who joined through one of
    its channels (a CHANNEL reach in [since, until)) at or before the order; else by a buyer
    reached at most `window` before. Journey reaches count only inside [since, until)."""
    own = set(codes)
    reached: dict[int, list[dt.datetime]] = {}
    joined: dict[int, list[dt.datetime]] = {}
    for r in reaches:
        if r.kind is ReachKind.CHANNEL:
            if since <= r.at < until:
                joined.setdefault(r.user_id, []).append(r.at)
        elif r.kind is not ReachKind.JOURNEY or since <= r.at < until:
            reached.setdefault(r.user_id, []).append(r.at)
    found, seen = Attributed([], [], []), set()
    for o in sorted(orders, key=lambda o: (o.at, o.order_id)):
        if o.order_id in seen or not since <= o.at < until + window or o.at > as_of:
            continue
        seen.add(o.order_id)
        if own.intersection(o.codes):
            found.by_coupon.append(o)
        elif any(at <= o.at for at in joined.get(o.user_id, ())):
            found.by_channel.append(o)
        elif any(at <= o.at <= at + window for at in reached.get(o.user_id, ())):
            found.by_reach.append(o)
    return found


def channel_reaches(
    channels: Iterable[Channel], facts: ChannelFacts, since: dt.datetime, until: dt.datetime
) -> list[Reach]:
    """Each member credited to one of its channels by a join in [since, until) was reached
    when they joined."""
    ids = {c.link_id for c in channels}
    return [
        Reach(j.user_id, j.joined_at, ReachKind.CHANNEL)
        for j in credited(facts.joins).values()
        if j.link_id in ids and since <= j.joined_at < until
    ]


def coupon_reaches(coupons: Iterable[CouponFact]) -> list[Reach]:
    """Each coupon of the campaign issued to a member reached them when it was issued."""
    return [Reach(c.user_id, c.issued_at, ReachKind.COUPON) for c in coupons]


def discount_given(coupons: Iterable[CouponFact], as_of: dt.datetime) -> int:
    return sum(c.discount for c in coupons if c.redeemed_at is not None and c.redeemed_at <= as_of)


def responded(sent_at: dt.datetime, active: Iterable[dt.datetime], as_of: dt.datetime) -> bool:
    """A recipient active in the group within 3 days of their message (to the second, as
    the funnels count), up to `as_of`."""
    first = int(sent_at.timestamp())
    limit = RESPONSE_WITHIN.total_seconds()
    return any(0 <= int(t.timestamp()) - first <= limit and t <= as_of for t in active)


def top_inviters(invites: Iterable[tuple[int, str]], limit: int = TOP) -> list[Inviter]:
    """(inviter, name) of each invite confirmed in the campaign's days -> the most first,
    ties by user id."""
    counts: dict[int, int] = {}
    names: dict[int, str] = {}
    for user_id, name in invites:
        counts[user_id] = counts.get(user_id, 0) + 1
        names[user_id] = name
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]
    return [Inviter(u, names[u], n) for u, n in ranked]


def ranked_responses(responses: Iterable[Response], limit: int = TOP) -> list[Response]:
    """The broadcasts and posts that drew the most response, each kind apart, most first;
    an object without a measured response last."""

    def key(r: Response) -> tuple[int, int, int]:
        return (-1 if r.responded is None else -r.responded, -r.sent, r.object_id)

    out: list[Response] = []
    for kind in (AttachKind.BROADCAST, AttachKind.POST):
        out += sorted((r for r in responses if r.kind is kind), key=key)[:limit]
    return out


SCORED = {SurveyKind.CSAT: Kpi.CSAT, SurveyKind.NPS: Kpi.NPS}


def survey_scores(results: Iterable[SurveyResult]) -> dict[Kpi, Score]:
    """The CSAT and NPS of the attached surveys: each kind's answers pooled (a kind without
    an attached survey is left out)."""
    found = list(results)
    return {
        SCORED[kind]: pooled(kind, [dict(r.distribution) for r in found if r.survey.kind is kind])
        for kind in RATED
        if any(r.survey.kind is kind for r in found)
    }


def score_value(score: Score) -> Value:
    """A survey score as its KPI counts it: CSAT a 0-1 share like every rate, NPS itself."""
    if score.value is None:
        return None
    return score.value / 100 if score.kind is SurveyKind.CSAT else score.value


def counted_period(campaign: Campaign, today: dt.date) -> Period | None:
    """Its days so far: from its start to today or its end; None before it starts."""
    if today < campaign.start:
        return None
    return Period(campaign.start, min(today, campaign.end))


def target_lines(
    campaign: Campaign,
    days: Sequence[DayTotals],
    facts: PeriodFacts,
    today: dt.date,
    scores: Mapping[Kpi, Score] | None = None,
) -> tuple[TargetLine, ...]:
    """Each target beside the KPI's value over its days so far (as /stats counts it), or
    for CSAT and NPS the score of its attached surveys (`scores`), and while it runs the
    value the straight-line pace expects by today (counts and money)."""
    period = counted_period(campaign, today)
    actual = (
        values(
            summed(days, period),
            facts,
            period.days,
            summed(days, period.month()).active,
            checked_in(days, period),
        )
        if period is not None
        else {}
    )  # stickiness over the campaign's own days only (MAU's days before it are not read)
    running = campaign.stage(today) is Stage.RUNNING
    lines = []
    for kpi, target in campaign.targets.items():
        expected = None
        if running and period is not None and KIND[kpi] in (KpiKind.COUNT, KpiKind.MONEY):
            expected = target * period.days / campaign.days
            if KIND[kpi] is KpiKind.COUNT:  # whole: never "behind pace (0 by now)"
                expected = float(math.floor(expected))
        score = (scores or {}).get(kpi)
        if score is not None:
            lines.append(TargetLine(kpi, target, score_value(score), answers=score.answers))
        elif kpi in SCORED.values():
            lines.append(TargetLine(kpi, target, None))  # no survey of its kind attached
        else:
            lines.append(TargetLine(kpi, target, actual.get(kpi), expected))
    return tuple(lines)


def retro(
    campaign_id: int,
    campaign: Campaign,
    f: RetroFacts,
    *,
    timezone: str,
    now: dt.datetime,
    today: dt.date,
    title: str | None = None,
    program: ReferralProgram | None = None,
) -> Retro:
    """The 复盘 as of `now` (`today` is its local day in the group's timezone; `program`
    the group's referral rule, for its channels' confirmed members)."""
    since, until = campaign.bounds(timezone)
    codes = [c.code for c in f.coupons]
    reaches = [
        *f.reaches,
        *coupon_reaches(f.coupons),
        *channel_reaches(f.channels, f.channel_facts, since, until),
    ]
    found = attributed(
        f.orders, codes, reaches, since=since, until=until, window=campaign.window, as_of=now
    )
    channels = channel_figures(
        f.channels, f.channel_facts, program or ReferralProgram(), now=now, since=since,
        until=until, orders_until=until + campaign.window,
    )  # fmt: skip
    return Retro(
        campaign_id=campaign_id,
        campaign=campaign,
        title=title,
        timezone=timezone,
        as_of=now,
        stage=campaign.stage(today),
        counted=counted_period(campaign, today),
        lines=target_lines(campaign, f.days, f.facts, today, survey_scores(f.surveys)),
        discount=discount_given(f.coupons, now),
        points=f.referral_points,
        gmv_coupons=sum(o.amount for o in found.by_coupon),
        gmv_reached=sum(o.amount for o in found.by_reach),
        orders=len(found.by_coupon) + len(found.by_channel) + len(found.by_reach),
        inviters=tuple(f.inviters[:TOP]),
        responses=tuple(ranked_responses(f.responses)),
        attribution_open=now < until + campaign.window,
        gmv_channels=sum(o.amount for o in found.by_channel),
        channels=tuple(channels),
        surveys=tuple(f.surveys),
    )
