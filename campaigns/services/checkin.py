"""The daily check-in: once per member per local day, with streak and points."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from campaigns.checkin import CheckinAward, award, current_streak, local_day, next_reset
from campaigns.coupons import OfferPurpose
from campaigns.errors import AlreadyCheckedIn
from campaigns.members import ChatInfo, EventKind, Person
from campaigns.ports import UnitOfWork
from campaigns.services.chats import claim_update, ensure_chat
from campaigns.services.coupons import CouponUnavailable, issue_coupon
from campaigns.services.points import PointsReason, award_points
from campaigns.settings import ChatSettings


@dataclass(frozen=True)
class CheckinResult:
    """What the member is told after a successful check-in."""

    award: CheckinAward
    rank_today: int
    balance: int
    next_reset: dt.datetime
    best_streak: int
    coupon: str | None = None  # the name of a streak-milestone coupon just issued


async def check_in(
    uow: UnitOfWork,
    *,
    bot_id: int,
    update_id: int,
    chat: ChatInfo,
    person: Person,
    at: dt.datetime,
    defaults: ChatSettings,
) -> CheckinResult:
    """Check in on the local day of `at` (the message's own date, so backlogs land right).

    The unique (chat, member, day) row decides double taps; points go through the
    ledger with per-day idempotency keys.
    """
    async with uow:
        await claim_update(uow, bot_id, update_id, at)
        record = await ensure_chat(uow, chat, defaults)
        settings = record.settings
        day = local_day(at, settings.timezone)
        reset = next_reset(at, settings.timezone)
        await uow.users.upsert([person])
        await uow.members.count_messages(record.pk, {person.user_id: (0, at, at)})
        previous = await uow.checkins.previous(record.pk, person.user_id, day)
        granted = award(previous, day, settings.checkin)
        if not await uow.checkins.add(record.pk, person.user_id, granted, at):
            stats = await uow.members.stats(record.pk, person.user_id)
            await uow.commit()  # keeps the update claimed: a replay must not re-answer
            raise AlreadyCheckedIn(
                day=day,
                next_reset=reset,
                timezone=settings.timezone,
                streak=current_streak(
                    stats.last_checkin_day if stats else None, stats.streak if stats else 0, day
                ),
                balance=stats.points if stats else 0,
            )
        await uow.members.record_checkin(record.pk, person.user_id, granted)
        prefix = f"checkin:{record.pk}:{person.user_id}:{day.isoformat()}"
        parts = [
            (PointsReason.CHECKIN, granted.base_points + granted.streak_points, prefix),
            (PointsReason.STREAK_MILESTONE, granted.milestone_points, f"{prefix}:milestone"),
        ]
        for reason, delta, key in parts:
            await award_points(
                uow, record.pk, person.user_id, delta=delta, reason=reason, key=key, at=at
            )
        coupon = await _milestone_coupon(uow, record.pk, person.user_id, granted, settings, at)
        await uow.events.add(
            [(record.pk, person.user_id, EventKind.CHECKIN, at, granted.total, None)]
        )
        rank = await uow.checkins.rank_on(record.pk, person.user_id, day)
        stats = await uow.members.stats(record.pk, person.user_id)
        await uow.commit()
    return CheckinResult(
        award=granted,
        rank_today=rank,
        balance=stats.points if stats else 0,
        next_reset=reset,
        best_streak=stats.best_streak if stats else granted.streak,
        coupon=coupon,
    )


async def _milestone_coupon(
    uow: UnitOfWork,
    chat_pk: int,
    user_id: int,
    granted: CheckinAward,
    settings: ChatSettings,
    at: dt.datetime,
) -> str | None:
    """A coupon for reaching a streak day, if the group set one; a sold-out offer is skipped."""
    offer_id = settings.checkin.milestone_coupons.get(granted.streak)
    offer = await uow.coupons.template(offer_id) if offer_id else None
    if (
        offer is None
        or offer.chat_pk != chat_pk
        or not offer.active
        or offer.purpose is not OfferPurpose.OFFER
    ):
        return None
    try:
        await issue_coupon(uow, offer, user_id, source="checkin", at=at)
    except CouponUnavailable:
        return None
    return offer.name
