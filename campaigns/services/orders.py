"""Orders: stored once per external id, then purchase points, coupons used in the order and
the inviter's first-order reward (好友首单), all in the order's transaction."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from campaigns.checkin import local_day
from campaigns.coupons import CouponRejected, Reason, check_usable, used_at
from campaigns.journeys import member_day_multiplier
from campaigns.orders import OrderIn, purchase_points
from campaigns.ports import UnitOfWork
from campaigns.ports.chats import ChatRecord
from campaigns.ports.orders import OrderTotals
from campaigns.referral import InviteStatus
from campaigns.services.chats import require_chat
from campaigns.services.points import PointsReason, award_points
from campaigns.services.segments import in_window
from campaigns.services.tiers import TierChange, promote
from campaigns.tags import TagSource, order_tags

CREDITED = {InviteStatus.PENDING, InviteStatus.CONFIRMED}


@dataclass(frozen=True)
class OrderResult:
    """What storing one order did."""

    stored: bool  # False: this external id was stored before, nothing changed
    points: int = 0
    inviter_reward: tuple[int, int] | None = None  # (inviter, points)
    coupons_used: list[str] = field(default_factory=list)
    coupons_refused: list[tuple[str, str]] = field(default_factory=list)  # (code, reason)
    known_member: bool = True  # False: never seen in the group, so no purchase points
    promotion: TierChange | None = None  # the order made the buyer qualify for a tier


async def record_order(
    uow: UnitOfWork, order: OrderIn, *, chat_id: int, source: str, received_at: dt.datetime
) -> OrderResult:
    """Store the order and apply what it earns; a replayed external id changes nothing.

    Coupons are judged at `received_at`, when the bot learns of the order: the order's own
    `at` comes from the shop and could make an expired coupon look valid.
    """
    async with uow:
        record = await require_chat(uow, chat_id)
        result = await apply_order(uow, record, order, source=source, now=received_at)
        await uow.commit()
    return result


async def apply_order(
    uow: UnitOfWork,
    record: ChatRecord,
    order: OrderIn,
    *,
    source: str,
    now: dt.datetime,
    redeemed: tuple[str, ...] = (),
) -> OrderResult:
    """Inside a transaction: store, tag the buyer from the items and category, redeem
    listed coupons, grant points.

    `redeemed` names coupons the caller already marked used for this order (/redeem). Each
    listed coupon is judged against what is left to pay after the ones before it, so
    together they never take off more than the order.
    """
    order_id = await uow.orders.add(
        record.pk,
        external_id=order.external_id,
        user_id=order.member,
        amount=order.amount,
        currency=order.currency,
        at=order.at,
        coupon_codes=order.coupons,
        items=order.items,
        category=order.category,
        source=source,
    )
    if order_id is None:
        return OrderResult(stored=False)
    month = local_day(order.at, record.settings.timezone).replace(day=1)
    await uow.segments.order_seen(
        record.pk, order.member, order.amount, order.at, month,
        in_window=in_window(record, month),
    )  # fmt: skip
    if tags := order_tags(order.items, order.category):  # "bought:tea", "category:tea"
        await uow.tags.add(record.pk, order.member, tags, source=TagSource.RULE, by=None, at=now)
    used, refused, left = list(redeemed), [], order.amount
    for code in (c for c in order.coupons if c not in redeemed):
        outcome = await _use_coupon(uow, record, order, code, left=left, now=now)
        if isinstance(outcome, int):
            used.append(code)
            left -= outcome
        else:
            refused.append((code, outcome))
    settings = record.settings
    member = await uow.members.stats(record.pk, order.member)
    points = 0
    if member is not None:  # orders and spend were counted above (segments.order_seen)
        points = purchase_points(
            order.amount, settings.order_points, ladder=settings.tiers, level=member.tier,
            member_day=member_day_multiplier(settings.journeys, order.at, settings.timezone),
        )  # fmt: skip
    await award_points(
        uow, record.pk, order.member, delta=points, reason=PointsReason.ORDER,
        key=f"order:{record.pk}:{order_id}", at=order.at, timezone=settings.timezone,
    )  # fmt: skip
    reward = await _first_order(uow, record, order)
    promotion = await promote(uow, record, order.member, now) if member is not None else None
    return OrderResult(
        True, points, reward, used, refused, known_member=member is not None, promotion=promotion
    )


async def _use_coupon(
    uow: UnitOfWork, record: ChatRecord, order: OrderIn, code: str, *, left: int, now: dt.datetime
) -> int | str:
    """Redeem a coupon the shop says the order used: its discount, or why it could not be."""
    coupon = await uow.coupons.by_code(code)
    if coupon is None or coupon.chat_pk != record.pk:
        return "unknown"
    if coupon.user_id != order.member:
        return "not_owner"
    try:
        off = check_usable(
            coupon.offer.template,
            status=coupon.status,
            issued_at=coupon.issued_at,
            expires_at=coupon.expires_at,
            order=left,
            currency=order.currency,
            now=now,
        )
    except CouponRejected as err:
        return str(err.reason)
    if not await uow.coupons.redeem(
        coupon.id, by=0, order_amount=order.amount, discount=off, at=used_at(coupon.issued_at, now)
    ):
        return str(Reason.USED)
    return off


async def _first_order(
    uow: UnitOfWork, record: ChatRecord, order: OrderIn
) -> tuple[int, int] | None:
    """The inviter of a credited friend earns points once, on the friend's first order."""
    reward = record.settings.referral.first_order
    if not reward or await uow.orders.count_of(record.pk, order.member) != 1:
        return None
    invite = await uow.invites.latest(record.pk, order.member)
    if invite is None or invite.inviter_id is None or invite.status not in CREDITED:
        return None
    inviter = invite.inviter_id
    if await uow.members.stats(record.pk, inviter) is None:
        return None
    if not await award_points(
        uow, record.pk, inviter, delta=reward, reason=PointsReason.REFERRAL_FIRST_ORDER,
        key=f"first-order:{record.pk}:{order.member}", at=order.at,
        timezone=record.settings.timezone,
    ):  # fmt: skip
        return None
    return inviter, reward


async def order_totals(uow: UnitOfWork, *, chat_id: int) -> dict[int, OrderTotals]:
    async with uow:
        record = await require_chat(uow, chat_id)
        return await uow.orders.totals(record.pk)


async def coupon_counts(uow: UnitOfWork, *, chat_id: int) -> dict[int, tuple[int, int]]:
    async with uow:
        record = await require_chat(uow, chat_id)
        return await uow.coupons.counts(record.pk)
