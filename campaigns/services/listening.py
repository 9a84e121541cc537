"""A group's reply book (watch words, FAQs and their switches), read in one transaction for
the handlers' cache."""

from __future__ import annotations

from campaigns.listening import ReplyBook, stored_faqs
from campaigns.ports import UnitOfWork
from campaigns.watch import stored_words


async def reply_book(uow: UnitOfWork, *, chat_id: int) -> ReplyBook:
    """What the group's messages are checked against; an empty book for a group not
    registered (or gone), which is cached like any other."""
    async with uow:
        record = await uow.chats.get(chat_id)
        if record is None or not record.active:
            return ReplyBook()
        words = await uow.watch.words(record.pk)
        faqs = await uow.faqs.of_group(record.pk)
    return ReplyBook(
        chat_pk=record.pk,
        language=record.settings.language,
        settings=record.settings.listening,
        words=stored_words(words),
        faqs=stored_faqs([(f.id, f.question, f.answer) for f in faqs]),
    )
