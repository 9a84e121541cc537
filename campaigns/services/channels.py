"""Channels (渠道): an admin makes a named invite link for the group, and reads what each
channel brought. The Telegram call happens between transactions, like a member's link."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from campaigns.channels import CHANNEL, ChannelRefusal, ChannelRefused, ChannelStats, channel_stats
from campaigns.ports import UnitOfWork
from campaigns.ports.referral import LinkRecord
from campaigns.services.chats import require_chat
from campaigns.services.invite_links import LinkIssuer


async def create_channel(
    uow: Callable[[], UnitOfWork],
    links: LinkIssuer,
    *,
    chat_id: int,
    name: str,
    by: int,
    at: dt.datetime,
) -> LinkRecord:
    """A new channel link of the group; a name the group used already is refused (also when
    two admins race: the unique name keeps one, the other link is revoked)."""
    async with uow() as u:
        chat = await require_chat(u, chat_id)
        if await u.channels.by_name(chat.pk, name) is not None:
            raise ChannelRefused(ChannelRefusal.TAKEN, name)
    made = await links.create(chat_id, name=name)
    if made is None:
        raise ChannelRefused(ChannelRefusal.NO_LINK, name)
    url, _ = made
    async with uow() as u:
        record = await u.links.add(chat.pk, by, url=url, name=name, kind=CHANNEL, at=at)
        if record is not None:
            await u.commit()
    if record is None:
        await links.revoke(chat_id, url)
        raise ChannelRefused(ChannelRefusal.TAKEN, name)
    return record


async def list_channels(uow: UnitOfWork, *, chat_id: int, now: dt.datetime) -> list[ChannelStats]:
    """Each channel of the group with its joins, confirmed and first orders so far."""
    async with uow:
        chat = await require_chat(uow, chat_id)
        channels = await uow.channels.of_group(chat.pk)
        joiners = await uow.channels.joiners(chat.pk, [c.id for c in channels])
    program = chat.settings.referral
    return [
        channel_stats(c.id, c.name, c.url, joiners.get(c.id, []), program, now) for c in channels
    ]
