"""Channels (渠道): an admin makes a named invite link for the group, records what the
placement cost, renames or revokes it, and reads what each channel brought (all time, or
the members it brought in a period). Telegram calls happen between transactions, like a
member's link; a name is always resolved within the admin's own group, so another group's
channel is as unknown as none."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from campaigns.channels import (
    CHANNEL,
    Channel,
    ChannelFacts,
    ChannelPeriod,
    ChannelRefusal,
    ChannelRefused,
    ChannelStats,
    channel_figures,
    period_view,
)
from campaigns.checkin import local_day
from campaigns.errors import DuplicateUpdate
from campaigns.ports import UnitOfWork
from campaigns.ports.chats import ChatRecord
from campaigns.services.chats import claim_update, refuse_handled, require_chat
from campaigns.services.invite_links import LinkIssuer
from campaigns.stats import Asked, Period


class ChannelLinks(LinkIssuer, Protocol):
    """Telegram's side of a channel: made like a member's link, and retired or renamed on
    an admin's word (where the answer matters: a link Telegram keeps live is no revoked
    channel)."""

    async def retire(self, chat_id: int, url: str) -> bool:
        """Revoke the link; False when Telegram refused (the bot lacks the right). A link
        Telegram no longer knows counts as retired."""
        ...

    async def rename(self, chat_id: int, url: str, name: str) -> bool:
        """Give the live link a new name; False when Telegram refused."""
        ...


async def create_channel(
    uow: Callable[[], UnitOfWork],
    links: LinkIssuer,
    *,
    chat_id: int,
    name: str,
    by: int,
    at: dt.datetime,
    cost: int | None = None,
    update: tuple[int, int] | None = None,
) -> Channel:
    """A new channel link of the group (with its cost, if given); a name the group used
    already is refused (also when two admins race: the unique name keeps one, the other
    link is revoked). `update` is (bot id, update id) of the admin's /link new: a
    redelivery creates nothing and raises DuplicateUpdate."""
    async with uow() as u:
        await refuse_handled(u, update, at)
        chat = await require_chat(u, chat_id)
        if await u.channels.by_name(chat.pk, name) is not None:
            raise ChannelRefused(ChannelRefusal.TAKEN, name)
    made = await links.create(chat_id, name=name)
    if made is None:
        raise ChannelRefused(ChannelRefusal.NO_LINK, name)
    url, _ = made
    try:
        async with uow() as u:
            if update is not None:
                await claim_update(u, update[0], update[1], at)
            record = await u.links.add(chat.pk, by, url=url, name=name, kind=CHANNEL, at=at)
            if record is not None:
                if cost is not None:
                    await u.channels.set_cost(record.id, cost)
                await u.commit()
    except DuplicateUpdate:  # a concurrent delivery of the same update stored its link
        await links.revoke(chat_id, url)
        raise
    if record is None:
        await links.revoke(chat_id, url)
        raise ChannelRefused(ChannelRefusal.TAKEN, name)
    return Channel(record.id, name, url, cost)


async def _named(uow: UnitOfWork, chat: ChatRecord, name: str) -> Channel:
    """The group's channel of that name; none (or another group's) is refused as unknown."""
    found = await uow.channels.by_name(chat.pk, name)
    if found is None:
        raise ChannelRefused(ChannelRefusal.UNKNOWN, name)
    return found


async def set_cost(uow: UnitOfWork, *, chat_id: int, name: str, cost: int | None) -> Channel:
    """Record (or with None, forget) what the channel's placement cost, in minor units."""
    async with uow:
        chat = await require_chat(uow, chat_id)
        channel = await _named(uow, chat, name)
        await uow.channels.set_cost(channel.link_id, cost)
        await uow.commit()
    return Channel(channel.link_id, channel.name, channel.url, cost, channel.revoked_at)


async def revoke_channel(
    uow: Callable[[], UnitOfWork],
    links: ChannelLinks,
    *,
    chat_id: int,
    name: str,
    at: dt.datetime,
    update: tuple[int, int] | None = None,
) -> Channel:
    """Retire the channel's Telegram link, then mark it revoked (its joins still count).
    When Telegram refuses, nothing changes: a link that still works is no revoked channel.
    A redelivered /link revoke (`update`) raises DuplicateUpdate."""
    async with uow() as u:
        await refuse_handled(u, update, at)
        chat = await require_chat(u, chat_id)
        channel = await _named(u, chat, name)
    if channel.revoked:
        raise ChannelRefused(ChannelRefusal.REVOKED, name)
    if not await links.retire(chat_id, channel.url):
        raise ChannelRefused(ChannelRefusal.NO_RIGHTS, name)
    async with uow() as u:
        if update is not None:
            await claim_update(u, update[0], update[1], at)
        if not await u.channels.revoke(channel.link_id, at):
            raise ChannelRefused(ChannelRefusal.REVOKED, name)
        await u.commit()
    return Channel(channel.link_id, channel.name, channel.url, channel.cost, at)


