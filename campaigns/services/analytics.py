"""Funnels and retention cohorts of one group, read for /funnels and /cohorts (and /stats).

Both only read: the counts are aggregated by storage, what they mean is campaigns/funnels.py
and campaigns/cohorts.py.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from campaigns.checkin import local_day
from campaigns.cohorts import CohortTable, cohort_table, first_cohort
from campaigns.funnels import Funnel, FunnelKind
from campaigns.ports import UnitOfWork
from campaigns.ports.chats import ChatRecord
from campaigns.services.chats import require_chat
from campaigns.stats import period_ending


@dataclass(frozen=True)
class CohortReport:
    chat: ChatRecord
    table: CohortTable


@dataclass(frozen=True)
class FunnelReport:
    chat: ChatRecord
    since: dt.datetime
    until: dt.datetime
    funnels: list[Funnel]  # referral, one per offer, teams, team members, broadcast, journey,
    # new members
    channels: list[Funnel] = field(default_factory=list)  # new members by channel (渠道)


async def retention_cohorts(
    uow: UnitOfWork, *, chat_id: int, weeks: int, now: dt.datetime
) -> CohortReport:
    """The group's last `weeks` weekly cohorts and their retention, up to `now`'s week."""
    async with uow:
        record = await require_chat(uow, chat_id)
        timezone = record.settings.timezone
        monday = first_cohort(now, timezone, weeks)
        # A join's local day is at most a day off its UTC date: a day early reads every join.
        start = dt.datetime.combine(monday - dt.timedelta(days=1), dt.time(), dt.UTC)
        joins = await uow.analytics.joins(record.pk, start)
        active = await uow.analytics.active_weeks(record.pk, monday)
    table = cohort_table(joins, active, timezone=timezone, weeks=weeks, now=now)
    return CohortReport(record, table)


async def funnels(
    uow: UnitOfWork, *, chat_id: int, since: dt.datetime, until: dt.datetime
) -> FunnelReport:
    """The group's funnels of the period [since, until) (campaigns/funnels.py)."""
    async with uow:
        record = await require_chat(uow, chat_id)
        pk, a = record.pk, uow.analytics
        found = [Funnel.of(FunnelKind.REFERRAL, await a.referral(pk, since, until))]
        found += [
            Funnel.of(FunnelKind.COUPON, [o.claimed, o.redeemed], title=o.name, offer_id=o.offer_id)
            for o in await a.coupons(pk, since, until)
        ]
        found.append(Funnel.of(FunnelKind.TEAMS, await a.teams(pk, since, until)))
        found.append(Funnel.of(FunnelKind.TEAM_MEMBERS, await a.team_members(pk, since, until)))
        for kind in (FunnelKind.BROADCAST, FunnelKind.JOURNEY):
            found.append(Funnel.of(kind, await a.messages(pk, kind, since, until)))
        found.append(Funnel.of(FunnelKind.NEW_MEMBER, await a.new_members(pk, since, until)))
        named = [(c.link_id, c.name) for c in await uow.channels.of_group(pk)]
        split = await a.new_members_by_channel(pk, since, until) if named else {}
    return FunnelReport(record, since, until, found, _by_channel(named, split))


def _by_channel(named: list[tuple[int, str]], split: dict[int | None, list[int]]) -> list[Funnel]:
    """The channel funnels in campaigns/funnels.py `channel_funnels`' order: each channel
    that brought someone, then the members who came another way."""
    found = [
        Funnel.of(FunnelKind.CHANNEL, split[link], title=name, channel_id=link)
        for link, name in named
        if link in split
    ]
    if None in split:
        found.append(Funnel.of(FunnelKind.CHANNEL, split[None]))
    return found


async def period_funnels(
    uow: UnitOfWork, *, chat_id: int, days: int, now: dt.datetime
) -> FunnelReport:
    """The funnels of the last `days` whole local days up to now: the days /stats counts
    (`/funnels 7d` and `/stats 7d` read the same week)."""
    async with uow:
        record = await require_chat(uow, chat_id)
    timezone = record.settings.timezone
    since, until = period_ending(local_day(now, timezone), days).bounds(timezone)
    return await funnels(uow, chat_id=chat_id, since=since, until=min(until, now))
