"""Journeys: the job that runs every group's journeys, the admins' switches, the report.

How one member's step is taken once is campaigns/services/journey_step.py; when each
journey's steps fall due, its own module (journey_members, journey_dates).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from typing import Any

from campaigns.audiences import AudienceRefused, parse_name
from campaigns.coupons import OfferPurpose
from campaigns.journeys import (
    KEYS,
    Journey,
    JourneyBook,
    JourneyProblem,
    JourneyRefused,
    JourneySettings,
    apply_journey_setting,
    configured,
    parse_journey,
    switched,
)
from campaigns.journeys_report import JourneyReport, report_of
from campaigns.members import ChatInfo
from campaigns.ports import UnitOfWork
from campaigns.ports.chats import ChatRecord
from campaigns.ports.members import Contact
from campaigns.services.chats import claim_update, ensure_chat, require_chat
from campaigns.services.coupons import Issued
from campaigns.services.journey_dates import birthday, member_day
from campaigns.services.journey_members import (
    first_order,
    idle_at_least,
    nudge,
    referral,
    repurchase,
    winback,
)
from campaigns.services.journey_step import JourneyMessage, Render, Step, Uow
from campaigns.settings import ChatSettings

REPORT_DAYS = 90


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


STEPS: dict[Journey, Step] = {
    Journey.WINBACK: winback,
    Journey.FIRST_ORDER: first_order,
    Journey.REPURCHASE: repurchase,
    Journey.NUDGE: nudge,
    Journey.REFERRAL: referral,
    Journey.BIRTHDAY: birthday,
    Journey.MEMBER_DAY: member_day,
}


# --- the admins' side -------------------------------------------------------------------


async def group_journeys(
    uow: UnitOfWork, *, chat_id: int
) -> tuple[JourneyBook, list[tuple[Journey, JourneyRefused]]]:
    """The group's journeys, and what no longer holds in them: an offer that ended or a
    saved audience deleted since it was set (the journey runs without it, or not at all)."""
    warnings = []
    async with uow:
        record = await require_chat(uow, chat_id)
        book = record.settings.journeys
        for journey in book.journeys:
            settings = book.get(journey)
            for key in ("offer", "second_offer", "audience", "tier"):
                if key not in KEYS[journey] or getattr(settings, key) is None:
                    continue
                try:
                    await _check(uow, record, settings, key)
                except JourneyRefused as problem:
                    warnings.append((journey, problem))
    return book, warnings


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
        record = await uow.chats.locked((await ensure_chat(uow, chat, defaults)).pk)
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


async def configure_journeys(
    uow: UnitOfWork, record: ChatRecord, entries: dict[str, dict[Any, object]], at: dt.datetime
) -> ChatRecord:
    """A calendar file's `journeys:`, checked as `/journey` checks (JourneyRefused for the
    first bad entry) and stored in the caller's transaction."""
    record = await uow.chats.locked(record.pk)
    book, keys = configured(record.settings.journeys, entries, at)
    for journey, key in keys:
        await _check(uow, record, book.get(journey), key)
    new = replace(record.settings, journeys=book)
    await uow.chats.save_settings(record.pk, new)
    return replace(record, settings=new)


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
    if key in {"window", "audience"}:
        quiet = await idle_at_least(uow, record, settings)
        if settings.window <= quiet.days:
            raise JourneyRefused(JourneyProblem.WINDOW_TOO_SHORT, str(quiet.days))
    if key == "tier" and settings.tier is not None:
        ladder = record.settings.tiers
        if ladder.level_named(settings.tier) is None:
            names = tuple(t.name for t in ladder.tiers)
            raise JourneyRefused(JourneyProblem.UNKNOWN_TIER, settings.tier[:32], names)
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
    return report_of(journey, runs, outcomes, now, days)


async def subscribe(
    uow: UnitOfWork, *, user_id: int, on: bool, update: tuple[int, int], at: dt.datetime
) -> bool:
    """`/unsubscribe` (on=False) or `/subscribe` in a private chat: the member's journey
    messages from every group; False when it was so already."""
    async with uow:
        await claim_update(uow, update[0], update[1], at)
        changed = await uow.journeys.subscribe(user_id, on)
        await uow.commit()
    return changed


async def journey_sample(
    uow: UnitOfWork, *, chat_id: int, journey: Journey, member: Contact, at: dt.datetime
) -> JourneyMessage:
    """The journey's first message for `member` (an admin's preview): with a sample coupon
    of its offer when it has a live one, nothing recorded or issued."""
    async with uow:
        record = await require_chat(uow, chat_id)
        settings = record.settings.journeys.get(journey)
        offer = None if settings.offer is None else await uow.coupons.template(settings.offer)
    sample = None
    if offer is not None and offer.chat_pk == record.pk and offer.active:
        sample = Issued(
            code="SAMP-LE00-00",
            offer=offer,
            expires_at=offer.template.expires_at(at),
        )
    return JourneyMessage(
        journey, 1, record.title, record.settings.language, record.settings.timezone, member,
        sample, settings.multiplier, record.username,
    )  # fmt: skip
