"""The daily check-in: once per member per local day, with streak and points."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from campaigns.checkin import (
    CheckinAward,
    PreviousCheckin,
    award,
    current_streak,
    local_day,
    next_reset,
)
from campaigns.coupons import OfferPurpose
from campaigns.errors import AlreadyCheckedIn, DuplicateUpdate
from campaigns.journeys import member_day_multiplier
from campaigns.members import ChatInfo, Person
from campaigns.ports import UnitOfWork
from campaigns.ports.activity import PointsEntry
from campaigns.ports.chats import ChatRecord
from campaigns.ports.members import Counters
from campaigns.services.chats import ensure_chat
from campaigns.services.coupons import CouponUnavailable, issue_coupon
from campaigns.services.points import PointsReason
from campaigns.services.tiers import TierChange, promote
from campaigns.settings import ChatSettings
from campaigns.tiers import Standing, could_rise


@dataclass(frozen=True)
class CheckinResult:
    """What the member is told after a successful check-in."""

    award: CheckinAward
    rank_today: int
    balance: int
    next_reset: dt.datetime
    best_streak: int
    coupon: str | None = None  # the name of a streak-milestone coupon just issued
    promotion: TierChange | None = None  # the points made the member qualify for a tier


class CheckedIn:
    """Who checked in on which local day, as this process saw it: a hint, never the answer.

    A 签到 from a member known to have checked in that day is first tried as a refusal on
    its own (Members.claim_if_done in UnitOfWork.alone()): one statement that reads the
    member's row without locking it and claims the update only if the store agrees. On
    PostgreSQL that is one round trip instead of four, and a rush's repeats neither wait
    for an activity batch holding the row nor hold one up. A wrong or missing hint costs
    at most one read; the check-in then goes the whole way. One day per member, and at
    most LIMIT members (then it starts afresh).
    """

    LIMIT = 100_000

    def __init__(self) -> None:
        self._days: dict[tuple[int, int], dt.date] = {}

    def knows(self, chat_id: int, user_id: int, day: dt.date) -> bool:
        return self._days.get((chat_id, user_id)) == day

    def saw(self, chat_id: int, user_id: int, day: dt.date) -> None:
        if len(self._days) >= self.LIMIT and (chat_id, user_id) not in self._days:
            self._days.clear()
        self._days[(chat_id, user_id)] = day


async def check_in(
    uow: UnitOfWork,
    *,
    bot_id: int,
    update_id: int,
    chat: ChatInfo,
    person: Person,
    at: dt.datetime,
    defaults: ChatSettings,
    settings: ChatSettings | None = None,
    checked_in: CheckedIn | None = None,
) -> CheckinResult:
    """Check in on the local day of `at` (the message's own date, so backlogs land right);
    `checked_in`: the caller's hint of who already has (see CheckedIn), kept up to date.

    The unique (chat, member, day) row decides double taps; points go through the
    ledger with per-day idempotency keys. `settings` are the group's as the caller holds
    them (the handlers' cache: a change made through another process arrives within its
    lifetime); without them they are read from the group's row.

    A morning rush is hundreds of these a second, so the member's row does the reading:
    one upsert (with the update's claim) registers the member, marks them active and
    returns the counters that tell
    whether today is done and which check-in came before; the rules here decide the award
    and its ledger entries, and one Checkins.record stores all of it (one statement on
    PostgreSQL). A known user's name is refreshed by the activity buffer (the 签到 message
    is counted there too), not here.
    """
    hint = checked_in if checked_in is not None else CheckedIn()
    if settings is not None:  # known to be done that day: the refusal alone, if the store agrees
        day = local_day(at, settings.timezone)
        if hint.knows(chat.chat_id, person.user_id, day):
            async with uow.alone() as alone:
                done = await alone.members.claim_if_done(
                    bot_id, update_id, chat.chat_id, person.user_id, day, at
                )
                if done is not None and done.member is not None:  # else: the whole way
                    if not done.claimed:
                        raise DuplicateUpdate
                    reset = next_reset(at, settings.timezone)
                    raise await _refused(alone, done.member, day, reset, settings)
    try:
        async with uow:
            seen = await uow.members.claim_and_see(
                bot_id, update_id, chat.chat_id, person.user_id, at
            )
            if not seen.claimed:
                raise DuplicateUpdate
            if settings is None:
                settings = (await ensure_chat(uow, chat, defaults)).settings
            member = seen.member
            if member is None:  # someone new, or a group never registered (or left): store them
                await uow.users.upsert([person])
                settings = (await ensure_chat(uow, chat, defaults)).settings
                member = await uow.members.seen_in(chat.chat_id, person.user_id, at)
                assert member is not None, "the user and the active group are stored now"
            day = local_day(at, settings.timezone)
            reset = next_reset(at, settings.timezone)
            if member.last_checkin_day == day:  # read under the row's lock: today's is stored
                raise await _refused(uow, member, day, reset, settings)
            previous = await _previous(uow, member, person.user_id, day)
            granted = award(
                previous, day, settings.checkin, ladder=settings.tiers, level=member.tier,
                member_day=member_day_multiplier(settings.journeys, at, settings.timezone),
            )  # fmt: skip
            pk = member.chat_pk
            prefix = f"checkin:{pk}:{person.user_id}:{day.isoformat()}"
            entries = [  # base and streak points with the tier's and the member day's extra
                PointsEntry(PointsReason.CHECKIN, granted.multiplied, prefix),
                PointsEntry(
                    PointsReason.STREAK_MILESTONE, granted.milestone_points, f"{prefix}:milestone"
                ),
            ]
            stored = await uow.checkins.record(pk, person.user_id, granted, at, entries)
            if stored is None:
                raise await _refused(uow, member, day, reset, settings)
            coupon = await _milestone_coupon(uow, pk, person.user_id, granted, settings, at)
            promotion = None
            if could_rise(settings.tiers, member.tier, Standing(stored.spend, stored.earned)):
                record = ChatRecord(pk, chat.chat_id, chat.title, True, settings)
                promotion = await promote(uow, record, person.user_id, at)
            await uow.commit()
    except AlreadyCheckedIn as refused:
        hint.saw(chat.chat_id, person.user_id, refused.day)
        raise
    hint.saw(chat.chat_id, person.user_id, day)
    return CheckinResult(
        award=granted,
        rank_today=stored.rank,
        balance=stored.balance,
        next_reset=reset,
        best_streak=stored.best_streak,
        coupon=coupon,
        promotion=promotion,
    )


async def _refused(
    uow: UnitOfWork, member: Counters, day: dt.date, reset: dt.datetime, settings: ChatSettings
) -> AlreadyCheckedIn:
    """Today's check-in exists: commit (the update stays claimed, so a replay does not answer
    again) and say when the next one opens.

    The commit need not be durable: it stores only that the update was seen (and that the
    member was active, which the activity buffer stores too). A database crash that loses
    it makes a redelivery answer "already checked in" once more, the same answer; in a
    rush most 签到 are repeats, and a disk sync each was most of their time on PostgreSQL.
    """
    await uow.commit(durable=False)
    return AlreadyCheckedIn(
        day=day,
        next_reset=reset,
        timezone=settings.timezone,
        streak=current_streak(member.last_checkin_day, member.streak, day),
        balance=member.points,
    )


async def _previous(
    uow: UnitOfWork, member: Counters, user_id: int, day: dt.date
) -> PreviousCheckin | None:
    """The member's latest check-in before `day`. The counters hold the latest of all; only
    a backlog (a message from an earlier day handled after a later check-in) asks the log."""
    if member.last_checkin_day is None:
        return None
    if member.last_checkin_day < day:
        return PreviousCheckin(day=member.last_checkin_day, streak=member.streak)
    return await uow.checkins.previous(member.chat_pk, user_id, day)


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
