"""The /stats KPI card: what each figure means, one formula each, in plain Python.

A period is a run of whole local days of the group's calendar (its timezone), ending today
(so far) unless it was given a start; it is compared with the period of the same length just
before it. Everything summable comes from `DayTotals`, one group's day of the daily rollup
(kept current by every write, see storage/repositories/stats.py); the few figures that a sum
of days cannot give (distinct members, buyers, members present at an instant) come in
`PeriodFacts`, counted once per period.

KPI (zh)                  definition
------------------------  ---------------------------------------------------------------
members 成员              members present at the end of the period: joined by then (or
                          there before the bot) and not gone by then, as /referral report
joins 新增                join events in the period (a rejoin counts again)
leaves 退群               leave events in the period
net growth 净增长         joins - leaves
DAU 日活                  members active per day, averaged over the period's days (active:
                          a message, check-in, claim, team join or shop redemption)
WAU 周活                  distinct members active in the last 7 days of the period
MAU 月活                  distinct members active in the 30 days ending with the period
stickiness 黏性           MAU's days' average DAU / MAU: over the same 30 days, so at most
                          100% (the period's own DAU over a 90-day period is another span)
messages 消息             member messages in the period
check-in rate 签到率      check-ins on the day / member-days active (DAU summed over the
                          days): of the members active on a day, the share who checked in
                          that day. A day counts at most as many check-ins as it had
                          active members, so the rate never exceeds 100% (a check-in whose
                          message another process has not written yet cannot lift it)
make-up check-ins 补签    check-ins a 补签卡 restored to the period's days: counted apart,
                          never in the rate (their member was not active that day, so
                          they would lift it, even above 100%)
invites confirmed 邀请确认 invites confirmed in the period (on the day of confirmation)
referral share 裂变占比   of the period's joins, the share through a member's invite that
                          is confirmed by now (the same joins on both sides: at most 100%)
coupons claimed 领券      coupons issued to members in the period, any way (a claim, a
                          grant, a reward, a group-buy)
coupons redeemed 核销     coupons used in the period (on the day of use)
redemption rate 核销率    of the coupons issued in the period, the share used by now (a
                          coupon used this week but issued last month is not this week's)
orders 订单               orders placed in the period (by the order's own time)
GMV                       the orders' amounts summed (minor units, as paid)
average order 客单价      GMV / orders
ARPU                      GMV / members (at the end of the period)
repurchase rate 复购率    buyers with two or more orders in the period / buyers in it
new-member conversion     members whose first join was in the period and whose first
新人首单转化              order in the group is in the period too / members whose first
                          join was in the period (a rejoin is not a new member)
CSAT, NPS                 campaigns only, not on the card: the score of the answers to the
                          surveys attached to a campaign (campaigns/surveys.py's formulas,
                          campaigns/campaign.py's `survey_scores`), not a sum of days

A ratio whose denominator is zero has no value (None, shown as "–"). The change against the
previous period is the difference and the difference in percent of the previous value (None
when the previous value is zero or has none).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, fields
from enum import StrEnum
from zoneinfo import ZoneInfo

from campaigns.errors import DomainError

DEFAULT_DAYS = 30
PERIOD_DAYS = (7, 30, 90)
MAX_DAYS = 366  # a --since period reaches back at most a year
WEEK, MONTH = 7, 30  # the windows of WAU and MAU


@dataclass
class BadPeriod(DomainError):
    """The period was not one of 7d, 30d, 90d (or a date in the future / too far back)."""

    given: str


STATS_COOLDOWN = dt.timedelta(seconds=60)  # a group's /stats at most once in this long
COOLDOWN_KEYS = 10_000  # groups remembered before the long-past ones are forgotten


@dataclass
class TooSoon(DomainError):
    """The group's figures were drawn moments ago; they may be asked for again at
    `again_at`."""

    again_at: dt.datetime
    now: dt.datetime

    @property
    def seconds(self) -> int:
        """Whole seconds left (at least 1)."""
        return max(1, math.ceil((self.again_at - self.now).total_seconds()))


class Cooldown:
    """At most one report per key (a group) in `every`, in this process: the /stats card's
    four charts take about 0.3 s of CPU each, and drawing holds the interpreter's lock from
    the event loop for part of it, so a second /stats for the same group moments later
    (another admin, a double tap) would only slow every member's replies for figures that
    have not changed. Times are the caller's clock (the app's injected one)."""

    def __init__(self, every: dt.timedelta = STATS_COOLDOWN) -> None:
        self.every = every
        self._last: dict[object, dt.datetime] = {}

    def take(self, key: object, now: dt.datetime) -> None:
        """Counts this report against `key`; TooSoon (nothing counted) within `every` of
        the previous one."""
        last = self._last.get(key)
        if last is not None and last <= now < last + self.every:
            raise TooSoon(last + self.every, now)
        if len(self._last) >= COOLDOWN_KEYS:
            self._last = {k: t for k, t in self._last.items() if t + self.every > now}
        self._last[key] = now


@dataclass(frozen=True)
class Period:
    """Whole local days `start` to `end`, both included."""

    start: dt.date
    end: dt.date

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def previous(self) -> Period:
        """The period of the same length just before this one."""
        return Period(self.start - dt.timedelta(days=self.days), self.start - dt.timedelta(days=1))

    def each_day(self) -> list[dt.date]:
        return [self.start + dt.timedelta(days=i) for i in range(self.days)]

    def month(self) -> Period:
        """MAU's days: the 30 ending with this period's last day (before it, for a week)."""
        return Period(self.end - dt.timedelta(days=MONTH - 1), self.end)

    def active_windows(self) -> tuple[tuple[dt.date, dt.date], tuple[dt.date, dt.date]]:
        """WAU's and MAU's days: the 7 and the 30 days ending with the period's last day."""
        return (
            (self.end - dt.timedelta(days=WEEK - 1), self.end),
            (self.end - dt.timedelta(days=MONTH - 1), self.end),
        )

    def bounds(self, timezone: str) -> tuple[dt.datetime, dt.datetime]:
        """The instants (UTC) the period covers: from the local midnight starting `start` up
        to, not including, the local midnight after `end` (a DST day is 23 or 25 hours)."""
        return local_midnight(self.start, timezone), local_midnight(
            self.end + dt.timedelta(days=1), timezone
        )


