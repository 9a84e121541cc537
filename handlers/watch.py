"""/watch (admins): the group's watch words (舆情). The alerts themselves are sent by
handlers/listening.py."""

from __future__ import annotations

from campaigns.listening import Verb, parse_verb
from campaigns.services.watch import add_watch_words, remove_watch_words, watch_words
from handlers.extract import chat_info
from handlers.use_case import Call, use_case
from handlers.watch_texts import WatchTexts


@use_case(WatchTexts, admin=True)
async def watch_command(call: Call[WatchTexts]) -> None:
    """`/watch add|remove <words>`, `/watch list`; the group's cached book is dropped on a
    change, so the next message is checked against the new words."""
    message, d = call.update.effective_message, call.deps
    verb, rest = parse_verb((message.text or "") if message is not None else "")
    if verb is Verb.ADD or verb is Verb.REMOVE:
        await _change(call, verb, rest)
    elif verb is Verb.LIST:
        words = await watch_words(d.uow(), chat_id=call.group_id)
        await call.reply(call.t.listing(words, (await d.settings_of(call.group_id)).listening))
    else:
        await call.reply(call.t.usage())


async def _change(call: Call[WatchTexts], verb: Verb, rest: str) -> None:
    """Add or remove words, then drop the group's cached book."""
    d = call.deps
    if verb is Verb.ADD:
        assert call.chat is not None
        done = await add_watch_words(
            d.uow(), update=call.key, chat=chat_info(call.chat), raw=rest, by=call.user_id,
            at=call.at, defaults=d.defaults,
        )  # fmt: skip
        d.books.forget(call.group_id)
        await call.reply(call.t.added(done))
        return
    done = await remove_watch_words(
        d.uow(), update=call.key, chat_id=call.group_id, raw=rest, at=call.at
    )
    d.books.forget(call.group_id)
    await call.reply(call.t.removed(done))
