"""FAQ auto-replies (客服话术): an admin's `/faq add|remove|list`, and the answer a member's
question gets, claimed once per question and cooldown before it is sent.

Ids are global, but every lookup is the group's: an id of another group's FAQ is unknown
here, so an admin of one group can neither see nor remove another's."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from campaigns.faq import MAX_FAQS, FaqDraft, FaqProblem, FaqRefused, parse_question
from campaigns.members import ChatInfo, EventKind
from campaigns.ports import UnitOfWork
from campaigns.ports.faq import FaqRecord
from campaigns.services.chats import claim_update, ensure_chat, require_chat
from campaigns.settings import ChatSettings


@dataclass(frozen=True)
class SavedFaq:
    id: int
    question: str
    created: bool  # False: the question existed and its answer was replaced


async def save_faq(
    uow: UnitOfWork,
    *,
    update: tuple[int, int],
    chat: ChatInfo,
    draft: FaqDraft,
    by: int | None,
    at: dt.datetime,
    defaults: ChatSettings,
) -> SavedFaq:
    """Save a question and its answer (campaigns.faq.read_faq checked them); the same
    question again replaces its answer. FaqRefused(TOO_MANY) past MAX_FAQS."""
    async with uow:
        await claim_update(uow, update[0], update[1], at)
        record = await ensure_chat(uow, chat, defaults)
        known = {f.id for f in await uow.faqs.of_group(record.pk)}
        faq_id, created = await uow.faqs.save(
            record.pk, key=draft.key, question=draft.question, answer=draft.answer, by=by, at=at
        )
        if created and len(known) >= MAX_FAQS:
            raise FaqRefused(FaqProblem.TOO_MANY, limit=MAX_FAQS)  # rolled back
        await uow.commit()
    return SavedFaq(faq_id, draft.question, created)


async def remove_faq(
    uow: UnitOfWork, *, update: tuple[int, int], chat_id: int, reference: int | str, at: dt.datetime
) -> FaqRecord:
    """Remove one of the group's FAQs by id or by question; FaqRefused(UNKNOWN) when the
    group has no such FAQ (another group's id included)."""
    async with uow:
        await claim_update(uow, update[0], update[1], at)
        record = await require_chat(uow, chat_id)
        removed = None
        if isinstance(reference, int):
            removed = await uow.faqs.remove(record.pk, faq_id=reference)
            shown = f"#{reference}"
        else:
            shown = reference
            try:
                key = parse_question(reference).key
            except FaqRefused:
                key = None
            if key is not None:
                removed = await uow.faqs.remove(record.pk, key=key)
        if removed is None:
            raise FaqRefused(FaqProblem.UNKNOWN, value=shown)
        await uow.commit()
    return removed


async def group_faqs(uow: UnitOfWork, *, chat_id: int) -> list[FaqRecord]:
    """The group's FAQs, oldest first (none for a group not registered)."""
    async with uow:
        record = await uow.chats.get(chat_id)
        return await uow.faqs.of_group(record.pk) if record is not None else []


async def claim_faq_answer(
    uow: UnitOfWork,
    *,
    update: tuple[int, int],
    chat_pk: int,
    faq_id: int,
    user_id: int,
    message_id: int,
    at: dt.datetime,
    cooldown: dt.timedelta,
) -> bool:
    """Whether to answer this question now: not if it was answered in the group within the
    cooldown, by any process. Claimed and logged as a FAQ_ANSWER event before the answer
    goes, so it goes at most once; a redelivered update raises DuplicateUpdate."""
    async with uow:
        await claim_update(uow, update[0], update[1], at, scope="faq")
        if not await uow.faqs.claim_answer(chat_pk, faq_id, at, at - cooldown):
            await uow.commit(durable=False)  # only that the update was seen
            return False
        meta = {"message": str(message_id)}
        await uow.events.add([(chat_pk, user_id, EventKind.FAQ_ANSWER, at, faq_id, meta)])
        await uow.commit()
    return True
