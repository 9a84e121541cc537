"""/faq (admins): the group's saved questions and answers (客服话术). The answers themselves
are given by handlers/listening.py."""

from __future__ import annotations

from telegram import Chat, Message

from campaigns.faq import parse_reference, read_faq
from campaigns.listening import Verb, parse_verb
from campaigns.services.faq import group_faqs, remove_faq, save_faq
from handlers.calendar import html_of
from handlers.extract import chat_info, replied_to
from handlers.faq_texts import FaqTexts
from handlers.use_case import Call, use_case


def answer_of(message: Message) -> tuple[str, str | None]:
    """The HTML after `/faq add` (the admin's bold and links kept), and the HTML of the
    message it replies to, which is the answer when no | gives one."""
    _, body = parse_verb(html_of(message.text, message.parse_entities()))
    source = replied_to(message)
    text = (source.text or source.caption) if source is not None else None
    if source is None or text is None:
        return body, None
    entities = source.parse_entities() if source.text else source.parse_caption_entities()
    return body, html_of(text, entities)


@use_case(FaqTexts, admin=True)
async def faq_command(call: Call[FaqTexts]) -> None:
    """`/faq add <question> | <answer>`, `/faq remove <id|question>`, `/faq list`; the
    group's cached book is dropped on a change."""
    message = call.update.effective_message
    verb, rest = parse_verb((message.text or "") if message is not None else "")
    if verb is Verb.ADD and message is not None and call.chat is not None:
        await _add(call, message, call.chat)
    elif verb is Verb.REMOVE:
        await _remove(call, rest)
    elif verb is Verb.LIST:
        d = call.deps
        faqs = await group_faqs(d.uow(), chat_id=call.group_id)
        await call.reply(call.t.listing(faqs, (await d.settings_of(call.group_id)).listening))
    else:
        await call.reply(call.t.usage())


async def _add(call: Call[FaqTexts], message: Message, chat: Chat) -> None:
    d = call.deps
    saved = await save_faq(
        d.uow(), update=call.key, chat=chat_info(chat), draft=read_faq(*answer_of(message)),
        by=call.user_id, at=call.at, defaults=d.defaults,
    )  # fmt: skip
    d.books.forget(call.group_id)
    await call.reply(call.t.saved(saved))


async def _remove(call: Call[FaqTexts], rest: str) -> None:
    d = call.deps
    removed = await remove_faq(
        d.uow(), update=call.key, chat_id=call.group_id, reference=parse_reference(rest),
        at=call.at,
    )  # fmt: skip
    d.books.forget(call.group_id)
    await call.reply(call.t.removed(removed))
