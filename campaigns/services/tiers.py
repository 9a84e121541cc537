"""Membership tiers (会员等级): promotion the moment a member qualifies, the periodic review
that demotes after the grace period, an admin's raise, and what /tier and /me show.

The rules are campaigns/tiers.py; this module only reads standings, moves tiers and grants
entry rewards in the caller's transaction. Whatever runs twice (a redelivered update, two
processes) meets the database's keys: a conditional UPDATE moves a member up once, the
unique tier_rewards row grants each level's reward once, and the reward's points carry an
idempotency key.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum

from campaigns.checkin import local_day
from campaigns.errors import DomainError
from campaigns.members import EventKind
from campaigns.ports import UnitOfWork
from campaigns.ports.chats import ChatRecord
from campaigns.ports.members import Contact
from campaigns.ports.tiers import TierState
from campaigns.services.chats import claim_update, require_chat
from campaigns.services.points import PointsReason, award_points
from campaigns.tiers import (
    MAX_TIERS,
    Progress,
    ReviewOutcome,
    Standing,
    TierLadder,
    is_review_day,
    progress,
    qualifying_level,
    review,
    rewards_due,
    window_start,
)


class TierChangeKind(StrEnum):
    PROMOTED = "promoted"  # qualified by points earned or spend
    RAISED = "raised"  # an admin set a higher tier
    LOWERED = "lowered"  # an admin set a lower tier
    DEMOTED = "demoted"  # the review, after the grace period


@dataclass(frozen=True)
class TierChange:
    """A member moved tier: what the private notice says (sent only if `member.reachable`)."""

    kind: TierChangeKind
    chat_id: int
    chat_title: str | None
    group_language: str
    member: Contact
    ladder: TierLadder
    old: int
    new: int
    reward_points: int = 0  # entry rewards granted now, all tiers passed together
    coupons: tuple[str, ...] = ()  # names of the coupon offers issued as entry rewards


@dataclass(frozen=True)
class TierView:
    """/tier and /me: the member's tier, what counts towards tiers, the gap to the next."""

    ladder: TierLadder
    level: int
    standing: Standing
    progress: Progress
    below_since: dt.datetime | None  # the review found them below their tier then
    timezone: str = "UTC"  # the group's, for the dates shown

    @property
    def keep_until(self) -> dt.datetime | None:
        """When the grace period runs out: the first review after it may demote."""
        if self.below_since is None:
            return None
        return self.below_since + dt.timedelta(days=self.ladder.grace_days)


class TierProblem(StrEnum):
    UNKNOWN_TIER = "unknown_tier"  # `value`: the name typed
    NOT_MEMBER = "not_member"  # the member was never seen in the group
    SAME_TIER = "same_tier"  # `value`: the tier's name


@dataclass
class TierRefused(DomainError):
    problem: TierProblem
    value: str = ""

    def __str__(self) -> str:
        return str(self.problem)


def _since(record: ChatRecord, now: dt.datetime) -> dt.date | None:
    return window_start(record.settings.tiers, local_day(now, record.settings.timezone))


async def _grant(
    uow: UnitOfWork, record: ChatRecord, user_id: int, old: int, new: int, now: dt.datetime
) -> tuple[int, tuple[str, ...]]:
    """Each passed tier's entry reward, skipped tiers included, each once ever: the unique
    tier_rewards row decides (a member who drops and climbs again is not paid twice)."""
    ladder, points, coupons = record.settings.tiers, 0, []
    done = await uow.tiers.rewarded(record.pk, user_id)
    for level in rewards_due(old, new, sorted(done)):
        if not await uow.tiers.reward(record.pk, user_id, level, now):
            continue
        tier = ladder.tiers[level]
        if await award_points(
            uow, record.pk, user_id, delta=tier.reward_points, reason=PointsReason.TIER_REWARD,
            key=f"tier:{record.pk}:{user_id}:{level}", at=now, timezone=record.settings.timezone,
        ):  # fmt: skip
            points += tier.reward_points
        name = await _coupon(uow, record, user_id, tier.reward_offer, now)
        if name is not None:
            coupons.append(name)
    return points, tuple(coupons)


CouponReward = Callable[[UnitOfWork, ChatRecord, int, str, dt.datetime], Awaitable[str | None]]
_COUPON_REWARD: list[CouponReward] = []


def register_coupon_reward(issuer: CouponReward) -> None:
    """The coupon grant a tier's `reward_offer` goes through (campaigns/services/coupons
    imports this module through orders, so bot.wiring.install() plugs it in)."""
    _COUPON_REWARD[:] = [issuer]


async def _coupon(
    uow: UnitOfWork, record: ChatRecord, user_id: int, offer_ref: str | None, now: dt.datetime
) -> str | None:
    if offer_ref is None:
        return None
    if not _COUPON_REWARD:
        raise RuntimeError("no tier coupon issuer: call bot.wiring.install() at start")
    return await _COUPON_REWARD[0](uow, record, user_id, offer_ref, now)


async def _change(
    uow: UnitOfWork,
    record: ChatRecord,
    user_id: int,
    kind: TierChangeKind,
    old: int,
    new: int,
    granted: tuple[int, tuple[str, ...]] = (0, ()),
) -> TierChange:
    contact = (await uow.users.contacts([user_id])).get(user_id)
    return TierChange(
        kind=kind,
        chat_id=record.chat_id,
        chat_title=record.title,
        group_language=record.settings.language,
        member=contact or Contact(user_id, str(user_id), None, False),
        ladder=record.settings.tiers,
        old=old,
        new=new,
        reward_points=granted[0],
        coupons=granted[1],
    )


