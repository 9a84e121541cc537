"""What members and admins read about referrals: counts, leaderboards, the report, export."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from campaigns.members import Leaderboard, Ranked
from campaigns.ports import UnitOfWork
from campaigns.referral import (
    InviteCounts,
    RejectReason,
    ReportNumbers,
    Tier,
    next_tier,
    period_start,
)
from campaigns.services.chats import claim_update, require_chat


@dataclass(frozen=True)
class InviteSummary:
    """/invites: the caller's counts, progress and why rejected invites did not count."""

    chat_title: str | None
    counts: InviteCounts
    next_tier: Tier | None
    tiers: tuple[Tier, ...]
    rejected: list[tuple[str, RejectReason, dt.datetime]]
    hold_hours: int
    require_activity: bool  # a pending invite also waits for the friend to say something


async def my_invites(
    uow: UnitOfWork,
    *,
    bot_id: int,
    update_id: int,
    chat_id: int,
    user_id: int,
    at: dt.datetime,
    limit: int = 10,
) -> InviteSummary:
    async with uow:
        await claim_update(uow, bot_id, update_id, at)
        record = await require_chat(uow, chat_id)
        counts = InviteCounts.of(await uow.invites.counts(record.pk, user_id))
        rejected = await uow.invites.rejected(record.pk, user_id, limit)
        await uow.commit()  # keeps the update claimed: a redelivery must not answer again
    program = record.settings.referral
    return InviteSummary(
        chat_title=record.title,
        counts=counts,
        next_tier=next_tier(counts.confirmed, program),
        tiers=program.tiers,
        rejected=rejected,
        hold_hours=program.hold_hours,
        require_activity=program.require_activity,
    )


async def invite_board(
    uow: UnitOfWork,
    *,
    bot_id: int,
    update_id: int,
    chat_id: int,
    user_id: int,
    period: str,
    at: dt.datetime,
    limit: int = 10,
) -> Leaderboard:
    """Confirmed invites this week, this month or all time, with the caller's own place."""
    async with uow:
        await claim_update(uow, bot_id, update_id, at)
        record = await require_chat(uow, chat_id)
        since = period_start(period, at, record.settings.timezone)
        lines = await uow.invites.top(record.pk, since, limit)
        me = await uow.invites.rank_of(record.pk, user_id, since)
        await uow.commit()
    return Leaderboard(by=f"invites:{period}", lines=lines, me=me)


@dataclass(frozen=True)
class Report:
    """/referral report: the period's numbers and its top inviters."""

    chat_title: str | None
    days: int
    since: dt.datetime
    until: dt.datetime
    numbers: ReportNumbers
    top: list[Ranked]


async def referral_report(
    uow: UnitOfWork,
    *,
    bot_id: int,
    update_id: int,
    chat_id: int,
    days: int,
    at: dt.datetime,
    limit: int = 5,
) -> Report:
    """Joins by source, referral share, confirmation rate, K-factor and top inviters."""
    since = at - dt.timedelta(days=days)
    async with uow:
        await claim_update(uow, bot_id, update_id, at)
        record = await require_chat(uow, chat_id)
        numbers = ReportNumbers(
            joins_by_source=await uow.invites.joins_by_source(record.pk, since, at),
            new_members=await uow.invites.new_members(record.pk, since, at),
            status_of_attributed=await uow.invites.attributed_status(record.pk, since, at),
            members_at_start=await uow.members.present_at(record.pk, since),
        )
        top = await uow.invites.top(record.pk, since, limit)
        await uow.commit()
    return Report(
        chat_title=record.title, days=days, since=since, until=at, numbers=numbers, top=top
    )


async def invite_columns(
    uow: UnitOfWork, *, chat_id: int
) -> dict[int, tuple[int | None, InviteCounts]]:
    """For `export members`: who invited each member, and each member's invites by status."""
    async with uow:
        record = await require_chat(uow, chat_id)
        summary = await uow.invites.summary(record.pk)
    return {uid: (inviter, InviteCounts.of(counts)) for uid, (inviter, counts) in summary.items()}
