"""/link new|list (admins): channels (渠道), named invite links of the group."""

from __future__ import annotations

from campaigns.channels import ChannelVerb, parse_link_command
from campaigns.services.channels import create_channel, list_channels
from handlers.channel_texts import ChannelTexts
from handlers.invite_links import TelegramLinks
from handlers.use_case import Call, use_case


@use_case(ChannelTexts, admin=True)
async def link_command(call: Call[ChannelTexts]) -> None:
    """`/link new <name>` makes the group a channel link; `/link list` shows each's figures."""
    verb, name = parse_link_command(call.words)
    d, group = call.deps, call.group_id
    if verb is ChannelVerb.NEW and name is not None and call.user_id is not None:
        link = await create_channel(d.uow, TelegramLinks(call.context.bot), chat_id=group,
                                    name=name, by=call.user_id, at=call.at)  # fmt: skip
        await call.reply(call.t.created(link))
    else:
        await d.buffer.flush()  # the confirmed count reads the latest activity
        await call.reply(call.t.listing(await list_channels(d.uow(), chat_id=group, now=call.at)))