async def promote(
    uow: UnitOfWork, record: ChatRecord, user_id: int, now: dt.datetime
) -> TierChange | None:
    """Inside the transaction of an order or a points entry: move the member up to the
    highest tier they qualify for and grant each passed tier's reward once. Reward points
    are points earned too, so it looks again until nothing moves. None: no promotion."""
    ladder, since = record.settings.tiers, _since(record, now)
    first: int | None = None
    last, points = 0, 0
    coupons: tuple[str, ...] = ()
    for _ in range(MAX_TIERS):
        state = await uow.tiers.state(record.pk, user_id, since)
        if state is None:
            break
        reached = qualifying_level(ladder, state.standing)
        if reached <= state.level:
            break
        if not await uow.tiers.move(record.pk, user_id, level=reached, at=now, only_up=True):
            break  # another transaction moved them as far
        first = state.level if first is None else first
        last = reached
        more, issued = await _grant(uow, record, user_id, state.level, reached, now)
        points, coupons = points + more, (*coupons, *issued)
    if first is None:
        return None
    return await _change(
        uow, record, user_id, TierChangeKind.PROMOTED, first, last, (points, coupons)
    )


async def set_member_tier(
    uow: UnitOfWork,
    *,
    bot_id: int,
    update_id: int,
    chat_id: int,
    by: int,
    user_id: int,
    name: str,
    at: dt.datetime,
) -> TierChange:
    """`/tier set <name>` by an admin: the member's tier is set (kept until a review after
    the grace period, like an earned one); a raise grants the passed tiers' rewards once.
    Logged as a TIER activity event with from, to and by."""
    async with uow:
        await claim_update(uow, bot_id, update_id, at)
        record = await require_chat(uow, chat_id)
        ladder = record.settings.tiers
        level = ladder.level_named(name)
        if level is None:
            raise TierRefused(TierProblem.UNKNOWN_TIER, name)
        state = await uow.tiers.state(record.pk, user_id, _since(record, at))
        if state is None:
            raise TierRefused(TierProblem.NOT_MEMBER)
        if state.level == level:
            raise TierRefused(TierProblem.SAME_TIER, ladder.tiers[level].name)
        await uow.tiers.move(record.pk, user_id, level=level, at=at, only_up=False)
        raised = level > state.level
        granted = await _grant(uow, record, user_id, state.level, level, at) if raised else (0, ())
        meta = {"from": str(state.level), "to": str(level), "by": str(by)}
        await uow.events.add([(record.pk, user_id, EventKind.TIER, at, level, meta)])
        kind = TierChangeKind.RAISED if raised else TierChangeKind.LOWERED
        change = await _change(uow, record, user_id, kind, state.level, level, granted)
        await uow.commit()
    return change


def _view(ladder: TierLadder, state: TierState, timezone: str) -> TierView:
    level = min(state.level, len(ladder.tiers) - 1)
    return TierView(
        ladder=ladder,
        level=level,
        standing=state.standing,
        progress=progress(ladder, level, state.standing),
        below_since=state.below_since,
        timezone=timezone,
    )


async def tier_view(
    uow: UnitOfWork, record: ChatRecord, user_id: int, at: dt.datetime
) -> TierView | None:
    """Inside a transaction: the member's tier and progress (None: never seen here)."""
    state = await uow.tiers.state(record.pk, user_id, _since(record, at))
    if state is None:
        return None
    return _view(record.settings.tiers, state, record.settings.timezone)


async def my_tier(
    uow: UnitOfWork, *, bot_id: int, update_id: int, chat_id: int, user_id: int, at: dt.datetime
) -> TierView | None:
    """/tier: the caller's tier in the group and what the next one still needs."""
    async with uow:
        await claim_update(uow, bot_id, update_id, at)
        record = await require_chat(uow, chat_id)
        view = await tier_view(uow, record, user_id, at)
        await uow.commit()
    return view


async def group_ladder(
    uow: UnitOfWork, *, bot_id: int, update_id: int, chat_id: int, at: dt.datetime
) -> TierLadder:
    """/tier ladder: the group's tiers."""
    async with uow:
        await claim_update(uow, bot_id, update_id, at)
        record = await require_chat(uow, chat_id)
        await uow.commit()
    return record.settings.tiers


async def review_tiers(uow: Callable[[], UnitOfWork], *, now: dt.datetime) -> list[TierChange]:
    """The periodic review, one transaction per group whose review day it is (in its own
    calendar): a member below their tier starts the grace period, one still below when it
    has run out is demoted to the tier they qualify for (and told), one who qualifies again
    is kept. Running it twice on a day changes nothing more."""
    async with uow() as first:
        records = await first.chats.active()
    changes: list[TierChange] = []
    for record in records:
        ladder = record.settings.tiers
        if not is_review_day(ladder, local_day(now, record.settings.timezone)):
            continue
        async with uow() as work:
            for state in await work.tiers.holders(record.pk, _since(record, now)):
                outcome = review(
                    ladder,
                    level=state.level,
                    standing=state.standing,
                    below_since=state.below_since,
                    now=now,
                )
                if outcome.outcome is ReviewOutcome.DEMOTE:
                    await work.tiers.move(
                        record.pk, state.user_id, level=outcome.level, at=now, only_up=False
                    )
                    demoted = TierChangeKind.DEMOTED
                    change = await _change(
                        work, record, state.user_id, demoted, state.level, outcome.level
                    )
                    changes.append(change)
                elif outcome.below_since != state.below_since:
                    await work.tiers.set_below_since(record.pk, state.user_id, outcome.below_since)
            await work.commit()
    return changes
