"""Broadcasts: a draft shown to the admin, then one outbox row per recipient.

Recipients are fixed when sending starts (a member who joins later is not added), and each
is a unique row, so a restart resumes where the broadcast stopped.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from campaigns.access import ButtonKind, ForeignButton, Gate, Tap
from campaigns.audience import Audience
from campaigns.broadcast_variants import (
    ReportRefusal,
    ReportRefused,
    VariantReport,
    report_of,
    split,
)
from campaigns.content import PostContent
from campaigns.errors import DomainError
from campaigns.experiments import HOLDOUT, is_experiment
from campaigns.outbox import UNFINISHED, BroadcastStatus, DeliveryStatus
from campaigns.ports import UnitOfWork
from campaigns.ports.broadcasts import BroadcastRecord
from campaigns.services.access import (
    authorize_admin,
    check_buttons,
    checked_tap,
    object_buttons,
)
from campaigns.services.audiences import saved_expr
from campaigns.services.chats import claim_update, require_chat

RATE_WINDOW = dt.timedelta(seconds=60)


class Target(StrEnum):
    MEMBERS = "members"  # the group's members who started the bot, privately
    GROUPS = "groups"  # one post in each of the bot's groups


class Control(StrEnum):
    """What an admin's button does to a broadcast."""

    SEND = "send"  # the preview's 📣: draft -> sending
    PAUSE = "pause"
    RESUME = "resume"
    CANCEL = "cancel"


class BroadcastRefusal(StrEnum):
    UNKNOWN = "unknown"
    STATE = "state"
    EMPTY = "empty"  # nobody matches


@dataclass
class BroadcastRefused(DomainError):
    reason: BroadcastRefusal
    broadcast_id: int | None = None


@dataclass(frozen=True)
class Progress:
    broadcast: BroadcastRecord
    sent: int
    failed: int
    left: int
    uncertain: int
    cancelled: int
    per_second: float  # over the last minute
    group_id: int | None  # the members' group (Telegram id); None for a broadcast to all groups
    held_out: int = 0  # members of its A/B test's holdout: never sent

    @property
    def eta(self) -> dt.timedelta | None:
        if self.left == 0:
            return dt.timedelta(0)
        if self.per_second <= 0:
            return None
        return dt.timedelta(seconds=round(self.left / self.per_second))


async def draft(
    uow: UnitOfWork,
    *,
    chat_id: int | None,
    target: Target,
    content: PostContent,
    audience: Audience,
    created_by: int | None,
    now: dt.datetime,
    update: tuple[int, int] | None = None,
    variants: Sequence[PostContent] = (),
    holdout: int = 0,
) -> tuple[BroadcastRecord, int, int]:
    """The broadcast, not yet sent, how many it would reach now and how many of them its
    holdout keeps out (for the preview); with two or more `variants` (A is `content`) or a
    `holdout`, an A/B test of it."""
    async with uow:
        if update is not None:
            await claim_update(uow, update[0], update[1], now)
        chat_pk = (await require_chat(uow, chat_id)).pk if chat_id is not None else None
        if chat_pk is not None:
            for each in variants or [content]:
                await check_buttons(uow, chat_pk, each, now)
        elif object_buttons(content):  # one post in every group: no offer is every group's
            kind, object_id = object_buttons(content)[0]
            raise ForeignButton(kind, object_id)
        targets = await _targets(uow, chat_pk, target, audience, now)
        count = len(targets)
        if count == 0:
            raise BroadcastRefused(BroadcastRefusal.EMPTY)
        bid = await uow.broadcasts.add(
            chat_pk, target, content, audience, created_by=created_by, at=now,
            variants=variants, holdout=holdout,
        )  # fmt: skip
        record = await uow.broadcasts.get(bid)
        await uow.commit()
    assert record is not None
    held = (
        len(split(bid, targets, record.variant_count, holdout).get(HOLDOUT, [])) if holdout else 0
    )
    return record, count, held


