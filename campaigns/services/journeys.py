"""Journeys: the job that takes each due step, the admins' switches, and the report.

Every step is taken in the transaction that records it: the run row first (its unique key
stops a rerun or a second process), then the coupon, then the private message as an outbox
row, which the outbox sends within Telegram's limits, once. A member in the holdout gets a
run row and nothing else. The messages' words are the composition root's (`render`): this
module decides who gets what and when.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace

from campaigns.audience_expr import AudienceExprError, Expr, parse
from campaigns.audiences import AudienceRefused, parse_name
from campaigns.content import PostContent
from campaigns.coupons import OfferPurpose
from campaigns.journeys import (
    Journey,
    JourneyBook,
    JourneyProblem,
    JourneyRefused,
    JourneySettings,
    RunStatus,
    apply_journey_setting,
    in_holdout,
    parse_journey,
    switched,
)
from campaigns.journeys_report import JourneyReport, report_of
from campaigns.members import ChatInfo
from campaigns.ports import UnitOfWork
from campaigns.ports.chats import ChatRecord
from campaigns.ports.journeys import Candidate
from campaigns.ports.members import Contact
from campaigns.services.audiences import saved_expr
from campaigns.services.chats import claim_update, ensure_chat, require_chat
from campaigns.services.coupons import CouponUnavailable, Issued, issue_coupon
from campaigns.settings import ChatSettings

log = logging.getLogger(__name__)

BATCH = 200  # members per transaction
DORMANT = "stage=dormant"
SECOND_GRACE = dt.timedelta(days=7)  # a second step due while the bot was down still goes
REPORT_DAYS = 90


@dataclass(frozen=True)
class JourneyMessage:
    """What one private message of a journey says; rendered in the member's language."""

    journey: Journey
    step: int
    group_title: str | None
    group_language: str
    timezone: str
    member: Contact
    coupon: Issued | None = None
    multiplier: float = 1.0  # a member day's


Render = Callable[[JourneyMessage], PostContent]
Uow = Callable[[], UnitOfWork]
Step = Callable[[Uow, ChatRecord, dt.datetime, Render], Awaitable[int]]


async def run_journeys(uow: Uow, *, now: dt.datetime, render: Render) -> int:
    """Every running journey of every group, once: the messages queued."""
    async with uow() as work:
        groups = [g for g in await work.chats.active() if g.settings.journeys.running]
    queued = 0
    for group in groups:
        for journey in group.settings.journeys.running:
            step = STEPS.get(journey)
            if step is not None:
                queued += await step(uow, group, now, render)
    return queued


async def take_step(
    work: UnitOfWork,
    group: ChatRecord,
    journey: Journey,
    who: Candidate,
    now: dt.datetime,
    render: Render,
    *,
    step: int = 1,
    offer: int | None = None,
    multiplier: float = 1.0,
) -> bool:
    """One member's step, once: recorded, then (outside the holdout) a coupon and the
    message queued. False when it was taken before or the member is held out."""
    settings = group.settings.journeys.get(journey)
    held = in_holdout(group.pk, who.user_id, journey, settings.holdout)
    status = RunStatus.HOLDOUT if held else RunStatus.QUEUED
    run_id = await work.journeys.start(
        group.pk, who.user_id, journey, who.episode, step, status, now
    )
    if run_id is None or held:
        return False
    issued = await _coupon(work, group, who.user_id, journey, offer, now)
    if issued is not None:
        await work.journeys.set_coupon(run_id, issued.code)
    contact = (await work.users.contacts([who.user_id])).get(who.user_id)
    if contact is None:
        return False
    message = JourneyMessage(
        journey, step, group.title, group.settings.language, group.settings.timezone, contact,
        issued, multiplier,
    )  # fmt: skip
    return await work.outbox.add_journey(run_id, who.user_id, render(message), now)