def local_midnight(day: dt.date, timezone: str) -> dt.datetime:
    """The instant a local day begins (a midnight skipped by DST: the first hour there is)."""
    # fold=0: a midnight in a DST gap is read with the offset before it, which is the
    # instant the gap ends; a midnight that repeats is its first occurrence.
    return dt.datetime.combine(day, dt.time(), tzinfo=ZoneInfo(timezone)).astimezone(dt.UTC)


def period_ending(today: dt.date, days: int = DEFAULT_DAYS) -> Period:
    return Period(today - dt.timedelta(days=days - 1), today)


def period_since(since: dt.date, today: dt.date) -> Period:
    """From `since` to today: the command line's `--since`."""
    if since > today or (today - since).days >= MAX_DAYS:
        raise BadPeriod(since.isoformat())
    return Period(since, today)


@dataclass(frozen=True)
class Asked:
    """The period someone asked for, before the group's today is known."""

    days: int = DEFAULT_DAYS
    since: dt.date | None = None

    def period(self, today: dt.date) -> Period:
        if self.since is not None:
            return period_since(self.since, today)
        return period_ending(today, self.days)


def parse_asked(words: Sequence[str]) -> Asked:
    """`/stats`, `/stats 7d`, `/stats 90d` (also `7`, `7天`, `7D`): the period ending today.
    Anything else is BadPeriod; nothing else is ever raised."""
    if not words:
        return Asked()
    word = words[0].strip().lower() if len(words) == 1 else " ".join(words)
    for suffix in ("d", "天", "日"):
        if word.endswith(suffix):
            word = word[: -len(suffix)]
            break
    if word.isascii() and word.isdigit() and len(word) < 4 and int(word) in PERIOD_DAYS:
        return Asked(int(word))
    raise BadPeriod(" ".join(words)[:32])


def parse_period(words: Sequence[str], today: dt.date) -> Period:
    """The period `words` ask for, ending `today`."""
    return parse_asked(words).period(today)


@dataclass(frozen=True)
class DayTotals:
    """One local day of one group: the counters a period sums (the daily rollup's row)."""

    day: dt.date
    joins: int = 0
    leaves: int = 0
    messages: int = 0
    active: int = 0  # members active that day (each once)
    checkins: int = 0  # check-ins on the day itself
    makeups: int = 0  # make-up check-ins (补签卡) restoring the day, made on a later one
    invites_confirmed: int = 0
    coupons_claimed: int = 0
    coupons_redeemed: int = 0
    discount: int = 0  # minor units taken off by the coupons redeemed
    orders: int = 0
    gmv: int = 0  # minor units
    first_orders: int = 0  # orders that are their buyer's first in the group


COUNTERS = tuple(f.name for f in fields(DayTotals) if f.name != "day")


