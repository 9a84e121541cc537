"""One member's step of a journey, taken once: the machinery every journey shares.

The step is taken in the transaction that records it: the run row first (its unique key
stops a rerun or a second process), then the coupon, then the private message as an outbox
row, which the outbox sends within Telegram's limits, once. A member in the holdout gets a
run row and nothing else. The words are the composition root's (`render`).
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from campaigns.content import PostContent
from campaigns.coupons import OfferPurpose
from campaigns.journeys import (
    GROUP_MEMBER,
    Journey,
    JourneySettings,
    RunStatus,
    holdout_period,
    in_holdout,
)
from campaigns.ports import UnitOfWork
from campaigns.ports.chats import ChatRecord
from campaigns.ports.journeys import Candidate
from campaigns.ports.members import Contact
from campaigns.services.coupons import CouponUnavailable, Issued, issue_coupon

log = logging.getLogger(__name__)

BATCH = 200  # members per transaction


@dataclass(frozen=True)
class JourneyMessage:
    """What one message of a journey says: a private one, rendered in the member's language,
    or (no `member`) a group-wide one in the group's."""

    journey: Journey
    step: int
    group_title: str | None
    group_language: str
    timezone: str
    member: Contact | None
    coupon: Issued | None = None
    multiplier: float = 1.0  # a member day's
    group_username: str | None = None  # a public group: the message links back to it


Render = Callable[[JourneyMessage], PostContent]
Uow = Callable[[], UnitOfWork]
Step = Callable[[Uow, ChatRecord, dt.datetime, Render], Awaitable[int]]


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
    gift_only: bool = False,
) -> bool:
    """One member's step, once: recorded, then (outside the holdout) a coupon and the
    message queued. False when it was taken before or the member is held out, or for a
    `gift_only` step whose coupon could not be issued (recorded as skipped, nothing sent)."""
    settings = group.settings.journeys.get(journey)
    period = holdout_period(journey, who.episode)
    held = in_holdout(group.pk, who.user_id, journey, settings.holdout, period)
    status = RunStatus.HOLDOUT if held else RunStatus.QUEUED
    run_id = await work.journeys.start(
        group.pk, who.user_id, journey, who.episode, step, status, now
    )
    if run_id is None or held:
        return False
    issued = await journey_coupon(work, group, who.user_id, journey, offer, now)
    if issued is not None:
        await work.journeys.set_coupon(run_id, issued.code)
    elif gift_only:
        await work.journeys.set_status(run_id, RunStatus.SKIPPED)
        return False
    contact = (await work.users.contacts([who.user_id])).get(who.user_id)
    if contact is None:
        return False
    message = JourneyMessage(
        journey, step, group.title, group.settings.language, group.settings.timezone, contact,
        issued, multiplier, group.username,
    )  # fmt: skip
    return await work.outbox.add_journey(run_id, who.user_id, render(message), now)


async def take_group_step(
    work: UnitOfWork,
    group: ChatRecord,
    journey: Journey,
    episode: str,
    now: dt.datetime,
    render: Render,
    *,
    multiplier: float = 1.0,
) -> bool:
    """A group-wide step (a member day's announcement), once: recorded as the run of
    GROUP_MEMBER, then one message to the group through the outbox. No holdout: the group
    is not a member. False when it was taken before."""
    run_id = await work.journeys.start(
        group.pk, GROUP_MEMBER, journey, episode, 1, RunStatus.QUEUED, now
    )
    if run_id is None:
        return False
    message = JourneyMessage(
        journey, 1, group.title, group.settings.language, group.settings.timezone, None,
        multiplier=multiplier,
    )  # fmt: skip
    return await work.outbox.add_journey(run_id, group.chat_id, render(message), now)


Due = Callable[[UnitOfWork, ChatRecord, JourneySettings, dt.datetime], Awaitable[list[Candidate]]]


async def each_batch(
    uow: Uow,
    group: ChatRecord,
    journey: Journey,
    now: dt.datetime,
    render: Render,
    due: Due,
    *,
    step: int = 1,
    offer: int | None = None,
    multiplier: float = 1.0,
    gift_only: bool = False,
) -> int:
    """Take the step (with the journey's `offer` unless another is given) for everyone `due`
    names, a batch per transaction, until a batch is short or names the same members again
    (whose steps were taken: a pre-filter that keeps finding them must not loop)."""
    settings = group.settings.journeys.get(journey)
    queued, before = 0, None
    while True:
        async with uow() as work:
            found = await due(work, group, settings, now)
            if found == before:
                return queued
            for who in found:
                queued += await take_step(
                    work, group, journey, who, now, render, step=step,
                    offer=offer if step > 1 else settings.offer, multiplier=multiplier,
                    gift_only=gift_only,
                )  # fmt: skip
            await work.commit()
        if len(found) < BATCH:
            return queued
        before = found


async def journey_coupon(
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
