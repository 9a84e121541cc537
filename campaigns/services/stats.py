"""/stats and `growthbot stats`: a group's KPI card from the daily rollup, and the rollup
counted afresh from the raw tables (`--rebuild`)."""

from __future__ import annotations

import datetime as dt

from campaigns.checkin import local_day
from campaigns.ports import UnitOfWork
from campaigns.ports.stats import FactWindow
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
        days = await uow.stats.days(record.pk, before.start, period.end)
        facts, previous = await uow.stats.facts(
            record.pk, [fact_window(period, timezone), fact_window(before, timezone)]
        )
    return kpi_card(period, days, facts, previous, title=record.title, timezone=timezone)


async def rebuild_stats(
    uow: UnitOfWork, *, chat_id: int, since: dt.date, now: dt.datetime
) -> Period:
    """The group's rollup from `since` to today replaced by a count from the raw tables
    (after a timezone change, or for days written before the rollup existed)."""
    async with uow:
        record = await require_chat(uow, chat_id)
        timezone = record.settings.timezone
        period = Period(since, max(since, local_day(now, timezone)))
        rows = await uow.stats.recompute(record.pk, period.start, period.end, timezone)
        await uow.stats.replace(record.pk, period.start, period.end, rows)
        await uow.commit()
    return period