def summed(days: Iterable[DayTotals], period: Period) -> DayTotals:
    """The period's counters: its days' totals added up (days outside it are left out)."""
    totals = dict.fromkeys(COUNTERS, 0)
    for d in days:
        if period.start <= d.day <= period.end:
            for name in COUNTERS:
                totals[name] += getattr(d, name)
    return DayTotals(period.end, **totals)


@dataclass(frozen=True)
class PeriodFacts:
    """What a sum of days cannot give, counted once for a period."""

    members_start: int = 0  # present at the period's first instant
    members_end: int = 0  # present at its last
    wau: int = 0  # distinct members active in the last 7 days of the period
    mau: int = 0  # ... in the last 30 days
    buyers: int = 0  # distinct members with an order in the period
    repeat_buyers: int = 0  # ... with two or more
    new_members: int = 0  # members whose first join was in the period
    converted: int = 0  # ... of them, those who ordered after joining, in the period
    issued_redeemed: int = 0  # coupons issued in the period and used by now
    joins_confirmed: int = 0  # joins in the period through an invite confirmed by now


class KpiKind(StrEnum):
    COUNT = "count"
    MONEY = "money"  # minor units
    RATIO = "ratio"  # 0..1 (shown in percent)
    AVERAGE = "average"  # a count per day
    SIGNED = "signed"  # a count that may be negative (net growth)


class Kpi(StrEnum):
    MEMBERS = "members"
    JOINS = "joins"
    LEAVES = "leaves"
    NET_GROWTH = "net_growth"
    DAU = "dau"
    WAU = "wau"
    MAU = "mau"
    STICKINESS = "stickiness"
    MESSAGES = "messages"
    CHECKIN_RATE = "checkin_rate"
    MAKEUP_CHECKINS = "makeup_checkins"
    INVITES_CONFIRMED = "invites_confirmed"
    REFERRAL_SHARE = "referral_share"
    COUPONS_CLAIMED = "coupons_claimed"
    COUPONS_REDEEMED = "coupons_redeemed"
    REDEMPTION_RATE = "redemption_rate"
    ORDERS = "orders"
    GMV = "gmv"
    AOV = "aov"
    ARPU = "arpu"
    REPURCHASE_RATE = "repurchase_rate"
    CONVERSION = "conversion"
    CSAT = "csat"  # a campaign's target only: its attached surveys' answers
    NPS = "nps"  # ... the same


SURVEY_KPIS = (Kpi.CSAT, Kpi.NPS)  # scores of answers, not period figures: not on the card
KIND = {
    Kpi.MEMBERS: KpiKind.COUNT,
    Kpi.JOINS: KpiKind.COUNT,
    Kpi.LEAVES: KpiKind.COUNT,
    Kpi.NET_GROWTH: KpiKind.SIGNED,
    Kpi.DAU: KpiKind.AVERAGE,
    Kpi.WAU: KpiKind.COUNT,
    Kpi.MAU: KpiKind.COUNT,
    Kpi.STICKINESS: KpiKind.RATIO,
    Kpi.MESSAGES: KpiKind.COUNT,
    Kpi.CHECKIN_RATE: KpiKind.RATIO,
    Kpi.MAKEUP_CHECKINS: KpiKind.COUNT,
    Kpi.INVITES_CONFIRMED: KpiKind.COUNT,
    Kpi.REFERRAL_SHARE: KpiKind.RATIO,
    Kpi.COUPONS_CLAIMED: KpiKind.COUNT,
    Kpi.COUPONS_REDEEMED: KpiKind.COUNT,
    Kpi.REDEMPTION_RATE: KpiKind.RATIO,
    Kpi.ORDERS: KpiKind.COUNT,
    Kpi.GMV: KpiKind.MONEY,
    Kpi.AOV: KpiKind.MONEY,
    Kpi.ARPU: KpiKind.MONEY,
    Kpi.REPURCHASE_RATE: KpiKind.RATIO,
    Kpi.CONVERSION: KpiKind.RATIO,
    Kpi.CSAT: KpiKind.RATIO,  # the share of satisfied answers, 0..1 like every ratio
    Kpi.NPS: KpiKind.SIGNED,  # −100..100: a score that may be negative, never summed
}

Value = int | float | None


def ratio(part: float, whole: float) -> float | None:
    """part / whole; no value when there is nothing to divide by."""
    return part / whole if whole else None


