"""/campaign new|list|report|target|attach (admins), and the 复盘 sent to a group's admins
when one of its campaigns ends.

Reports go to the admin's private chat where possible, like /stats: a campaign's money is
the operators' business. Without a private chat the group gets it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

from telegram import Bot

from campaigns.campaign import parse_attach, parse_id, parse_new, parse_target
from campaigns.checkin import local_day
from campaigns.services.campaigns import (
    Finished,
    attach,
    create_campaign,
    list_campaigns,
    report,
    set_target,
)
from handlers.campaign_texts import CampaignTexts
from handlers.deps import Deps
from handlers.extract import is_group
from handlers.notify import send_private_message, tell_admins
from handlers.use_case import Call, use_case


@use_case(CampaignTexts, admin=True)
async def campaign_command(call: Call[CampaignTexts]) -> None:
    """`/campaign <verb> …`: each verb's one use case; anything else gets the usage."""
    verb, rest = (call.words[0].lower(), call.words[1:]) if call.words else ("", [])
    if verb in VERBS and (verb != "report" or len(rest) == 1):
        await VERBS[verb](call, rest)
    else:
        await call.reply(call.t.usage())


async def _new(call: Call[CampaignTexts], rest: list[str]) -> None:
    zone = (await call.deps.settings_of(call.group_id)).timezone
    made = parse_new(rest, local_day(call.at, zone))
    record = await create_campaign(call.deps.uow(), chat_id=call.group_id, campaign=made,
                                   by=call.user_id, at=call.at, update=call.key)  # fmt: skip
    await call.reply(call.t.created(record))


async def _target(call: Call[CampaignTexts], rest: list[str]) -> None:
    campaign_id, kpi, value = parse_target(rest)
    record = await set_target(call.deps.uow(), chat_id=call.group_id, campaign_id=campaign_id,
                              kpi=kpi, value=value, update=call.key, at=call.at)  # fmt: skip
    await call.reply(call.t.target_set(record))


async def _attach(call: Call[CampaignTexts], rest: list[str]) -> None:
    campaign_id, kind, ref = parse_attach(rest)
    items = await attach(call.deps.uow(), chat_id=call.group_id, campaign_id=campaign_id,
                         kind=kind, ref=ref, at=call.at, update=call.key)  # fmt: skip
    await call.reply(call.t.attached(items))


async def _list(call: Call[CampaignTexts], rest: list[str]) -> None:
    found = await list_campaigns(call.deps.uow(), chat_id=call.group_id, now=call.at)
    await call.reply(call.t.listing(*found))


async def _report_verb(call: Call[CampaignTexts], rest: list[str]) -> None:
    await _report(call, rest[0])


VERBS: dict[str, Callable[[Call[CampaignTexts], list[str]], Awaitable[None]]] = {
    "new": _new, "target": _target, "attach": _attach, "list": _list, "report": _report_verb,
}  # fmt: skip


async def _report(call: Call[CampaignTexts], word: str) -> None:
    """The 复盘 of the group's campaign, privately where possible."""
    campaign_id = parse_id(word)
    await call.deps.buffer.flush()  # the report counts the latest chatter too
    retro = await report(call.deps.uow(), campaign_id=campaign_id, now=call.at,
                         chat_id=call.group_id)  # fmt: skip
    text = call.t.retro(retro)
    if not is_group(call.update.effective_chat) or call.user_id is None:
        await call.reply(text)
        return
    sent = await send_private_message(call.context.bot, call.deps, call.user_id, text)
    await call.reply(call.t.sent_privately() if sent is not None else text)


async def send_retros(bot: Bot, d: Deps, finished: Sequence[Finished]) -> None:
    """Each ended campaign's 复盘, privately to its group's admins who started the bot, in
    the group's language (best effort, like every private notice)."""
    for f in finished:
        text = CampaignTexts(f.language).retro(f.retro, ended=True)
        await tell_admins(bot, d, f.chat_id, text)
