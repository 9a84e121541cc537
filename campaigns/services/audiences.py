"""Saved audiences: save (with a preview), list, show, delete, and what uses them resolve one.

The rule is read (audience_expr.parse) and its tier names checked against the group's ladder
before anything is stored; only its canonical text is stored. Each use parses it again and
resolves the tiers through the ladder as it is then.
"""

from __future__ import annotations

import datetime as dt

from campaigns.audience_expr import Expr, describe, parse, resolve_tiers
from campaigns.audiences import (
    MAX_SAVED,
    SAMPLE,
    AudienceMember,
    AudienceRefusal,
    AudienceRefused,
    Preview,
    SavedAudience,
    parse_name,
)
from campaigns.ports import UnitOfWork
from campaigns.services.chats import claim_update, require_chat


async def resolved(uow: UnitOfWork, chat_pk: int, rule: str) -> Expr:
    """A stored rule (canonical text) read and its tiers resolved through the group's ladder
    (inside a transaction)."""
    ladder = await uow.audiences.ladder(chat_pk)
    return resolve_tiers(parse(rule, typed=False), ladder.level_named)


async def saved_expr(uow: UnitOfWork, chat_pk: int, name: str) -> Expr:
    """A saved audience, ready to select with; AudienceRefused when there is none by that name."""
    saved = await uow.audiences.get(chat_pk, parse_name(name))
    if saved is None:
        raise AudienceRefused(AudienceRefusal.UNKNOWN, name)
    return await resolved(uow, chat_pk, saved.rule)


async def _preview(
    uow: UnitOfWork, chat_pk: int, name: str | None, rule: str, expr: Expr, now: dt.datetime
) -> Preview:
    count = await uow.audiences.count(chat_pk, expr, now)
    ids = await uow.audiences.members(chat_pk, expr, now, limit=SAMPLE)
    names = await uow.audiences.names(ids)
    return Preview(name, rule, count, [names.get(uid, str(uid)) for uid in ids])


async def save_audience(
    uow: UnitOfWork,
    *,
    chat_id: int,
    name: str,
    rule: str,
    by: int | None,
    now: dt.datetime,
    update: tuple[int, int] | None = None,
) -> tuple[Preview, bool]:
    """Save (or replace) a named audience; its preview, and whether it is new."""
    key, expr = parse_name(name), parse(rule)
    canonical = describe(expr)
    async with uow:
        if update is not None:
            await claim_update(uow, update[0], update[1], now)
        record = await require_chat(uow, chat_id)
        selecting = await resolved(uow, record.pk, canonical)
        if await uow.audiences.get(record.pk, key) is None and (
            len(await uow.audiences.all(record.pk)) >= MAX_SAVED
        ):
            raise AudienceRefused(AudienceRefusal.TOO_MANY, key)
        new = await uow.audiences.save(record.pk, key, canonical, by=by, at=now)
        preview = await _preview(uow, record.pk, key, canonical, selecting, now)
        await uow.commit()
    return preview, new


async def list_audiences(uow: UnitOfWork, *, chat_id: int) -> list[SavedAudience]:
    async with uow:
        record = await require_chat(uow, chat_id)
        return await uow.audiences.all(record.pk)


async def show_audience(uow: UnitOfWork, *, chat_id: int, name: str, now: dt.datetime) -> Preview:
    """A saved audience as it selects now: the count and a few names."""
    key = parse_name(name)
    async with uow:
        record = await require_chat(uow, chat_id)
        saved = await uow.audiences.get(record.pk, key)
        if saved is None:
            raise AudienceRefused(AudienceRefusal.UNKNOWN, key)
        expr = await resolved(uow, record.pk, saved.rule)
        return await _preview(uow, record.pk, key, saved.rule, expr, now)


async def delete_audience(
    uow: UnitOfWork,
    *,
    chat_id: int,
    name: str,
    now: dt.datetime,
    update: tuple[int, int] | None = None,
) -> None:
    key = parse_name(name)
    async with uow:
        if update is not None:
            await claim_update(uow, update[0], update[1], now)
        record = await require_chat(uow, chat_id)
        if not await uow.audiences.delete(record.pk, key):
            raise AudienceRefused(AudienceRefusal.UNKNOWN, key)
        await uow.commit()


async def export_audience(
    uow: UnitOfWork, *, chat_id: int, name: str, now: dt.datetime
) -> list[AudienceMember]:
    """The members a saved audience selects now, with what the CSV shows of each."""
    async with uow:
        record = await require_chat(uow, chat_id)
        expr = await saved_expr(uow, record.pk, name)
        ladder = await uow.audiences.ladder(record.pk)
        return await uow.audiences.export(record.pk, expr, now, ladder)
