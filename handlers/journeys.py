"""/journey (admins): the automations' switches, their settings and their reports."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from campaigns.journeys import parse_journey
from campaigns.ports.members import Contact
from campaigns.services.journeys import (
    change_journey,
    group_journeys,
    journey_report,
    journey_sample,
    subscribe,
)
from handlers.extract import chat_info, is_group
from handlers.journey_texts import JourneyTexts
from handlers.use_case import Call, use_case


@use_case(JourneyTexts, admin=True)
async def journey_command(call: Call[JourneyTexts]) -> None:
    """`/journey [list]`, `/journey on|off <journey>`, `/journey set <journey> <key> <value>`,
    `/journey report <journey>`, `/journey preview <journey>`: parse, one use case, the
    answer."""
    words = call.words
    action = words[0].casefold() if words else "list"
    if action in ACTIONS and (len(words) >= 2 or action == "list"):
        await call.reply(await ACTIONS[action](call, words))
    else:
        await call.reply(call.t.report_usage() if action == "report" else call.t.usage())


async def _change(call: Call[JourneyTexts], words: list[str]) -> str:
    """on, off, set: the group's settings change (and the running bot's copy with them)."""
    assert call.chat is not None
    d = call.deps
    journey, new = await change_journey(
        d.uow(), update=call.key, chat=chat_info(call.chat), words=words, at=call.at,
        defaults=d.defaults,
    )  # fmt: skip
    d.settings_changed(call.chat.id, new)
    said = call.t.changed if words[0].casefold() == "set" else call.t.switched
    return said(journey, new.journeys)


async def _report(call: Call[JourneyTexts], words: list[str]) -> str:
    assert call.chat is not None
    report = await journey_report(
        call.deps.uow(), chat_id=call.chat.id, journey=parse_journey(words[1]), now=call.at
    )
    return call.t.report(report)


async def _list(call: Call[JourneyTexts], words: list[str]) -> str:
    assert call.chat is not None
    book, warnings = await group_journeys(call.deps.uow(), chat_id=call.chat.id)
    return call.t.listing(book, warnings)


async def _preview(call: Call[JourneyTexts], words: list[str]) -> str:
    """The journey's first message as a member would read it, addressed to the admin."""
    assert call.chat is not None and call.person is not None and call.user_id is not None
    me = Contact(call.user_id, call.person.display_name, call.t.language, True)
    sample = await journey_sample(
        call.deps.uow(), chat_id=call.chat.id, journey=parse_journey(words[1]), member=me,
        at=call.at,
    )  # fmt: skip
    return call.t.preview(sample)


Action = Callable[[Call[JourneyTexts], list[str]], Awaitable[str]]
ACTIONS: dict[str, Action] = {
    "on": _change, "off": _change, "set": _change, "report": _report, "preview": _preview,
    "list": _list,
}  # fmt: skip


@use_case(JourneyTexts)
async def subscribe_command(call: Call[JourneyTexts]) -> None:
    """`/unsubscribe` and `/subscribe` in a private chat: the member's own journey messages."""
    if call.user_id is None or call.update.effective_message is None:
        return
    command = (call.update.effective_message.text or "").split(maxsplit=1)[0]
    on = command.lstrip("/").split("@", 1)[0].casefold() == "subscribe"
    if call.update.effective_chat is not None and is_group(call.update.effective_chat):
        await call.reply(call.t.subscribe_in_private())
        return
    await subscribe(call.deps.uow(), user_id=call.user_id, on=on, update=call.key, at=call.at)
    await call.reply(call.t.subscribed(on))