async def _coupon(
    work: UnitOfWork,
    group: ChatRecord,
    user_id: int,
    journey: Journey,
    offer_id: int | None,
    now: dt.datetime,
) -> Issued | None:
    """The journey's coupon; an offer ended, sold out or held to its limit sends the message
    without one (logged), as a tier's reward does."""
    if offer_id is None:
        return None
    offer = await work.coupons.template(offer_id)
    if offer is None or offer.chat_pk != group.pk or offer.purpose is not OfferPurpose.OFFER:
        log.warning(
            "journey %s in group %s names offer %s, not its own", journey, group.pk, offer_id
        )
        return None
    try:
        return await issue_coupon(work, offer, user_id, source=journey.value, at=now)
    except CouponUnavailable as err:
        log.warning(
            "journey %s coupon %s not issued to %s: %s", journey, offer_id, user_id, err.reason
        )
        return None


async def _trigger(work: UnitOfWork, group: ChatRecord, settings: JourneySettings) -> Expr | None:
    if settings.audience is None:
        return parse(DORMANT)
    try:
        return await saved_expr(work, group.pk, settings.audience)
    except (AudienceRefused, AudienceExprError):  # deleted, or no longer reads: nothing to do
        log.warning("win-back of group %s: audience %r is gone", group.pk, settings.audience)
        return None


async def _winback(uow: Uow, group: ChatRecord, now: dt.datetime, render: Render) -> int:
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


STEPS: dict[Journey, Step] = {Journey.WINBACK: _winback}


def register_step(journey: Journey, step: Step) -> None:
    """A journey's step function (each journey's module adds its own)."""
    STEPS[journey] = step


# --- the admins' side -------------------------------------------------------------------


async def group_journeys(uow: UnitOfWork, *, chat_id: int) -> tuple[ChatRecord, JourneyBook]:
    async with uow:
        record = await require_chat(uow, chat_id)
    return record, record.settings.journeys


async def change_journey(
    uow: UnitOfWork,
    *,
    update: tuple[int, int],
    chat: ChatInfo,
    words: list[str],
    at: dt.datetime,
    defaults: ChatSettings,
) -> tuple[Journey, ChatSettings]:
    """`on <journey>`, `off <journey>` or `set <journey> <key> <value>`: validated (an offer
    must be the group's live one, an audience one of its saved ones), then stored."""
    action, journey = words[0].casefold(), parse_journey(words[1])
    async with uow:
        await claim_update(uow, update[0], update[1], at)
        record = await ensure_chat(uow, chat, defaults)
        book = record.settings.journeys
        if action == "set":
            key = words[2] if len(words) > 2 else ""
            book = apply_journey_setting(book, journey, key, " ".join(words[3:]))
            await _check(uow, record, book.get(journey), key.casefold())
        else:
            book = switched(book, journey, action == "on", at)
        new = replace(record.settings, journeys=book)
        await uow.chats.save_settings(record.pk, new)
        await uow.commit()
    return journey, new


async def _check(uow: UnitOfWork, record: ChatRecord, settings: JourneySettings, key: str) -> None:
    if key in {"offer", "second_offer"}:
        offer_id = getattr(settings, key)
        if offer_id is None:
            return
        offer = await uow.coupons.template(offer_id)
        if (
            offer is None
            or offer.chat_pk != record.pk
            or not offer.active
            or offer.purpose is not OfferPurpose.OFFER
        ):
            raise JourneyRefused(JourneyProblem.UNKNOWN_OFFER, str(offer_id))
    if key == "audience" and settings.audience is not None:
        try:
            saved = await uow.audiences.get(record.pk, parse_name(settings.audience))
        except AudienceRefused:
            saved = None
        if saved is None:
            raise JourneyRefused(JourneyProblem.UNKNOWN_AUDIENCE, settings.audience[:40])


async def journey_report(
    uow: UnitOfWork, *, chat_id: int, journey: Journey, now: dt.datetime, days: int = REPORT_DAYS
) -> JourneyReport:
    """Entered, messaged, held out, returned within 7 and 14 days, redeemed, GMV: over the
    runs of the last `days` days (the rule is campaigns/journeys_report.py)."""
    since = now - dt.timedelta(days=days)
    async with uow:
        record = await require_chat(uow, chat_id)
        runs = await uow.journeys.runs(record.pk, journey, since)
        users = sorted({r.user_id for r in runs})
        codes = [r.coupon_code for r in runs if r.coupon_code is not None]
        outcomes = await uow.journeys.outcomes(record.pk, users, since, codes)
    return report_of(journey, runs, outcomes, record.settings.timezone, now, days)
