"""Campaign use cases: create one, set its targets, attach the group's own objects, list,
report its 复盘 at any time, and finish those whose last day is over (each 复盘 once).

Every campaign id and object id typed by an admin is resolved to its group first: a
campaign or an object of another group is answered as unknown, nothing is changed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from campaigns.campaign import (
    AttachKind,
    Campaign,
    CampaignRefusal,
    CampaignRefused,
    Retro,
    RetroFacts,
    counted_period,
    from_plan,
    retro,
    top_inviters,
)
from campaigns.channels import Channel, ChannelFacts
from campaigns.checkin import local_day
from campaigns.journeys import Journey
from campaigns.ports import UnitOfWork
from campaigns.ports.calendar import PostRecord
from campaigns.ports.campaigns import Attached, CampaignRecord
from campaigns.ports.chats import ChatRecord
from campaigns.services.chats import claim_update, require_chat
from campaigns.services.stats import fact_window
from campaigns.services.surveys import results_of
from campaigns.stats import Kpi, PeriodFacts
from campaigns.surveys import SurveyResult


@dataclass(frozen=True)
class Finished:
    """A campaign whose 复盘 is to go to its group's admins, in the group's language."""

    chat_id: int
    language: str
    retro: Retro


async def create_campaign(
    uow: UnitOfWork,
    *,
    chat_id: int,
    campaign: Campaign,
    by: int | None,
    at: dt.datetime,
    update: tuple[int, int] | None = None,
) -> CampaignRecord:
    """A new campaign of the group; a name the group used already is refused. `update` is
    (bot id, update id) of an admin's /campaign new: a redelivery raises DuplicateUpdate."""
    async with uow:
        if update is not None:
            await claim_update(uow, update[0], update[1], at)
        chat = await require_chat(uow, chat_id)
        new_id = await uow.campaigns.add(chat.pk, campaign, by=by, at=at)
        if new_id is None:
            raise CampaignRefused(CampaignRefusal.NAME_TAKEN, campaign.name)
        record = await uow.campaigns.get(new_id)
        await uow.commit()
    assert record is not None
    return record


async def _own(uow: UnitOfWork, chat: ChatRecord, campaign_id: int) -> CampaignRecord:
    """The group's campaign of that id; another group's is as unknown as none."""
    record = await uow.campaigns.get(campaign_id)
    if record is None or record.chat_pk != chat.pk:
        raise CampaignRefused(CampaignRefusal.UNKNOWN, str(campaign_id))
    return record


async def set_target(
    uow: UnitOfWork,
    *,
    chat_id: int,
    campaign_id: int,
    kpi: Kpi,
    value: float | None,
    update: tuple[int, int] | None = None,
    at: dt.datetime | None = None,
) -> CampaignRecord:
    """Set (or with None, remove) one KPI target; a redelivered /campaign target (`update`,
    handled at `at`) raises DuplicateUpdate."""
    async with uow:
        if update is not None and at is not None:
            await claim_update(uow, update[0], update[1], at)
        record = await _own(uow, await require_chat(uow, chat_id), campaign_id)
        targets = dict(record.campaign.targets)
        if value is None:
            targets.pop(kpi, None)
        else:
            targets[kpi] = value
        await uow.campaigns.set_targets(campaign_id, targets)
        changed = await uow.campaigns.get(campaign_id)
        await uow.commit()
    assert changed is not None
    return changed


async def attach(
    uow: UnitOfWork,
    *,
    chat_id: int,
    campaign_id: int,
    kind: AttachKind,
    ref: str,
    at: dt.datetime,
    update: tuple[int, int] | None = None,
) -> list[Attached]:
    """Attach an object of the same group (a journey or a channel by its name); what is
    attached now (a channel by its name). A channel belongs to one campaign at most: its
    placement's cost is counted once (the database holds it). A redelivered
    /campaign attach (`update`) raises DuplicateUpdate."""
    async with uow:
        if update is not None:
            await claim_update(uow, update[0], update[1], at)
        chat = await require_chat(uow, chat_id)
        await _own(uow, chat, campaign_id)
        channel = None
        if kind is AttachKind.JOURNEY:
            if ref not in Journey.__members__.values():
                raise CampaignRefused(CampaignRefusal.NOT_FOUND, ref)
        elif kind is AttachKind.CHANNEL:
            channel = await uow.channels.by_name(chat.pk, ref)
            if channel is None:
                raise CampaignRefused(CampaignRefusal.NOT_FOUND, ref)
            ref = str(channel.link_id)  # a rename keeps it attached
            await _channel_free(uow, campaign_id, channel)
        elif await uow.campaigns.owner(kind, int(ref)) != chat.pk:
            raise CampaignRefused(CampaignRefusal.NOT_FOUND, ref)
        if not await uow.campaigns.attach(campaign_id, kind, ref, at):
            if channel is not None:
                await _channel_free(uow, campaign_id, channel)  # another campaign raced it
            raise CampaignRefused(CampaignRefusal.ATTACHED, channel.name if channel else ref)
        items = await _named(uow, chat, await uow.campaigns.attached(campaign_id))
        await uow.commit()
    return items


async def _channel_free(uow: UnitOfWork, campaign_id: int, channel: Channel) -> None:
    """Refuse a channel attached to another campaign (`value`: its name and that id)."""
    other = await uow.campaigns.holding(AttachKind.CHANNEL, str(channel.link_id))
    if other is not None and other != campaign_id:
        raise CampaignRefused(CampaignRefusal.CHANNEL_TAKEN, f"{channel.name}:{other}")


