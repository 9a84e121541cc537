"""Journeys the calendar starts: the birthday coupon (生日券) and the member day (会员日).

Both read the date in the group's timezone. A birthday's episode is the year, so a member
has one birthday step per group per year; a member day's is the local date, for the
group's announcement (the run of GROUP_MEMBER) and each member's coupon alike. The member
day's points multiplier is not a step: check-ins and orders read it from the group's
settings (campaigns/journeys.py `member_day_multiplier`).
"""

from __future__ import annotations

import datetime as dt
import logging
from zoneinfo import ZoneInfo

from campaigns.birthdays import stored_on
from campaigns.journeys import GIFT_AFTER_JOINING, Journey, JourneySettings, is_member_day
from campaigns.ports import UnitOfWork
from campaigns.ports.chats import ChatRecord
from campaigns.ports.journeys import Candidate
from campaigns.services.journey_step import BATCH, Render, Uow, each_batch, take_group_step

log = logging.getLogger(__name__)


async def birthday(uow: Uow, group: ChatRecord, now: dt.datetime, render: Render) -> int:
    """生日券: members whose birthday is the group's local date today (29 February's on the
    28th in a common year), counting from this year, each once this year, from the local
    `hour` (10:00 by default: a greeting, not a notification in the night)."""
    local = now.astimezone(ZoneInfo(group.settings.timezone))
    if local.hour < group.settings.journeys.get(Journey.BIRTHDAY).hour:
        return 0
    today = local.date()
    month_days = stored_on(today)

    async def due(
        w: UnitOfWork, g: ChatRecord, s: JourneySettings, n: dt.datetime
    ) -> list[Candidate]:
        return await w.journeys.birthdays(
            g.pk, month_days, today.year, BATCH, joined_before=n - GIFT_AFTER_JOINING
        )

    return await each_batch(uow, group, Journey.BIRTHDAY, now, render, due)


async def member_day(uow: Uow, group: ChatRecord, now: dt.datetime, render: Render) -> int:
    """会员日: from the local `hour` of the group's member day, the announcement in the group
    once, then (with an `offer`) each reachable present member's coupon privately, once
    (with a `tier`, only members at that tier or above)."""
    settings = group.settings.journeys.get(Journey.MEMBER_DAY)
    local = now.astimezone(ZoneInfo(group.settings.timezone))
    if not is_member_day(settings.day, local.date()) or local.hour < settings.hour:
        return 0
    episode = local.date().isoformat()
    x = settings.multiplier
    async with uow() as work:
        queued = int(
            await take_group_step(
                work, group, Journey.MEMBER_DAY, episode, now, render, multiplier=x
            )
        )
        await work.commit()
    min_tier = 0 if settings.tier is None else group.settings.tiers.level_named(settings.tier)
    if settings.offer is None or min_tier is None:  # no gift, or its tier was renamed away
        if min_tier is None:
            log.warning("member day of group %s: no tier %r", group.pk, settings.tier)
        return queued

    async def due(
        w: UnitOfWork, g: ChatRecord, s: JourneySettings, n: dt.datetime
    ) -> list[Candidate]:
        return await w.journeys.members_without(
            g.pk,
            Journey.MEMBER_DAY,
            episode,
            BATCH,
            min_tier=min_tier or 0,
            joined_before=n - GIFT_AFTER_JOINING,
        )

    return queued + await each_batch(
        uow, group, Journey.MEMBER_DAY, now, render, due, multiplier=x, gift_only=True
    )
