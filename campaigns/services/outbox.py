"""The outbox's use cases: claim due rows, mark each just before it goes out, record the
outcome. The sender in bot/ decides what an error means; this module stores it."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum

from campaigns.access import ButtonKind
from campaigns.outbox import DeliveryStatus
from campaigns.ports import UnitOfWork
from campaigns.ports.outbox import Delivery
from campaigns.services.access import object_buttons, own_buttons

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 5
LEASE = dt.timedelta(minutes=2)  # longer than any single request may take


class Outcome(StrEnum):
    SENT = "sent"
    BLOCKED = "blocked"  # 403: blocked the bot or never started it; not retried
    FAILED = "failed"  # refused for good (bad request, chat gone)
    RETRY = "retry"  # 429 or a transient error
    UNCERTAIN = "uncertain"  # timed out after the request went out: not resent


@dataclass(frozen=True)
class Result:
    delivery: Delivery
    outcome: Outcome
    at: dt.datetime
    message_id: int | None = None
    error: str | None = None
    retry_at: dt.datetime | None = None


def backoff(attempts: int) -> dt.timedelta:
    """2, 4, 8, 16 … seconds after a transient error, at most five minutes."""
    return dt.timedelta(seconds=min(2**attempts, 300))


async def claim(uow: UnitOfWork, *, worker: str, now: dt.datetime, limit: int) -> list[Delivery]:
    """Rows to send now; a claim or join button that no longer names the group's own live
    offer or deal is left off (saved posts were checked, but an offer can end since)."""
    async with uow:
        claimed = await uow.outbox.claim(worker, now, limit)
        checked = [await _own_buttons(uow, d, now) for d in claimed]
        await uow.commit()
    return checked


async def _own_buttons(uow: UnitOfWork, d: Delivery, now: dt.datetime) -> Delivery:
    if not object_buttons(d.content):
        return d
    group = d.group_pk
    if group is None:  # a broadcast to every group: each group is its own owner
        chat = await uow.chats.get(d.target_chat)
        group = chat.pk if chat is not None else None
    content = await own_buttons(uow, group, d.content, now) if group is not None else None
    if content is None:
        content = d.content.model_copy(update={"buttons": []})
    if content is not d.content:
        log.warning("outbox row %s: buttons for another group's offer or deal left off", d.id)
    return replace(d, content=content)


def _buttons(d: Delivery) -> list[tuple[ButtonKind, int]]:
    """The objects the sent message's buttons act on: a tap counts only on this message."""
    found = object_buttons(d.content)
    if d.survey is not None:
        found.append((ButtonKind.SURVEY, d.survey.id))
    return found


async def settle(
    uow: UnitOfWork,
    *,
    results: Sequence[Result],
    start: Sequence[Delivery] = (),
    worker: str,
    now: dt.datetime,
) -> list[Delivery]:
    """Record outcomes and mark the next rows as going out, in one transaction.

    Returns the rows of `start` this worker may now send (a row another process
    recovered in between is left alone).
    """
    async with uow:
        for r in results:
            d = r.delivery
            if r.outcome is Outcome.SENT:
                await uow.outbox.record(d.id, DeliveryStatus.SENT, at=r.at, message_id=r.message_id)
                for kind, object_id in _buttons(d):
                    if r.message_id is not None:
                        await uow.buttons.remember(
                            kind, object_id, d.target_chat, r.message_id, r.at
                        )
                if d.post_id is not None and r.message_id is not None:
                    await uow.calendar.set_last_message(d.post_id, r.message_id)
            elif r.outcome is Outcome.RETRY and (
                r.retry_at is not None or d.attempts + 1 < MAX_ATTEMPTS
            ):  # a flood wait (retry_at) is not the message's fault: no limit
                retry_at = r.retry_at or r.at + backoff(d.attempts + 1)
                await uow.outbox.record(
                    d.id, DeliveryStatus.PENDING, at=r.at, error=r.error, retry_at=retry_at
                )
            elif r.outcome is Outcome.UNCERTAIN:
                await uow.outbox.record(d.id, DeliveryStatus.UNCERTAIN, at=r.at, error=r.error)
            else:
                await uow.outbox.record(
                    d.id, DeliveryStatus.FAILED, at=r.at, error=(r.error or "")[:200]
                )
                if r.outcome is Outcome.BLOCKED and d.target_chat > 0:
                    await uow.users.set_reachable(d.target_chat, False)
        going = [d for d in start if await uow.outbox.start(d.id, worker, now)]
        await uow.commit()
    return going


async def release(uow: UnitOfWork, *, worker: str) -> int:
    async with uow:
        n = await uow.outbox.release(worker)
        await uow.commit()
    return n


async def recover(
    uow: Callable[[], UnitOfWork], *, now: dt.datetime, dead: Callable[[str], bool]
) -> tuple[int, int]:
    """Rows a dead process held: unsent ones go back to the queue; ones that may have been
    sent are marked uncertain and reported, never sent twice.

    `dead(worker)` says whether a holder is known to be gone (a process of this machine
    that no longer runs); others are trusted until their lease runs out.
    """
    requeued = uncertain = 0
    async with uow() as work:
        for holder in await work.outbox.holders():
            if dead(holder):
                r, u = await work.outbox.recover(now, LEASE, worker=holder)
                requeued, uncertain = requeued + r, uncertain + u
        r, u = await work.outbox.recover(now, LEASE)
        await work.commit()
    return requeued + r, uncertain + u


async def waiting(uow: UnitOfWork, *, now: dt.datetime) -> int:
    """How many messages are due and not yet sent: the outbox's backlog (a metric)."""
    async with uow:
        return await uow.outbox.waiting(now)


async def display_name(uow: UnitOfWork, *, user_id: int) -> str | None:
    """The member's name for a `{name}` in a welcome step or a broadcast."""
    async with uow:
        found = await uow.users.contacts([user_id])
    contact = found.get(user_id)
    return contact.display_name if contact else None
