"""The checks every use case runs on outside input before it changes anything."""

from __future__ import annotations

import datetime as dt

from campaigns.access import AccessDenied, ButtonKind, Denied, ForeignButton, Gate, Tap
from campaigns.content import PostContent
from campaigns.coupons import OfferPurpose, OfferState, offer_state
from campaigns.ports import UnitOfWork
from campaigns.ports.chats import ChatRecord


def object_buttons(content: PostContent) -> list[tuple[ButtonKind, int]]:
    """The coupon offers and deals a post's buttons act on."""
    found: list[tuple[ButtonKind, int]] = []
    for b in content.buttons:
        if b.coupon is not None:
            found.append((ButtonKind.COUPON, b.coupon))
        elif b.groupbuy is not None:
            found.append((ButtonKind.DEAL, b.groupbuy))
    return found


async def _owns(
    uow: UnitOfWork, chat_pk: int, kind: ButtonKind, object_id: int, at: dt.datetime
) -> bool:
    """This group's own offer, live and not past its end date; or its deal, still open."""
    if kind is ButtonKind.COUPON:
        offer = await uow.coupons.template(object_id)
        return (
            offer is not None
            and offer.chat_pk == chat_pk
            and offer.purpose is OfferPurpose.OFFER
            and offer_state(
                active=offer.active,
                valid_until=offer.template.valid_until,
                valid_days=offer.template.valid_days,
                stock=offer.stock,
                issued=offer.issued,
                now=at,
            )
            is OfferState.LIVE
        )
    deal = await uow.groupbuys.deal(object_id)
    return deal is not None and deal.chat_pk == chat_pk and at < deal.deal.ends_at


async def check_buttons(
    uow: UnitOfWork, chat_pk: int, content: PostContent, at: dt.datetime
) -> None:
    """Every claim or join button of a post names this group's own live offer or deal
    (checked when a post is saved; the outbox checks again when it sends)."""
    for kind, object_id in object_buttons(content):
        if not await _owns(uow, chat_pk, kind, object_id, at):
            raise ForeignButton(kind, object_id)


async def own_buttons(
    uow: UnitOfWork, chat_pk: int, content: PostContent, at: dt.datetime
) -> PostContent:
    """The post with only the buttons that still act on this group's own offers and deals."""
    keep = []
    for b in content.buttons:
        if b.coupon is not None:
            ok = await _owns(uow, chat_pk, ButtonKind.COUPON, b.coupon, at)
        elif b.groupbuy is not None:
            ok = await _owns(uow, chat_pk, ButtonKind.DEAL, b.groupbuy, at)
        else:
            ok = True
        if ok:
            keep.append(b)
    if len(keep) == len(content.buttons):
        return content
    return content.model_copy(update={"buttons": keep})


async def require_member(uow: UnitOfWork, gate: Gate, chat: ChatRecord, user_id: int) -> None:
    """A present member of the group: the stored presence when it says so, else Telegram's
    word (members who were there before the bot and never spoke are not stored yet)."""
    if await uow.members.is_present(chat.pk, user_id):
        return
    if not await gate.is_member(chat.chat_id, user_id):
        raise AccessDenied(Denied.NOT_MEMBER)


async def require_admin(gate: Gate, chat_id: int, user_id: int) -> None:
    """An admin of this very group (or one of the bot's owners)."""
    if not await gate.is_admin(chat_id, user_id):
        raise AccessDenied(Denied.NOT_ADMIN)


async def require_button(uow: UnitOfWork, kind: ButtonKind, object_id: int, tap: Tap) -> None:
    """The tap came from the message the bot sent for this object, not any other."""
    if not await uow.buttons.sent_for(kind, object_id, tap.chat_id, tap.message_id):
        raise AccessDenied(Denied.WRONG_MESSAGE)


async def checked_tap(uow: UnitOfWork, *, kind: ButtonKind, object_id: int, tap: Tap) -> None:
    """First of all for a button: was it tapped on the message the bot sent for the object?
    (Asked before the object is even looked up, so a forged id reveals nothing.)"""
    async with uow:
        await require_button(uow, kind, object_id, tap)


async def authorize_admin(gate: Gate, *, group_id: int | None, user_id: int) -> None:
    """An admin button (a preview's ✅, a broadcast's ⏸), once `checked_tap` passed: tapped by
    an admin of the object's own group (`group_id`; None: an all-groups broadcast, which only
    the bot's owners manage)."""
    if group_id is None:
        if not gate.is_owner(user_id):
            raise AccessDenied(Denied.NOT_ADMIN)
        return
    await require_admin(gate, group_id, user_id)


async def remember_buttons(
    uow: UnitOfWork,
    *,
    kind: ButtonKind,
    object_id: int,
    chat_id: int,
    message_id: int,
    at: dt.datetime,
) -> None:
    """Record a message the bot just sent with buttons for an object (its own transaction)."""
    async with uow:
        await uow.buttons.remember(kind, object_id, chat_id, message_id, at)
        await uow.commit()