async def _targets(
    uow: UnitOfWork, chat_pk: int | None, target: str, audience: Audience, now: dt.datetime
) -> list[int]:
    if target == Target.GROUPS:
        return [chat.chat_id for chat in await uow.chats.active()]
    assert chat_pk is not None
    if audience.saved is None:
        return await uow.broadcasts.recipients(chat_pk, audience, now)
    # A saved audience is read now (at the preview, and again when sending starts).
    selected = await uow.audiences.members(
        chat_pk, await saved_expr(uow, chat_pk, audience.saved), now
    )
    if not audience.has_rules:
        return selected
    also = set(await uow.broadcasts.recipients(chat_pk, audience.rules, now))
    return [uid for uid in selected if uid in also]


async def start(
    uow: UnitOfWork,
    *,
    broadcast_id: int,
    now: dt.datetime,
    progress_at: tuple[int, int] | None = None,
) -> BroadcastRecord:
    """Draft -> sending: the recipients become outbox rows in the same transaction, and the
    message the ✅ was tapped on (`progress_at`: chat, message) becomes the progress message."""
    async with uow:
        record = await uow.broadcasts.get(broadcast_id)
        if record is None:
            raise BroadcastRefused(BroadcastRefusal.UNKNOWN, broadcast_id)
        if not await uow.broadcasts.set_status(
            broadcast_id,
            old=[BroadcastStatus.DRAFT],
            new=BroadcastStatus.SENDING,
            at=now,
        ):
            raise BroadcastRefused(BroadcastRefusal.STATE, broadcast_id)
        targets = await _targets(uow, record.chat_pk, record.target, record.audience, now)
        if is_experiment(record.variant_count, record.holdout):
            total = await _add_arms(uow, record, targets, now)
        else:
            total = await uow.outbox.add_recipients(broadcast_id, targets, now)
        await uow.broadcasts.set_total(broadcast_id, total)
        if progress_at is not None:
            await uow.broadcasts.set_progress(broadcast_id, *progress_at)
        record = await uow.broadcasts.get(broadcast_id)
        await uow.commit()
    assert record is not None
    return record


async def _add_arms(
    uow: UnitOfWork, record: BroadcastRecord, targets: list[int], now: dt.datetime
) -> int:
    """An A/B test's rows: each member in their arm, with their variant's message; the
    holdout's rows are never sent. How many will be sent."""
    total = 0
    for arm, members in split(record.id, targets, record.variant_count, record.holdout).items():
        if arm == HOLDOUT:
            await uow.outbox.add_recipients(
                record.id, members, now, arm=arm, status=DeliveryStatus.HOLDOUT
            )
        else:
            total += await uow.outbox.add_recipients(
                record.id, members, now, arm=arm, content=record.message_for(arm)
            )
    return total


async def control(
    uow: UnitOfWork, *, broadcast_id: int, action: Control, now: dt.datetime
) -> BroadcastRecord:
    """Pause (only a message already on its way goes out; the rest, claimed or not, waits
    for resume), resume, or cancel (the rest is never sent); also cancels a draft."""
    moves = {
        Control.PAUSE: ([BroadcastStatus.SENDING], BroadcastStatus.PAUSED),
        Control.RESUME: ([BroadcastStatus.PAUSED], BroadcastStatus.SENDING),
        Control.CANCEL: (
            [BroadcastStatus.DRAFT, BroadcastStatus.SENDING, BroadcastStatus.PAUSED],
            BroadcastStatus.CANCELLED,
        ),
    }
    old, new = moves[action]
    async with uow:
        record = await uow.broadcasts.get(broadcast_id)
        if record is None:
            raise BroadcastRefused(BroadcastRefusal.UNKNOWN, broadcast_id)
        if not await uow.broadcasts.set_status(broadcast_id, old=old, new=new, at=now):
            raise BroadcastRefused(BroadcastRefusal.STATE, broadcast_id)
        if action is Control.CANCEL:
            await uow.outbox.cancel(broadcast_id, now)
        record = await uow.broadcasts.get(broadcast_id)
        await uow.commit()
    assert record is not None
    return record