def checked_in(days: Iterable[DayTotals], period: Period) -> int:
    """The check-in rate's numerator: each of the period's days' check-ins on the day, at
    most its active members (a check-in is a message, so the member is active, but the
    message may still wait in another process's activity buffer)."""
    return sum(min(d.checkins, d.active) for d in days if period.start <= d.day <= period.end)


def values(
    t: DayTotals, f: PeriodFacts, days: int, month_active: int, checked: int
) -> dict[Kpi, Value]:
    """Every KPI of one period (all but the survey scores): the one home of each formula
    (see the module's table). `month_active`: the member-days active in MAU's 30 days (for
    stickiness); `checked`: the period's check-ins as the rate counts them (`checked_in`)."""
    dau = ratio(t.active, days)
    month_dau = month_active / MONTH
    return {
        Kpi.MEMBERS: f.members_end,
        Kpi.JOINS: t.joins,
        Kpi.LEAVES: t.leaves,
        Kpi.NET_GROWTH: t.joins - t.leaves,
        Kpi.DAU: dau,
        Kpi.WAU: f.wau,
        Kpi.MAU: f.mau,
        Kpi.STICKINESS: ratio(month_dau, f.mau),
        Kpi.MESSAGES: t.messages,
        Kpi.CHECKIN_RATE: ratio(checked, t.active),
        Kpi.MAKEUP_CHECKINS: t.makeups,
        Kpi.INVITES_CONFIRMED: t.invites_confirmed,
        Kpi.REFERRAL_SHARE: ratio(f.joins_confirmed, t.joins),
        Kpi.COUPONS_CLAIMED: t.coupons_claimed,
        Kpi.COUPONS_REDEEMED: t.coupons_redeemed,
        Kpi.REDEMPTION_RATE: ratio(f.issued_redeemed, t.coupons_claimed),
        Kpi.ORDERS: t.orders,
        Kpi.GMV: t.gmv,
        Kpi.AOV: ratio(t.gmv, t.orders),
        Kpi.ARPU: ratio(t.gmv, f.members_end),
        Kpi.REPURCHASE_RATE: ratio(f.repeat_buyers, f.buyers),
        Kpi.CONVERSION: ratio(f.converted, f.new_members),
    }


@dataclass(frozen=True)
class KpiLine:
    """One KPI now and in the previous period."""

    kpi: Kpi
    value: Value
    previous: Value

    @property
    def kind(self) -> KpiKind:
        return KIND[self.kpi]

    @property
    def change(self) -> Value:
        """The difference (None when either side has no value)."""
        if self.value is None or self.previous is None:
            return None
        return self.value - self.previous

    @property
    def change_pct(self) -> float | None:
        """The difference in percent of the previous value (None when that is zero)."""
        change = self.change
        if change is None or not self.previous:
            return None
        return change / abs(self.previous) * 100


@dataclass(frozen=True)
class KpiCard:
    """The card: a period's KPIs beside the previous period's, and the days behind them
    (the current period's daily totals, every day present: what a chart would plot)."""

    period: Period
    lines: tuple[KpiLine, ...]
    days: tuple[DayTotals, ...] = field(default=())
    previous_days: tuple[DayTotals, ...] = field(default=())
    title: str | None = None  # the group's
    timezone: str = "UTC"  # whose local days these are

    @property
    def previous_period(self) -> Period:
        return self.period.previous()

    def __getitem__(self, kpi: Kpi) -> KpiLine:
        return next(line for line in self.lines if line.kpi is kpi)


def every_day(days: Iterable[DayTotals], period: Period) -> tuple[DayTotals, ...]:
    """The period's days in order, a day without a row as zeros."""
    stored = {d.day: d for d in days if period.start <= d.day <= period.end}
    return tuple(stored.get(day, DayTotals(day)) for day in period.each_day())


def kpi_card(
    period: Period,
    days: Iterable[DayTotals],
    facts: PeriodFacts,
    previous_facts: PeriodFacts,
    *,
    title: str | None = None,
    timezone: str = "UTC",
) -> KpiCard:
    """The card from the day totals of both periods (`days` may hold both) and the facts."""
    rows = list(days)
    before = period.previous()
    now = values(
        summed(rows, period), facts, period.days, summed(rows, period.month()).active,
        checked_in(rows, period),
    )  # fmt: skip
    then = values(
        summed(rows, before), previous_facts, before.days, summed(rows, before.month()).active,
        checked_in(rows, before),
    )  # fmt: skip
    lines = tuple(KpiLine(kpi, now[kpi], then[kpi]) for kpi in Kpi if kpi not in SURVEY_KPIS)
    return KpiCard(period, lines, every_day(rows, period), every_day(rows, before), title, timezone)
