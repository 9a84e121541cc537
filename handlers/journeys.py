"""/journey (admins): the automations' switches, their settings and their reports."""

from __future__ import annotations

from campaigns.journeys import Journey, parse_journey
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

CHANGES = {"on", "off", "set"}


@use_case(JourneyTexts, admin=True)
async def journey_command(call: Call[JourneyTexts]) -> None:
    """`/journey [list]`, `/journey on|off <journey>`, `/journey set <journey> <key> <value>`,
    `/journey report <journey>`, `/journey preview <journey>`: parse, one use case, the
    answer."""
    assert call.chat is not None
    words, d = call.words, call.deps
    action = words[0].casefold() if words else "list"
    if action in CHANGES and len(words) >= 2:
        journey, new = await change_journey(
            d.uow(), update=call.key, chat=chat_info(call.chat), words=words, at=call.at,
            defaults=d.defaults,
        )  # fmt: skip
        d.settings_changed(call.chat.id, new)
        said = call.t.changed if action == "set" else call.t.switched
        await call.reply(said(journey, new.journeys))
    elif action == "report" and len(words) >= 2:
        report = await journey_report(
            d.uow(), chat_id=call.chat.id, journey=parse_journey(words[1]), now=call.at
        )
        await call.reply(call.t.report(report))
    elif action == "preview" and len(words) >= 2:
        await call.reply(await _preview(call, parse_journey(words[1])))
    elif action == "list":
        book, warnings = await group_journeys(d.uow(), chat_id=call.chat.id)
        await call.reply(call.t.listing(book, warnings))
    elif action == "report":
        await call.reply(call.t.report_usage())
    else:
        await call.reply(call.t.usage())


async def _preview(call: Call[JourneyTexts], journey: Journey) -> str:
    """The journey's first message as a member would read it, addressed to the admin."""
    assert call.chat is not None and call.person is not None and call.user_id is not None
    me = Contact(call.user_id, call.person.display_name, call.t.language, True)
    sample = await journey_sample(
        call.deps.uow(), chat_id=call.chat.id, journey=journey, member=me, at=call.at
    )
    return call.t.preview(sample)


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
