"""Alerts to a group's admins (库存预警, 活动进度落后, 退群激增): which are due now, each
claimed once per condition and local day before it is handed over to be sent."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from campaigns.alerts import (
    LEAVES_BASELINE_DAYS,
    Alert,
    behind_pace,
    key_of,
    leave_spike,
    low_stock,
    pace_period,
)
from campaigns.checkin import local_day
from campaigns.ports import UnitOfWork
from campaigns.ports.chats import ChatRecord
from campaigns.services.stats import fact_window


@dataclass(frozen=True)
class DueAlert:
    """An alert claimed for sending: to the group's admins, in the group's language."""

    chat_id: int
    title: str | None
    language: str
    day: dt.date  # the group's local day it is for
    alert: Alert


async def due_alerts(
    uow: Callable[[], UnitOfWork],
    *,
    now: dt.datetime,
    reachable: Callable[[int], Awaitable[bool]] | None = None,
) -> list[DueAlert]:
    """Every alert true now whose key was not sent yet, each claimed (a unique row, committed
    before it is returned) so that of several runs and processes one sends it. A group none
    of whose admins `reachable` (by the group's Telegram id) can be told claims nothing: an
    admin who starts the bot later that day still gets the day's alert."""
    found: list[tuple[ChatRecord, Alert]] = []
    async with uow() as u:
        chats: dict[int, ChatRecord | None] = {}

        async def chat(pk: int) -> ChatRecord | None:
            if pk not in chats:
                chats[pk] = await u.chats.by_pk(pk)
            record = chats[pk]
            return record if record is not None and record.active else None

        for pk, stocks in (await u.alerts.stocks(now)).items():
            if (c := await chat(pk)) is not None:
                found += [(c, a) for s in stocks if (a := low_stock(s)) is not None]
        for record in await u.campaigns.running_around(now.date()):
            c = await chat(record.chat_pk)
            if c is None:
                continue
            today = local_day(now, c.settings.timezone)
            created = None
            if record.created_at is not None:
                created = local_day(record.created_at, c.settings.timezone)
            period = pace_period(record.campaign, today, created)
            if period is None:
                continue
            days = await u.stats.days(c.pk, period.start, period.end)
            [facts] = await u.stats.facts(c.pk, [fact_window(period, c.settings.timezone)])
            p = behind_pace(record.id, record.campaign, days, facts, today, created)
            if p is not None:
                found.append((c, p))
        for pk in await u.alerts.groups_with_leaves(now.date() - dt.timedelta(days=1)):
            if (c := await chat(pk)) is None:
                continue
            today = local_day(now, c.settings.timezone)
            first = today - dt.timedelta(days=LEAVES_BASELINE_DAYS)
            if (spike := leave_spike(await u.stats.days(pk, first, today), today)) is not None:
                found.append((c, spike))
    due = []
    told: dict[int, bool] = {}
    for c, alert in found:
        if reachable is not None:
            if c.chat_id not in told:
                told[c.chat_id] = await reachable(c.chat_id)
            if not told[c.chat_id]:
                continue
        day = local_day(now, c.settings.timezone)
        async with uow() as u:
            if not await u.alerts.claim(key_of(c.pk, alert, day), now):
                continue
            await u.commit()
        due.append(DueAlert(c.chat_id, c.title, c.settings.language, day, alert))
    return due