async def _named(uow: UnitOfWork, chat: ChatRecord, items: list[Attached]) -> list[Attached]:
    """Attached channels shown by their names (stored by link id, which a rename keeps)."""
    names = {str(c.link_id): c.name for c in await uow.channels.of_group(chat.pk)}
    return [
        Attached(a.kind, names.get(a.ref, a.ref)) if a.kind is AttachKind.CHANNEL else a
        for a in items
    ]


async def list_campaigns(
    uow: UnitOfWork, *, chat_id: int, now: dt.datetime
) -> tuple[dt.date, list[CampaignRecord]]:
    """The group's campaigns (the latest first) and its local today (for their stage)."""
    async with uow:
        chat = await require_chat(uow, chat_id)
        found = await uow.campaigns.of_group(chat.pk)
    return local_day(now, chat.settings.timezone), found


async def report(
    uow: UnitOfWork, *, campaign_id: int, now: dt.datetime, chat_id: int | None = None
) -> Retro:
    """The campaign's 复盘 as of `now`, at any time (before, during or after it). With
    `chat_id` (an admin's command) the campaign must be that group's."""
    async with uow:
        record = await uow.campaigns.get(campaign_id)
        if record is None or (chat_id is not None and record.chat_id != chat_id):
            raise CampaignRefused(CampaignRefusal.UNKNOWN, str(campaign_id))
        chat = await require_chat(uow, record.chat_id)
        return await _retro(uow, chat, record, now)


async def _retro(
    uow: UnitOfWork, chat: ChatRecord, record: CampaignRecord, now: dt.datetime
) -> Retro:
    """Gather the facts (inside the caller's transaction) and compute the 复盘."""
    campaign, timezone = record.campaign, chat.settings.timezone
    today = local_day(now, timezone)
    since, until = campaign.bounds(timezone)
    repo = uow.campaigns
    attached = await repo.attached(record.id)

    def ids(kind: AttachKind) -> list[int]:
        return [int(a.ref) for a in attached if a.kind is kind]

    journeys = [a.ref for a in attached if a.kind is AttachKind.JOURNEY]
    broadcasts, posts = ids(AttachKind.BROADCAST), ids(AttachKind.POST)
    offers, deals = ids(AttachKind.OFFER), ids(AttachKind.DEAL)
    period = counted_period(campaign, today)
    surveys = await _surveys(uow, chat, ids(AttachKind.SURVEY))
    days, facts = [], PeriodFacts()
    if period is not None:
        days = await uow.stats.days(chat.pk, period.start, period.end)
        [facts] = await uow.stats.facts(chat.pk, [fact_window(period, timezone)])
    invites = await repo.confirmed_invites(chat.pk, since, until)
    linked = {int(a.ref) for a in attached if a.kind is AttachKind.CHANNEL and a.ref.isdigit()}
    channels = [c for c in await uow.channels.of_group(chat.pk) if c.link_id in linked]
    found = RetroFacts(
        days=days,
        facts=facts,
        coupons=await repo.coupons(offers, deals) if offers or deals else [],
        orders=await repo.orders(chat.pk, since, until + campaign.window),
        reaches=await repo.reaches(chat.pk, broadcasts, journeys, since, until),
        referral_points=await repo.referral_points(chat.pk, since, until),
        inviters=top_inviters(invites),
        responses=await repo.responses(chat.pk, broadcasts, posts, since, until, now),
        channels=channels,
        channel_facts=await uow.channels.facts(chat.pk) if channels else ChannelFacts(),
        surveys=surveys,
    )
    return retro(
        record.id, campaign, found, timezone=timezone, now=now, today=today, title=chat.title,
        program=chat.settings.referral,
    )  # fmt: skip


async def _surveys(uow: UnitOfWork, chat: ChatRecord, ids: list[int]) -> list[SurveyResult]:
    """The attached surveys (still the group's), oldest first, with their answers."""
    found = [await uow.surveys.get(i) for i in sorted(ids)]
    return await results_of(uow, [s for s in found if s is not None and s.chat_pk == chat.pk])


async def finish_due(uow: Callable[[], UnitOfWork], *, now: dt.datetime) -> list[Finished]:
    """Each campaign whose last local day is over gets its 复盘 built once: the status moves
    to finished with a conditional UPDATE, so of two processes only one gets it to send."""
    async with uow() as u:
        candidates = await u.campaigns.ending_before(now.date() + dt.timedelta(days=1))
    done = []
    for candidate in candidates:
        async with uow() as u:
            chat = await u.chats.by_pk(candidate.chat_pk)
            if chat is None or not candidate.campaign.ended(now, chat.settings.timezone):
                continue
            if not await u.campaigns.finish(candidate.id, now):
                continue
            built = await _retro(u, chat, candidate, now)
            await u.commit()
        done.append(Finished(chat.chat_id, chat.settings.language, built))
    return done


async def attach_plan_posts(
    uow: UnitOfWork, chat: ChatRecord, name: str, posts: Sequence[PostRecord], at: dt.datetime
) -> CampaignRecord:
    """Inside a calendar import: the group's campaign of that name (made from the plan's
    dated posts when new: its first to its last, a phase over each phase's posts) with the
    posts attached."""
    record = await uow.campaigns.by_name(chat.pk, name)
    if record is None:
        dated = [
            (p.phase or "", local_day(p.when.at, p.when.timezone))
            for p in posts
            if p.when.at is not None
        ]
        made = from_plan(name, dated, None, local_day(at, chat.settings.timezone))
        new_id = await uow.campaigns.add(chat.pk, made, by=None, at=at)
        record = await uow.campaigns.get(new_id) if new_id is not None else None
        assert record is not None
    for post in posts:
        await uow.campaigns.attach(record.id, AttachKind.POST, str(post.id), at)
    return record
