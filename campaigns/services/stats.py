"""/stats and `growthbot stats`: a group's KPI card from the daily rollup, and the rollup
counted afresh from the raw tables (`--rebuild`)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from campaigns.checkin import local_day
from campaigns.ports import UnitOfWork
from campaigns.ports.stats import FactWindow
from campaigns.services.analytics import CohortReport, FunnelReport, funnels, retention_cohorts
from campaigns.services.channels import ChannelReport, channels_between
from campaigns.services.chats import require_chat
from campaigns.stats import Asked, KpiCard, Period, kpi_card


def fact_window(period: Period, timezone: str) -> FactWindow:
    since, until = period.bounds(timezone)
    week, month = period.active_windows()
    return FactWindow(since=since, until=until, week=week, month=month)


async def group_stats(
    uow: UnitOfWork, *, chat_id: int, asked: Asked | None = None, now: dt.datetime
) -> KpiCard:
    """The card of the period asked for (30 days by default) in the group's local days,
    beside the period before it. Reads the two periods' rollup rows and one set of distinct
    counts for each: no scan of the event log, however large the group."""
    async with uow:
        record = await require_chat(uow, chat_id)
        timezone = record.settings.timezone
        period = (asked or Asked()).period(local_day(now, timezone))
        before = period.previous()
        first = min(before.start, before.month().start)  # stickiness reads MAU's 30 days
        days = await uow.stats.days(record.pk, first, period.end)
        facts, previous = await uow.stats.facts(
            record.pk, [fact_window(period, timezone), fact_window(before, timezone)]
        )
    return kpi_card(period, days, facts, previous, title=record.title, timezone=timezone)


REBUILD_DAYS_AT_ONCE = 7  # the days one transaction of a rebuild recounts and rewrites


async def rebuild_stats(
    uow: Callable[[], UnitOfWork], *, chat_id: int, since: dt.date, now: dt.datetime
) -> Period:
    """The group's rollup from `since` to today replaced by a count from the raw tables
    (after a timezone change, or for days written before the rollup existed).

    Safe while the bot runs: each week is recounted and rewritten in one transaction that
    first takes the group's rollup lock (`Stats.lock_rollup`), which every write adding to
    the rollup takes too, so no write is lost or counted twice; a week at a time, so the
    group's writers wait at most one week's recount."""
    async with uow() as work:
        record = await require_chat(work, chat_id)
    timezone = record.settings.timezone
    period = Period(since, max(since, local_day(now, timezone)))
    start = period.start
    while start <= period.end:
        end = min(period.end, start + dt.timedelta(days=REBUILD_DAYS_AT_ONCE - 1))
        async with uow() as work:
            await work.stats.lock_rollup(record.pk)
            rows = await work.stats.recompute(record.pk, start, end, timezone)
            await work.stats.replace(record.pk, start, end, rows)
            await work.commit()
        start = end + dt.timedelta(days=1)
    return period


COHORT_WEEKS = 8  # the heatmap /stats shows: two months of join weeks,
LONG_COHORT_WEEKS = 12  # or about a quarter's for a card longer than a month


@dataclass(frozen=True)
class StatsReport:
    """Everything /stats shows: the card, what its charts draw (the card's days, the
    period's funnels, the last weeks' retention cohorts), and the period's channels."""

    card: KpiCard
    funnels: FunnelReport
    cohorts: CohortReport
    channels: ChannelReport


async def stats_report(
    uow: Callable[[], UnitOfWork], *, chat_id: int, asked: Asked | None = None, now: dt.datetime
) -> StatsReport:
    """The card, and the funnels over the same local days, the retention cohorts, and
    what each channel brought in those days."""
    card = await group_stats(uow(), chat_id=chat_id, asked=asked, now=now)
    since, until = card.period.bounds(card.timezone)
    found = await funnels(uow(), chat_id=chat_id, since=since, until=min(until, now))
    weeks = LONG_COHORT_WEEKS if card.period.days > 31 else COHORT_WEEKS
    cohorts = await retention_cohorts(uow(), chat_id=chat_id, weeks=weeks, now=now)
    channels = await channels_between(uow(), chat_id=chat_id, since=since, until=until, now=now)
    return StatsReport(card, found, cohorts, channels)
