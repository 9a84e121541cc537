"""Journeys started by what a member did or stopped doing: win-back (沉睡唤醒)."""

from __future__ import annotations

import datetime as dt
import logging

from campaigns.audience_expr import AudienceExprError, Expr, parse
from campaigns.audiences import AudienceRefused
from campaigns.journeys import Journey, JourneySettings
from campaigns.ports import UnitOfWork
from campaigns.ports.chats import ChatRecord
from campaigns.services.audiences import saved_expr
from campaigns.services.journey_step import BATCH, Render, Uow, take_step

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


async def winback(uow: Uow, group: ChatRecord, now: dt.datetime, render: Render) -> int:
    """沉睡唤醒: first steps for members in the trigger, then second steps that are due."""
    settings = group.settings.journeys.get(Journey.WINBACK)
    idle_from = now - dt.timedelta(days=settings.window)
    queued = 0
    while True:
        async with uow() as work:
            expr = await _trigger(work, group, settings)
            if expr is None:
                return queued
            due = await work.journeys.winback(group.pk, expr, now, idle_from, BATCH)
            for who in due:
                queued += await take_step(
                    work, group, Journey.WINBACK, who, now, render, offer=settings.offer
                )
            await work.commit()
        if len(due) < BATCH:
            break
    if not settings.second:
        return queued
    sent_before = now - dt.timedelta(days=settings.second)
    while True:
        async with uow() as work:
            due = await work.journeys.winback_second(
                group.pk, sent_before, sent_before - SECOND_GRACE, BATCH
            )
            for who in due:
                queued += await take_step(
                    work, group, Journey.WINBACK, who, now, render, step=2,
                    offer=settings.second_offer,
                )  # fmt: skip
            await work.commit()
        if len(due) < BATCH:
            return queued
