"""Alerts to a group's admins (库存预警, 活动进度落后, 退群激增): the conditions, as plain
functions over facts storage gathers.

- **low stock**: a live offer (or group-buy deal) with a stock limit whose remaining units
  are at or below the threshold: 10% of its stock (rounded up, at least 1), or an absolute
  number of units when one is given. Offers without a limit, ended or past their end never
  alert; a sold-out one does (0 left is the lowest stock there is).
- **behind pace**: a running campaign with a count or money target whose value over its
  whole days so far is behind the straight-line pace (campaigns/campaign.py's `TargetLine.pace`,
  the same the /campaign report shows). Judged on complete days (up to yesterday), so the
  first day's morning never alerts; from its second day to its last.
- **leave spike**: leaves today >= max(5, 3 x the daily average of the 14 days before).

Each alert has a key (group, kind, object, the group's local day): it goes out at most once
per key, which storage holds with a unique row, so of two processes only one sends it.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from campaigns.campaign import (
    Campaign,
    Pace,
    Stage,
    TargetLine,
    counted_period,
    target_lines,
)
from campaigns.stats import KIND, DayTotals, KpiKind, Period, PeriodFacts

STOCK_PERCENT = 10  # the default threshold: 10% of the stock left (rounded up, at least 1)
LEAVES_MIN = 5  # a spike is at least this many leaves in a day
LEAVES_FACTOR = 3  # and at least this many times the daily average before
LEAVES_BASELINE_DAYS = 14


class AlertKind(StrEnum):
    """Stored in alerts_sent.kind: one alert of a kind per object and local day."""

    OFFER_STOCK = "offer_stock"
    DEAL_STOCK = "deal_stock"
    CAMPAIGN_PACE = "campaign_pace"
    LEAVE_SPIKE = "leave_spike"


@dataclass(frozen=True)
class StockFact:
    """An offer's or a deal's stock as it stands: `taken` is issued (offers) or reserved
    (deals); `live` is false once it is ended or past its end."""

    kind: AlertKind  # OFFER_STOCK or DEAL_STOCK
    object_id: int
    name: str
    stock: int | None
    taken: int
    live: bool = True

    @property
    def remaining(self) -> int | None:
        return None if self.stock is None else max(0, self.stock - self.taken)


@dataclass(frozen=True)
class StockAlert:
    kind: AlertKind
    object_id: int
    name: str
    remaining: int
    stock: int
    threshold: int


@dataclass(frozen=True)
class PaceAlert:
    campaign_id: int
    name: str
    behind: tuple[TargetLine, ...]  # the targets behind pace (actual and expected by then)
    judged: dt.date  # the last complete day counted

    kind = AlertKind.CAMPAIGN_PACE

    @property
    def object_id(self) -> int:
        return self.campaign_id


@dataclass(frozen=True)
class LeaveAlert:
    leaves: int
    average: float  # leaves a day over the 14 days before
    threshold: int

    kind = AlertKind.LEAVE_SPIKE
    object_id = 0  # one per group and day


Alert = StockAlert | PaceAlert | LeaveAlert


@dataclass(frozen=True)
class AlertKey:
    """At most one alert per key is ever sent."""

    chat_pk: int
    kind: AlertKind
    object_id: int
    day: dt.date


def key_of(chat_pk: int, alert: Alert, day: dt.date) -> AlertKey:
    return AlertKey(chat_pk, alert.kind, alert.object_id, day)


def stock_threshold(stock: int, absolute: int | None = None, percent: int = STOCK_PERCENT) -> int:
    """Units left at or below which the stock is low: `absolute`, else `percent` of the stock
    rounded up (at least 1)."""
    if absolute is not None:
        return absolute
    return max(1, math.ceil(stock * percent / 100))


def low_stock(fact: StockFact, absolute: int | None = None) -> StockAlert | None:
    """A live offer or deal with a limit whose remaining units are at or below the threshold."""
    remaining = fact.remaining
    if not fact.live or fact.stock is None or remaining is None:
        return None
    threshold = stock_threshold(fact.stock, absolute)
    if remaining > threshold:
        return None
    return StockAlert(fact.kind, fact.object_id, fact.name, remaining, fact.stock, threshold)


def pace_period(
    campaign: Campaign, today: dt.date, created: dt.date | None = None
) -> Period | None:
    """The complete days a running campaign's pace is judged over (its start to yesterday);
    None on its first day, outside its days, without a count or money target, or on the day
    it was created (`created`, its local day): a campaign set up with a start in the past
    is not reported behind for days before anyone had set it up."""
    judged = today - dt.timedelta(days=1)
    if campaign.stage(today) is not Stage.RUNNING or campaign.stage(judged) is not Stage.RUNNING:
        return None
    if created is not None and created >= today:
        return None
    if not any(KIND[kpi] in (KpiKind.COUNT, KpiKind.MONEY) for kpi in campaign.targets):
        return None
    return counted_period(campaign, judged)


def behind_pace(
    campaign_id: int,
    campaign: Campaign,
    days: Sequence[DayTotals],
    facts: PeriodFacts,
    today: dt.date,
    created: dt.date | None = None,
) -> PaceAlert | None:
    """A campaign running today whose targets are behind the straight-line pace over its
    complete days (`days` and `facts` cover `pace_period`: its start to yesterday)."""
    if pace_period(campaign, today, created) is None:
        return None
    judged = today - dt.timedelta(days=1)
    behind = tuple(
        line for line in target_lines(campaign, days, facts, judged) if line.pace is Pace.BEHIND
    )
    return PaceAlert(campaign_id, campaign.name, behind, judged) if behind else None


def leave_spike(days: Iterable[DayTotals], today: dt.date) -> LeaveAlert | None:
    """Leaves today >= max(5, 3 x the daily average of the 14 days before (missing days
    count as none))."""
    first = today - dt.timedelta(days=LEAVES_BASELINE_DAYS)
    leaves_today, before = 0, 0
    for d in days:
        if d.day == today:
            leaves_today += d.leaves
        elif first <= d.day < today:
            before += d.leaves
    average = before / LEAVES_BASELINE_DAYS
    threshold = max(LEAVES_MIN, -(-LEAVES_FACTOR * before // LEAVES_BASELINE_DAYS))
    if leaves_today < threshold:
        return None
    return LeaveAlert(leaves_today, average, threshold)