async def press(
    uow: Callable[[], UnitOfWork],
    gate: Gate,
    *,
    broadcast_id: int,
    action: Control,
    tap: Tap,
    user_id: int,
    now: dt.datetime,
) -> Progress:
    """An admin's tap on a preview or progress message: only on the message the bot sent for
    this broadcast, only by an admin of its group. Sending makes the tapped message the
    progress message. Returns the progress after the change."""
    await checked_tap(uow(), kind=ButtonKind.BROADCAST, object_id=broadcast_id, tap=tap)
    current = await progress(uow(), broadcast_id=broadcast_id, now=now)
    await authorize_admin(gate, group_id=current.group_id, user_id=user_id)
    if action is Control.SEND:
        where = (tap.chat_id, tap.message_id)
        await start(uow(), broadcast_id=broadcast_id, now=now, progress_at=where)
    else:
        await control(uow(), broadcast_id=broadcast_id, action=action, now=now)
    return await progress(uow(), broadcast_id=broadcast_id, now=now)


async def progress(uow: UnitOfWork, *, broadcast_id: int, now: dt.datetime) -> Progress:
    async with uow:
        record = await uow.broadcasts.get(broadcast_id)
        if record is None:
            raise BroadcastRefused(BroadcastRefusal.UNKNOWN, broadcast_id)
        counts = await uow.outbox.counts(broadcast_id)
        recent = await uow.outbox.rate(broadcast_id, now - RATE_WINDOW)
        chat = await uow.chats.by_pk(record.chat_pk) if record.chat_pk is not None else None
    window = RATE_WINDOW.total_seconds()
    if record.started_at is not None:
        window = min(window, max((now - record.started_at).total_seconds(), 1.0))
    return Progress(
        broadcast=record,
        sent=counts.get(DeliveryStatus.SENT, 0),
        failed=counts.get(DeliveryStatus.FAILED, 0),
        left=sum(counts.get(s, 0) for s in UNFINISHED),
        uncertain=counts.get(DeliveryStatus.UNCERTAIN, 0),
        cancelled=counts.get(DeliveryStatus.CANCELLED, 0),
        per_second=recent / window,
        group_id=chat.chat_id if chat else None,
        held_out=counts.get(DeliveryStatus.HOLDOUT, 0),
    )


async def finish(uow: Callable[[], UnitOfWork], *, now: dt.datetime) -> list[int]:
    """Broadcasts with nothing left to send become done (each reported once)."""
    async with uow() as work:
        done = await work.broadcasts.finished(now)
        await work.commit()
    return done


async def shown(uow: UnitOfWork) -> list[int]:
    """Broadcasts whose progress message is kept current."""
    async with uow:
        return await uow.broadcasts.active()


async def broadcast_report(
    uow: UnitOfWork, *, chat_id: int, broadcast_id: int, now: dt.datetime
) -> VariantReport | Progress:
    """`/broadcast report <id>`, only for a broadcast of this group (another group's id is
    unknown here): a test's arms and what their members did after
    (campaigns/broadcast_variants.py); a plain broadcast's delivery (sent, failed, not sent),
    which otherwise lives only in its progress message, far up the chat by then."""
    async with uow:
        chat = await require_chat(uow, chat_id)
        record = await uow.broadcasts.get(broadcast_id)
        if record is None or record.chat_pk != chat.pk:
            raise ReportRefused(ReportRefusal.UNKNOWN, broadcast_id)
        if record.started_at is None:
            raise ReportRefused(ReportRefusal.NOT_STARTED, broadcast_id)
        test = is_experiment(record.variant_count, record.holdout)
        arms = await uow.analytics.broadcast_arms(broadcast_id, now) if test else {}
    if not test:
        return await progress(uow, broadcast_id=broadcast_id, now=now)
    return report_of(
        broadcast_id, variants=record.variant_count, holdout=record.holdout, arms=arms,
        last_sent=record.finished_at, now=now,
    )  # fmt: skip
