"""Raid mode: a join burst (or an admin) switches it on; while it is on, every member who joins
is held, muted, until an admin approves them or the hold runs out (then removed), referral
rewards wait and the welcome sequence pauses; it switches itself off after the calm minutes.

The burst is counted from the join log in storage, so every process sees the same burst, and
switching is a conditional write, so of two processes (or a join and `/raid on`) one switches
and tells. A held member is a captcha of kind APPROVAL (campaigns/services/captcha.py): the
same row, the same once-only decision, the same invite hold and the same sweep.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from campaigns.captcha import (
    CaptchaStatus,
    burst_since,
    raid_should_end,
    raid_should_start,
)
from campaigns.members import EventKind
from campaigns.moderation import Rule
from campaigns.ports import UnitOfWork
from campaigns.ports.captcha import CaptchaRecord
from campaigns.ports.chats import ChatRecord
from campaigns.ports.moderation import Moderator
from campaigns.services.captcha import Decision, decide_each
from campaigns.services.chats import require_chat

HELD_SHOWN = 10  # held members /raid status names
APPROVE_BATCH = 500  # `/raid approve all` lets in at most this many at a time


@dataclass(frozen=True)
class RaidJoin:
    """What a join meant for raid mode: whether it is on (the member is held) and whether
    this join switched it on (the admins and the group are told, once)."""

    on: bool
    started: Switched | None = None  # this join switched it on: what to tell
    joins: int = 0  # joins within the burst window, when counted


async def join_seen(uow: UnitOfWork, record: ChatRecord, user_id: int, at: dt.datetime) -> RaidJoin:
    """Inside the join's transaction (its join event already added): note the join, and switch
    raid mode on when the burst window holds enough joins."""
    rules = record.settings.moderation.raid
    state = await uow.raids.get(record.pk)
    on = state is not None and state.on
    if rules.joins == 0 and not on:
        return RaidJoin(False)
    await uow.raids.note_join(record.pk, at)
    if on:
        return RaidJoin(True)
    joins = await uow.raids.joiners_between(record.pk, burst_since(at, rules), at)
    if not raid_should_start(joins, rules):
        return RaidJoin(False, joins=joins)
    if not await uow.raids.switch_on(record.pk, at):
        return RaidJoin(True, joins=joins)
    await _logged(uow, record, user_id, at, "raid_on", by="burst", joins=joins)
    return RaidJoin(True, _switched(record, on=True, by=None, held=0), joins)


async def _logged(
    uow: UnitOfWork, record: ChatRecord, user_id: int, at: dt.datetime, kind: str, **meta: object
) -> None:
    """A raid switched: an event in the activity store (analytics count raids)."""
    data = {"kind": kind, "rule": str(Rule.RAID), **{k: str(v) for k, v in meta.items()}}
    await uow.events.add([(record.pk, user_id, EventKind.MODERATION, at, None, data)])


@dataclass(frozen=True)
class Switched:
    """Raid mode switched in a group: which way, by whom (None: the calm time), the group's
    title and language, and how many members are still held."""

    chat_id: int
    title: str | None
    language: str
    on: bool
    by: int | None
    held: int
    hold_minutes: int
    calm_minutes: int
    burst_joins: int  # the burst that switches it on: this many joins …
    burst_seconds: int  # … within this many seconds


def _switched(record: ChatRecord, *, on: bool, by: int | None, held: int) -> Switched:
    rules = record.settings.moderation
    return Switched(
        record.chat_id, record.title, record.settings.language, on, by, held,
        rules.raid_hold_minutes, rules.raid_calm_minutes, rules.raid_joins, rules.raid_seconds,
    )  # fmt: skip


async def switch(
    uow: UnitOfWork, *, chat_id: int, on: bool, admin_id: int, at: dt.datetime
) -> Switched | None:
    """`/raid on|off` (the caller checked the admin): None when it was that way already."""
    async with uow:
        record = await require_chat(uow, chat_id)
        changed = (
            await uow.raids.switch_on(record.pk, at)
            if on
            else await uow.raids.switch_off(record.pk, None)
        )
        if not changed:
            return None
        await _logged(uow, record, admin_id, at, "raid_on" if on else "raid_off", by="admin")
        held = await uow.captchas.held_count(record.pk)
        await uow.commit()
    return _switched(record, on=on, by=admin_id, held=held)


async def calm_down(uow: UnitOfWork, *, bot_id: int, now: dt.datetime) -> list[Switched]:
    """The sweep: each raid with no join for its calm minutes switches off, once."""
    async with uow:
        raids = await uow.raids.on()
    ended: list[Switched] = []
    for raid in raids:
        async with uow:
            record = await uow.chats.by_pk(raid.chat_pk)
            if record is None:
                continue
            rules = record.settings.moderation.raid
            calm = raid_should_end(
                on_since=raid.on_since, last_join=raid.last_join, now=now, rules=rules
            )
            if not calm or not await uow.raids.switch_off(record.pk, raid.on_since):
                continue
            await _logged(uow, record, bot_id, now, "raid_off", by="calm")
            held = await uow.captchas.held_count(record.pk)
            await uow.commit()
        ended.append(_switched(record, on=False, by=None, held=held))
    return ended


@dataclass(frozen=True)
class HeldMember:
    """A member held for approval: their captcha row and their name."""

    captcha: CaptchaRecord
    name: str


@dataclass(frozen=True)
class RaidStatus:
    """What `/raid status` tells: raid mode on since when, the members held (the first few
    by name), newcomers waiting for a captcha question, and all pending captchas."""

    on_since: dt.datetime | None
    held: int
    first_held: list[HeldMember]
    waiting: int
    pending: int
    rules_joins: int
    rules_seconds: int
    timezone: str  # the group's: the time raid mode went on is shown in it
    captcha: bool  # the group asks newcomers a question (else its counts are left out)


async def raid_status(uow: UnitOfWork, chat_id: int) -> RaidStatus | None:
    """`/raid status`; None for an unknown group."""
    async with uow:
        record = await uow.chats.get(chat_id)
        if record is None:
            return None
        state = await uow.raids.get(record.pk)
        waiting, pending = await uow.captchas.waiting(record.pk)
        held = await uow.captchas.held_count(record.pk)
        first = await uow.captchas.held(record.pk, None, HELD_SHOWN, holds_only=True)
        contacts = await uow.users.contacts([c.user_id for c in first])
    rules = record.settings.moderation
    return RaidStatus(
        state.on_since if state is not None else None, held,
        [HeldMember(c, contacts[c.user_id].display_name if c.user_id in contacts
                    else str(c.user_id)) for c in first],
        waiting, pending, rules.raid_joins, rules.raid_seconds, record.settings.timezone,
        rules.captcha,
    )  # fmt: skip


async def approve_held(
    uow: UnitOfWork, moderator: Moderator | None, *, chat_id: int, admin_id: int,
    user_ids: Sequence[int] | None, at: dt.datetime,
) -> list[Decision]:  # fmt: skip
    """`/raid approve` (the caller checked the admin): the members named (None: all, at most
    APPROVE_BATCH), held in a raid or still to answer the captcha, may write (a requester is
    approved); each decided once, their invites free to be confirmed. Without a `moderator`
    the admin already lifted the restriction through Telegram (or /modlog's undo): only the
    captchas are settled, so no sweep removes the member later."""
    async with uow:
        record = await require_chat(uow, chat_id)
        held = await uow.captchas.held(record.pk, user_ids, APPROVE_BATCH, holds_only=False)
    return await decide_each(uow, moderator, held, CaptchaStatus.PASSED, by=admin_id, at=at)


async def still_held(uow: UnitOfWork, chat_id: int) -> int:
    """How many members are still pending after `/raid approve all` let a batch in."""
    async with uow:
        record = await require_chat(uow, chat_id)
        return await uow.captchas.held_count(record.pk, holds_only=False)  # counted, not loaded
