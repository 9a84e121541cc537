"""Watch words (舆情): an admin's `/watch add|remove|list`, and the alert a member's message
raises, claimed once per member and hour before it is sent."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from campaigns.members import ChatInfo, EventKind
from campaigns.ports import UnitOfWork
from campaigns.services.chats import claim_update, ensure_chat, require_chat
from campaigns.settings import ChatSettings
from campaigns.watch import ALERT_WINDOW, MAX_WORDS, WatchProblem, WatchRefused, parse_words


@dataclass(frozen=True)
class WatchChange:
    """What `/watch add` or `/watch remove` did: the words changed, those that already were
    (or were not) the group's, and the group's words now."""

    changed: tuple[str, ...]
    unchanged: tuple[str, ...]
    words: tuple[str, ...]


async def add_watch_words(
    uow: UnitOfWork,
    *,
    update: tuple[int, int],
    chat: ChatInfo,
    raw: str,
    by: int | None,
    at: dt.datetime,
    defaults: ChatSettings,
) -> WatchChange:
    """Add words to the group's list; WatchRefused (nothing added) for a word the rules
    refuse or a list that would pass MAX_WORDS."""
    wanted = [w.text for w in parse_words(raw)]
    async with uow:
        await claim_update(uow, update[0], update[1], at)
        record = await ensure_chat(uow, chat, defaults)
        have = await uow.watch.words(record.pk)
        if len(set(have) | set(wanted)) > MAX_WORDS:
            raise WatchRefused(WatchProblem.TOO_MANY)
        added = await uow.watch.add(record.pk, wanted, by=by, at=at)
        words = await uow.watch.words(record.pk)
        await uow.commit()
    return WatchChange(tuple(added), tuple(w for w in wanted if w not in added), tuple(words))


async def remove_watch_words(
    uow: UnitOfWork, *, update: tuple[int, int], chat_id: int, raw: str, at: dt.datetime
) -> WatchChange:
    """Remove words from the group's list; words it lacks are named, nothing else happens."""
    wanted = [w.text for w in parse_words(raw)]
    async with uow:
        await claim_update(uow, update[0], update[1], at)
        record = await require_chat(uow, chat_id)
        removed = await uow.watch.remove(record.pk, wanted)
        words = await uow.watch.words(record.pk)
        await uow.commit()
    return WatchChange(tuple(removed), tuple(w for w in wanted if w not in removed), tuple(words))


async def watch_words(uow: UnitOfWork, *, chat_id: int) -> list[str]:
    """The group's words, alphabetically (none for a group not registered)."""
    async with uow:
        record = await uow.chats.get(chat_id)
        return await uow.watch.words(record.pk) if record is not None else []


async def claim_watch_alert(
    uow: UnitOfWork,
    *,
    update: tuple[int, int],
    chat_pk: int,
    user_id: int,
    word: str,
    message_id: int,
    at: dt.datetime,
) -> bool:
    """Whether to alert the admins about this member's message now: not if one was sent
    about them in the last hour (ALERT_WINDOW), by any process. Claimed and logged as a
    WATCH_ALERT event (the word, never the text) before the alert goes, so it goes at most
    once; a redelivered update raises DuplicateUpdate."""
    async with uow:
        await claim_update(uow, update[0], update[1], at, scope="watch")
        if not await uow.watch.claim_alert(chat_pk, user_id, at, at - ALERT_WINDOW):
            await uow.commit(durable=False)  # only that the update was seen
            return False
        meta = {"word": word, "message": str(message_id)}
        await uow.events.add([(chat_pk, user_id, EventKind.WATCH_ALERT, at, None, meta)])
        await uow.commit()
    return True