async def rename_channel(
    uow: Callable[[], UnitOfWork],
    links: ChannelLinks,
    *,
    chat_id: int,
    old: str,
    new: str,
    at: dt.datetime | None = None,
    update: tuple[int, int] | None = None,
) -> Channel:
    """Give the channel a new name, in Telegram too while its link is live; a name the group
    uses already is refused (the unique index settles a race). A redelivered /link rename
    (`update`, handled at `at`) raises DuplicateUpdate."""
    async with uow() as u:
        if update is not None and at is not None:
            await refuse_handled(u, update, at)
        chat = await require_chat(u, chat_id)
        channel = await _named(u, chat, old)
        if await u.channels.by_name(chat.pk, new) is not None:
            raise ChannelRefused(ChannelRefusal.TAKEN, new)
    if not channel.revoked and not await links.rename(chat_id, channel.url, new):
        raise ChannelRefused(ChannelRefusal.NO_RIGHTS, old)
    async with uow() as u:
        if update is not None and at is not None:
            await claim_update(u, update[0], update[1], at)
        if not await u.channels.rename(chat.pk, channel.link_id, new):
            raise ChannelRefused(ChannelRefusal.TAKEN, new)
        await u.commit()
    return Channel(channel.link_id, new, channel.url, channel.cost, channel.revoked_at)


async def list_channels(uow: UnitOfWork, *, chat_id: int, now: dt.datetime) -> list[ChannelStats]:
    """Each channel of the group with its figures to date (campaigns/channels.py)."""
    async with uow:
        chat = await require_chat(uow, chat_id)
        channels = await uow.channels.of_group(chat.pk)
        facts = await uow.channels.facts(chat.pk) if channels else None
    if facts is None:
        return []
    return channel_figures(channels, facts, chat.settings.referral, now=now)


@dataclass(frozen=True)
class ChannelReport:
    """The channels of a period: what each brought in it, beside its figures to date."""

    title: str | None
    since: dt.datetime
    until: dt.datetime
    channels: list[ChannelPeriod]


async def channels_between(
    uow: UnitOfWork, *, chat_id: int, since: dt.datetime, until: dt.datetime, now: dt.datetime
) -> ChannelReport:
    """The members each channel brought in [since, until), and its figures to date (the
    /stats block, and `growthbot links --period`)."""
    async with uow:
        chat = await require_chat(uow, chat_id)
        channels = await uow.channels.of_group(chat.pk)
        facts = await uow.channels.facts(chat.pk) if channels else None
    if facts is None:
        return ChannelReport(chat.title, since, until, [])
    shown = period_view(channels, facts, chat.settings.referral, since=since, until=until, now=now)
    return ChannelReport(chat.title, since, until, shown)


@dataclass(frozen=True)
class ChannelOverview:
    """The command line's view: each channel's figures to date, and with a period asked
    for, what each brought in its local days (the /stats block's channels)."""

    title: str | None
    to_date: list[ChannelStats]
    period: Period | None = None
    shown: list[ChannelPeriod] = field(default_factory=list)


async def channel_overview(
    uow: UnitOfWork, *, chat_id: int, asked: Asked | None, now: dt.datetime
) -> ChannelOverview:
    """Every channel to date; with `asked`, also the period's (the group's local days, as
    /stats reads them), from one read of the rows."""
    async with uow:
        chat = await require_chat(uow, chat_id)
        channels = await uow.channels.of_group(chat.pk)
        facts = await uow.channels.facts(chat.pk) if channels else ChannelFacts()
    program, timezone = chat.settings.referral, chat.settings.timezone
    to_date = channel_figures(channels, facts, program, now=now)
    if asked is None:
        return ChannelOverview(chat.title, to_date)
    period = asked.period(local_day(now, timezone))
    since, until = period.bounds(timezone)
    shown = period_view(channels, facts, program, since=since, until=until, now=now)
    return ChannelOverview(chat.title, to_date, period, shown)
