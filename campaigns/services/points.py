"""Awarding points: one use case, so the ledger and the balance can never disagree.

Every award is an entry in the points ledger under an idempotency key (a redelivered update,
a sweep run twice or a replayed order finds the key taken and changes nothing) and the same
delta on the member's balance, in the caller's transaction. A positive entry is also points
*earned*, which membership tiers count (the member's running total and the month bucket of
the group's calendar): a negative one (a clawback, or points spent) never lowers it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

from campaigns.checkin import local_day
from campaigns.errors import DomainError
from campaigns.ports import UnitOfWork
from campaigns.tiers import month_of


class PointsReason(StrEnum):
    """Why points moved; stored with each ledger entry (exports and reports read it)."""

    CHECKIN = "checkin"
    STREAK_MILESTONE = "streak_milestone"
    ORDER = "order"
    REFERRAL_TIER = "referral_tier"
    REFERRAL_CLAWBACK = "referral_clawback"
    REFERRAL_FIRST_ORDER = "referral_first_order"
    TIER_REWARD = "tier_reward"
    SHOP = "shop"  # points spent in the points shop (积分兑换)
    EXPIRY = "expiry"  # points past the group's expiry, oldest first


@dataclass
class NotEnoughPoints(DomainError):
    """A spend larger than the balance; nothing was written."""

    balance: int
    amount: int


async def award_points(
    uow: UnitOfWork,
    chat_pk: int,
    user_id: int,
    *,
    delta: int,
    reason: PointsReason,
    key: str,
    at: dt.datetime,
    timezone: str | None = None,
) -> bool:
    """Add `delta` (negative takes back) once per `key`; False when nothing moved (no
    points, or the key was awarded already). `timezone` is the group's (read when not
    given): it decides the month a positive entry counts in."""
    if not delta:
        return False
    if not await uow.ledger.add(chat_pk, user_id, delta=delta, reason=reason, key=key, at=at):
        return False
    await uow.members.add_points(chat_pk, user_id, delta)
    if delta > 0:
        if timezone is None:
            record = await uow.chats.by_pk(chat_pk)
            timezone = record.settings.timezone if record is not None else "UTC"
        month = month_of(local_day(at, timezone))
        await uow.members.add_earned(chat_pk, user_id, delta, month)
    return True


async def spend_points(
    uow: UnitOfWork,
    chat_pk: int,
    user_id: int,
    *,
    amount: int,
    reason: PointsReason,
    key: str,
    at: dt.datetime,
) -> int | None:
    """Take `amount` (> 0) from the balance once per `key`, never below zero: the balance
    moves by a conditional UPDATE and the ledger gets one entry. The new balance; None when
    the key was spent already (nothing changed); NotEnoughPoints (nothing written) when the
    balance is short. Points spent are not points earned: tiers never drop for it."""
    if amount <= 0:
        raise ValueError("a spend takes a positive amount")
    balance = await uow.members.take_points(chat_pk, user_id, amount)
    if balance is None:
        raise NotEnoughPoints(await uow.members.balance(chat_pk, user_id) or 0, amount)
    if not await uow.ledger.add(chat_pk, user_id, delta=-amount, reason=reason, key=key, at=at):
        await uow.members.add_points(chat_pk, user_id, amount)  # the key's spend stands alone
        return None
    return balance
