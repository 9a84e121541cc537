"""/link new|list|cost|revoke|rename (admins): channels (渠道), named invite links of the
group, what each placement cost, and what each brought."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from campaigns.channels import ChannelVerb, LinkCommand, parse_link_command
from campaigns.services.channels import (
    create_channel,
    list_channels,
    rename_channel,
    revoke_channel,
    set_cost,
)
from handlers.channel_texts import ChannelTexts
from handlers.invite_links import TelegramLinks
from handlers.reports import figures_privately
from handlers.use_case import Call, use_case


@use_case(ChannelTexts, admin=True)
async def link_command(call: Call[ChannelTexts]) -> None:
    """`/link <verb> …`: each verb's one use case; anything else gets the usage."""
    command = parse_link_command(call.words)
    await VERBS[command.verb](call, command)


async def _new(call: Call[ChannelTexts], c: LinkCommand) -> None:
    assert c.name is not None  # the parser names every channel it returns
    made = await create_channel(call.deps.uow, TelegramLinks(call.context.bot),
                                chat_id=call.group_id, name=c.name, by=call.user_id or 0,
                                at=call.at, cost=c.cost, update=call.key)  # fmt: skip
    await call.reply(call.t.created(made))


async def _list(call: Call[ChannelTexts], c: LinkCommand) -> None:
    await call.deps.buffer.flush()  # the confirmed count reads the latest activity
    listing = await list_channels(call.deps.uow(), chat_id=call.group_id, now=call.at)
    await figures_privately(call, call.t.listing(listing))


async def _cost(call: Call[ChannelTexts], c: LinkCommand) -> None:
    assert c.name is not None
    channel = await set_cost(call.deps.uow(), chat_id=call.group_id, name=c.name, cost=c.cost)
    await call.reply(call.t.cost_set(channel))


async def _revoke(call: Call[ChannelTexts], c: LinkCommand) -> None:
    assert c.name is not None
    channel = await revoke_channel(call.deps.uow, TelegramLinks(call.context.bot),
                                   chat_id=call.group_id, name=c.name, at=call.at,
                                   update=call.key)  # fmt: skip
    await call.reply(call.t.revoked(channel))


async def _rename(call: Call[ChannelTexts], c: LinkCommand) -> None:
    assert c.name is not None and c.new_name is not None
    channel = await rename_channel(call.deps.uow, TelegramLinks(call.context.bot),
                                   chat_id=call.group_id, old=c.name, new=c.new_name,
                                   at=call.at, update=call.key)  # fmt: skip
    await call.reply(call.t.renamed(c.name, channel))


VERBS: dict[ChannelVerb, Callable[[Call[ChannelTexts], LinkCommand], Awaitable[None]]] = {
    ChannelVerb.NEW: _new, ChannelVerb.LIST: _list, ChannelVerb.COST: _cost,
    ChannelVerb.REVOKE: _revoke, ChannelVerb.RENAME: _rename,
}  # fmt: skip
