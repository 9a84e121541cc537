"""Tagging members: an admin's /tag and /untag, and a member's tags for /tags.

Only a member the bot has seen in the group can be tagged, untagged or looked up there: a
user id from elsewhere (another group's member) is refused before anything is read, so an
admin learns nothing about people outside their group, not even a name.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

from campaigns.errors import DomainError
from campaigns.ports import UnitOfWork
from campaigns.ports.chats import ChatRecord
from campaigns.ports.tags import TagRecord
from campaigns.services.chats import claim_update, require_chat
from campaigns.tags import TagSource, parse_tag

MAX_TAGS_PER_MEMBER = 50


class TagRefusal(StrEnum):
    NOT_A_MEMBER = "not_a_member"  # never seen in this group
    TOO_MANY = "too_many"


@dataclass
class TagRefused(DomainError):
    reason: TagRefusal
    user_id: int = 0


@dataclass(frozen=True)
class Tagged:
    """What /tag or /untag did: `changed` False when the member had (or lacked) it already."""

    tag: str
    changed: bool
    name: str  # the member's display name, as the bot last saw them


async def _members_group(
    uow: UnitOfWork,
    chat_id: int,
    user_id: int,
    now: dt.datetime,
    update: tuple[int, int] | None,
) -> ChatRecord:
    """Inside a transaction: the update claimed (a redelivery stops here), the group, and
    the member checked to be one of it."""
    if update is not None:
        await claim_update(uow, update[0], update[1], now)
    record = await require_chat(uow, chat_id)
    await _require_member(uow, record.pk, user_id)
    return record


async def tag_member(
    uow: UnitOfWork,
    *,
    chat_id: int,
    user_id: int,
    tag: str,
    by: int | None,
    now: dt.datetime,
    update: tuple[int, int] | None = None,
) -> Tagged:
    """An admin tags a member of the group; tagging twice changes nothing."""
    name = parse_tag(tag)
    async with uow:
        record = await _members_group(uow, chat_id, user_id, now, update)
        have = await uow.tags.of(record.pk, user_id)
        if name not in {t.tag for t in have} and len(have) >= MAX_TAGS_PER_MEMBER:
            raise TagRefused(TagRefusal.TOO_MANY, user_id)
        added = await uow.tags.add(
            record.pk, user_id, [name], source=TagSource.ADMIN, by=by, at=now
        )
        who = await _name(uow, user_id)
        await uow.commit()
    return Tagged(name, added > 0, who)


async def untag_member(
    uow: UnitOfWork,
    *,
    chat_id: int,
    user_id: int,
    tag: str,
    now: dt.datetime,
    update: tuple[int, int] | None = None,
) -> Tagged:
    """An admin removes a tag (an admin's or a rule's) from a member of the group."""
    name = parse_tag(tag)
    async with uow:
        record = await _members_group(uow, chat_id, user_id, now, update)
        removed = await uow.tags.remove(record.pk, user_id, name)
        who = await _name(uow, user_id)
        await uow.commit()
    return Tagged(name, removed, who)


async def member_tags(
    uow: UnitOfWork, *, chat_id: int, user_id: int
) -> tuple[str, list[TagRecord]]:
    """A member's name and tags in the group (admins: /tags)."""
    async with uow:
        record = await require_chat(uow, chat_id)
        await _require_member(uow, record.pk, user_id)
        return await _name(uow, user_id), await uow.tags.of(record.pk, user_id)


async def _require_member(uow: UnitOfWork, chat_pk: int, user_id: int) -> None:
    if await uow.members.stats(chat_pk, user_id) is None:
        raise TagRefused(TagRefusal.NOT_A_MEMBER, user_id)


async def _name(uow: UnitOfWork, user_id: int) -> str:
    contact = (await uow.users.contacts([user_id])).get(user_id)
    return contact.display_name if contact is not None else str(user_id)


async def group_tags(uow: UnitOfWork, *, chat_id: int) -> dict[int, list[str]]:
    """Every member's tags in the group (for `export members`)."""
    async with uow:
        record = await require_chat(uow, chat_id)
        return await uow.tags.of_group(record.pk)
