"""Every member's message in a group, heard against the group's reply book: a watch word
alerts the admins privately (舆情), a saved question gets its answer (客服话术).

Who is heard is campaigns/listening.py's rule; here the message is read and the answer sent.
The book is cached (handlers/books.py): a message that matches nothing costs no database
statement and no request. The answer goes through the acknowledgements worker, within the
group's share of Telegram's 20 messages a minute: alone in a quiet group, a line in a
shared message during a rush; never refused, never dropped.
"""

from __future__ import annotations

import re

from telegram import Message, Update

from campaigns.errors import DuplicateUpdate
from campaigns.keywords import Keyword
from campaigns.listening import Faq, ReplyBook
from campaigns.services.faq import claim_faq_answer
from campaigns.services.listening import reply_book
from campaigns.services.watch import claim_watch_alert
from campaigns.watch import ALERT_WINDOW, excerpt, message_link
from handlers.checkin import CHECKIN_WORDS
from handlers.deps import Ack, Context, Deps, deps
from handlers.extract import member_sender, person, sent_at
from handlers.faq_texts import FaqTexts
from handlers.notify import tell_admins
from handlers.watch_texts import WatchTexts

_CHECKIN = re.compile(CHECKIN_WORDS, re.IGNORECASE)


async def on_group_message(update: Update, context: Context) -> None:
    """A member's text or caption in a group (commands and edits are not heard): the watch
    word it has alerts, the question it asks is answered, each at most once per window."""
    message, d = update.message, deps(context)
    text = (message.text or message.caption) if message is not None else None
    if message is None or not text or message.from_user is None or not member_sender(message):
        return
    book = await d.books.book(message.chat.id, lambda: reply_book(d.uow(), chat_id=message.chat.id))
    heard = book.hear(text, forwarded=message.forward_origin is not None)
    if heard is None or await _is_admin(context, d, message):
        return
    if heard.word is not None:
        await _alert(update, context, book, heard.word, text)
    if heard.faq is not None and not _CHECKIN.match(text):
        await _answer(update, context, book, heard.faq)


async def _is_admin(context: Context, d: Deps, message: Message) -> bool:
    """The group's admins (and the bot's owners) are neither alerted about nor answered."""
    user_id = message.from_user.id if message.from_user is not None else 0
    if user_id in d.owner_ids:
        return True
    return user_id in await d.admins.admin_ids(context.bot, message.chat.id)


async def _alert(
    update: Update, context: Context, book: ReplyBook, word: Keyword, text: str
) -> None:
    """Claimed once per member and hour (by the database, whichever process), then sent to
    each admin who started the bot, in their own language."""
    message, d = update.message, deps(context)
    assert message is not None and message.from_user is not None and book.chat_pk is not None
    at, key = sent_at(update), ("watch", message.from_user.id)
    if d.books.held(message.chat.id, key, at):
        return
    try:
        claimed = await claim_watch_alert(
            d.uow(), update=(context.bot.id, update.update_id), chat_pk=book.chat_pk,
            user_id=message.from_user.id, word=word.text, message_id=message.message_id, at=at,
        )  # fmt: skip
    except DuplicateUpdate:
        return
    if not claimed:
        return
    d.books.hold(message.chat.id, key, at + ALERT_WINDOW)
    chat, who = message.chat, person(message.from_user)
    link = message_link(chat.id, message.message_id, chat.username)
    said = excerpt(text)
    await tell_admins(
        context.bot, d, chat.id,
        lambda language: WatchTexts(language).alert(
            group=chat.title, word=word.text, name=who.display_name, user_id=who.user_id,
            excerpt=said, link=link,
        ),
    )  # fmt: skip


async def _answer(update: Update, context: Context, book: ReplyBook, faq: Faq) -> None:
    """Claimed once per question and cooldown in the group, then given quoting the member's
    message (a line in a shared message when the group is busy)."""
    message, d = update.message, deps(context)
    assert message is not None and message.from_user is not None and book.chat_pk is not None
    at, key = sent_at(update), ("faq", faq.id)
    if d.books.held(message.chat.id, key, at):
        return
    try:
        claimed = await claim_faq_answer(
            d.uow(), update=(context.bot.id, update.update_id), chat_pk=book.chat_pk,
            faq_id=faq.id, user_id=message.from_user.id, message_id=message.message_id, at=at,
            cooldown=book.settings.cooldown,
        )  # fmt: skip
    except DuplicateUpdate:
        return
    if not claimed:
        return
    d.books.hold(message.chat.id, key, at + book.settings.cooldown)
    who = person(message.from_user)
    line = FaqTexts(book.language).line(who.display_name, faq.question, faq.answer)
    await d.acks.add(message.chat.id, Ack(who.user_id, faq.answer, line, message.message_id))
