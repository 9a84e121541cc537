"""Journeys started by what a member did or stopped doing: win-back (沉睡唤醒), the first
order's welcome pack (首单礼), the repurchase reminder (复购提醒), the invited friend's
coupon (双方得券) and the new member's nudge (新人引导).

Each finds the members whose step is due (storage pre-filters; the run's unique key is the
last word) and takes it. Those switched on late never reach far back: each journey looks
only at what happened since it was switched on, within its own window.
"""

from __future__ import annotations

import datetime as dt
import logging

from campaigns.audience_expr import AudienceExprError, Expr, parse
from campaigns.audiences import AudienceRefused
from campaigns.journeys import (
    FIRST_ORDER_WITHIN,
    NUDGE_GRACE,
    REFERRAL_WITHIN,
    REPURCHASE_GRACE,
    Journey,
    JourneySettings,
)
from campaigns.ports import UnitOfWork
from campaigns.ports.chats import ChatRecord
from campaigns.ports.journeys import Candidate
from campaigns.services.audiences import saved_expr
from campaigns.services.journey_step import BATCH, Render, Uow, each_batch

log = logging.getLogger(__name__)

DORMANT = "stage=dormant"
SECOND_GRACE = dt.timedelta(days=7)  # a second step due while the bot was down still goes


async def _trigger(work: UnitOfWork, group: ChatRecord, settings: JourneySettings) -> Expr | None:
    if settings.audience is None:
        return parse(DORMANT)
    try:
        return await saved_expr(work, group.pk, settings.audience)
    except (AudienceRefused, AudienceExprError):  # deleted, or no longer reads: nothing to do
        log.warning("win-back of group %s: audience %r is gone", group.pk, settings.audience)
        return None


async def idle_at_least(w: UnitOfWork, group: ChatRecord, s: JourneySettings) -> dt.timedelta:
    """How long a member must have been quiet for win-back: the group's dormant threshold, or
    with a saved audience its silent one (the audience narrows who, never wakes the active)."""
    thresholds = await w.segments.thresholds(group.pk)
    days = thresholds.dormant_days if s.audience is None else thresholds.silent_days
    return dt.timedelta(days=days)


async def winback(uow: Uow, group: ChatRecord, now: dt.datetime, render: Render) -> int:
    """沉睡唤醒: first steps for members in the trigger, then second steps that are due."""
    settings = group.settings.journeys.get(Journey.WINBACK)

    async def first(
        w: UnitOfWork, g: ChatRecord, s: JourneySettings, n: dt.datetime
    ) -> list[Candidate]:
        expr = await _trigger(w, g, s)
        if expr is None:
            return []
        idle = (n - dt.timedelta(days=s.window), n - await idle_at_least(w, g, s))
        return await w.journeys.winback(g.pk, expr, n, idle, BATCH)

    queued = await each_batch(uow, group, Journey.WINBACK, now, render, first)
    if not settings.second:
        return queued
    sent_before = now - dt.timedelta(days=settings.second)

    async def second(
        w: UnitOfWork, g: ChatRecord, s: JourneySettings, n: dt.datetime
    ) -> list[Candidate]:
        return await w.journeys.winback_second(g.pk, sent_before, sent_before - SECOND_GRACE, BATCH)

    return queued + await each_batch(
        uow, group, Journey.WINBACK, now, render, second, step=2, offer=settings.second_offer
    )


def _from(settings: JourneySettings, floor: dt.datetime) -> dt.datetime:
    """The later of a journey's window start and the moment it was switched on."""
    return max(floor, settings.since) if settings.since is not None else floor


async def first_order(uow: Uow, group: ChatRecord, now: dt.datetime, render: Render) -> int:
    """首单礼: within 24 hours after a member's first order, a welcome pack for the next."""

    async def due(
        w: UnitOfWork, g: ChatRecord, s: JourneySettings, n: dt.datetime
    ) -> list[Candidate]:
        return await w.journeys.first_orders(g.pk, _from(s, n - FIRST_ORDER_WITHIN), n, BATCH)

    return await each_batch(uow, group, Journey.FIRST_ORDER, now, render, due)


async def repurchase(uow: Uow, group: ChatRecord, now: dt.datetime, render: Render) -> int:
    """复购提醒: N days after an order that no later order followed."""
    days = dt.timedelta(days=group.settings.journeys.after(Journey.REPURCHASE))

    async def due(
        w: UnitOfWork, g: ChatRecord, s: JourneySettings, n: dt.datetime
    ) -> list[Candidate]:
        start = _from(s, n - days - REPURCHASE_GRACE)
        return await w.journeys.repurchases(g.pk, start, n - days, BATCH)

    return await each_batch(uow, group, Journey.REPURCHASE, now, render, due)


async def nudge(uow: Uow, group: ChatRecord, now: dt.datetime, render: Render) -> int:
    """新人引导: joined N days ago and never checked in: one friendly nudge."""
    days = dt.timedelta(days=group.settings.journeys.after(Journey.NUDGE))

    async def due(
        w: UnitOfWork, g: ChatRecord, s: JourneySettings, n: dt.datetime
    ) -> list[Candidate]:
        start = n - days - NUDGE_GRACE
        if s.since is not None:
            start = max(start, s.since - days)  # joined after it was switched on, less N days
        return await w.journeys.newcomers(g.pk, start, n - days, BATCH)

    return await each_batch(uow, group, Journey.NUDGE, now, render, due)


async def referral(uow: Uow, group: ChatRecord, now: dt.datetime, render: Render) -> int:
    """双方得券: a friend whose invitation was confirmed gets their own welcome coupon, once
    (the inviter's reward is the referral program's)."""

    async def due(
        w: UnitOfWork, g: ChatRecord, s: JourneySettings, n: dt.datetime
    ) -> list[Candidate]:
        return await w.journeys.invited_friends(g.pk, _from(s, n - REFERRAL_WITHIN), BATCH)

    return await each_batch(uow, group, Journey.REFERRAL, now, render, due)
