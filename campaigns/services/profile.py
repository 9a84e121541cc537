"""Read models: a member's own numbers, leaderboards, the member export."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace

from campaigns.checkin import current_streak, local_day, streak_alive_since
from campaigns.members import Leaderboard, MemberStats, Ranked
from campaigns.ports import UnitOfWork
from campaigns.services.chats import claim_update, require_chat
from campaigns.services.tiers import TierView, tier_view

BOARDS = ("points", "streak")


@dataclass(frozen=True)
class Profile:
    """/me: the member's numbers with a live streak and their points rank."""

    stats: MemberStats
    rank: Ranked | None
    tier: TierView | None = None


def _live(stats: MemberStats, today: dt.date) -> MemberStats:
    return replace(stats, streak=current_streak(stats.last_checkin_day, stats.streak, today))


async def my_profile(
    uow: UnitOfWork, *, bot_id: int, update_id: int, chat_id: int, user_id: int, at: dt.datetime
) -> Profile | None:
    """The caller's numbers in a group, or None if they have no record there yet."""
    async with uow:
        await claim_update(uow, bot_id, update_id, at)
        record = await require_chat(uow, chat_id)
        today = local_day(at, record.settings.timezone)
        stats = await uow.members.stats(record.pk, user_id)
        rank = await uow.members.rank_of(record.pk, user_id, "points", streak_alive_since(today))
        tier = await tier_view(uow, record, user_id, at)
        await uow.commit()
    return Profile(stats=_live(stats, today), rank=rank, tier=tier) if stats else None


async def leaderboard(
    uow: UnitOfWork,
    *,
    bot_id: int,
    update_id: int,
    chat_id: int,
    user_id: int,
    by: str,
    at: dt.datetime,
    limit: int = 10,
) -> Leaderboard:
    """Top members by points or live streak, plus the caller's own place."""
    async with uow:
        await claim_update(uow, bot_id, update_id, at)
        record = await require_chat(uow, chat_id)
        today = local_day(at, record.settings.timezone)
        lines = await uow.members.top(record.pk, by, limit, streak_alive_since(today))
        me = await uow.members.rank_of(record.pk, user_id, by, streak_alive_since(today))
        await uow.commit()
    return Leaderboard(by=by, lines=lines, me=me)


async def export_members(uow: UnitOfWork, *, chat_id: int, at: dt.datetime) -> list[MemberStats]:
    """Every member ever seen in the group, with live streaks as of `at`."""
    async with uow:
        record = await require_chat(uow, chat_id)
        today = local_day(at, record.settings.timezone)
        rows = await uow.members.all_stats(record.pk)
    return [_live(row, today) for row in rows]
