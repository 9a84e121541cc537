"""Segments: who is new, active, silent, dormant or gone, and each member's RFM segment.

Stages and RFM scores are recomputed from the members' summaries (never from the event log)
by `refresh`: hourly for every group by the jobs, and for one group before /segments shows
it. Each refresh keeps the day's counts, so /segments can say what changed in a week.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, replace
from enum import StrEnum

from pydantic import ValidationError

from campaigns.checkin import local_day
from campaigns.errors import DomainError
from campaigns.ports import UnitOfWork
from campaigns.ports.chats import ChatRecord
from campaigns.ports.segments import (
    ActiveDay,
    ListedMember,
    MemberSegments,
    SegmentCounts,
    StageChange,
)
from campaigns.segments import Segment, Stage, StageThresholds
from campaigns.services.chats import require_chat

PAGE = 10  # members on one page of a segment's list
COMPARE_DAYS = 7  # /segments shows the change since this many days ago


class Dimension(StrEnum):
    STAGE = "stage"
    RFM = "rfm"
    TIER = "tier"


class ThresholdKey(StrEnum):
    """What `/segments set <key> <days>` changes."""

    NEW = "new"
    SILENT = "silent"
    DORMANT = "dormant"
    WINDOW = "window"


_FIELDS = {
    ThresholdKey.NEW: "new_days",
    ThresholdKey.SILENT: "silent_days",
    ThresholdKey.DORMANT: "dormant_days",
    ThresholdKey.WINDOW: "rfm_window_days",
}


class ThresholdRefused(DomainError, ValueError):
    """A threshold that is not a number of days in range, or would put dormant before silent."""

    def __init__(self, key: str, value: str, current: StageThresholds) -> None:
        super().__init__(f"{key}={value!r}")
        self.key, self.value, self.current = key, value, current


@dataclass(frozen=True)
class SegmentsReport:
    """What /segments shows for one group."""

    chat: ChatRecord
    thresholds: StageThresholds
    stages: SegmentCounts
    rfm: SegmentCounts
    tiers: SegmentCounts
    by_orders: bool  # RFM from orders; False: from activity (a group without orders)

    @property
    def tier_names(self) -> tuple[str, ...]:
        return tuple(t.name for t in self.chat.settings.tiers.tiers)


@dataclass(frozen=True)
class MembersPage:
    chat: ChatRecord
    dimension: Dimension
    key: str
    page: int
    pages: int
    total: int
    members: list[ListedMember]


def window_start(now: dt.datetime, thresholds: StageThresholds, timezone: str) -> dt.date:
    """The first month of the RFM window in the group's calendar: the month of the day
    `rfm_window_days` ago (the window counts whole months: the buckets are monthly)."""
    return local_day(now - dt.timedelta(days=thresholds.rfm_window_days), timezone).replace(day=1)


def in_window(record: ChatRecord, month: dt.date) -> bool:
    """Whether a month's activity or orders count in the group's RFM window as it stands
    (not yet set: they count, and the first refresh sums the window afresh anyway)."""
    return record.rfm_from is None or month >= record.rfm_from


async def refresh_group(uow: UnitOfWork, record: ChatRecord, now: dt.datetime) -> list[StageChange]:
    """Inside a transaction: the group's stages, RFM and today's counts, from the summaries."""
    thresholds = await uow.segments.thresholds(record.pk)
    await uow.segments.keep_window(
        record.pk, window_start(now, thresholds, record.settings.timezone)
    )
    changes = await uow.segments.refresh(record.pk, now, thresholds)
    await uow.segments.save_counts(record.pk, local_day(now, record.settings.timezone))
    return changes


@dataclass(frozen=True)
class Rebuilt:
    """What `growthbot segments --rebuild` did to one group."""

    summaries: int  # members whose summary the log corrected
    stage_changes: int


async def rebuild_group(uow: UnitOfWork, *, chat_id: int, now: dt.datetime) -> Rebuilt:
    """The group's member summaries, window counters and monthly buckets counted afresh from
    the log (messages and orders), then its stages, RFM and today's counts: once after
    upgrading to the summaries, or to mend them. One transaction."""
    async with uow:
        record = await require_chat(uow, chat_id)
        fixed = await uow.segments.rebuild(record.pk, record.settings.timezone, record.rfm_from)
        changes = await refresh_group(uow, record, now)
        await uow.commit()
    return Rebuilt(fixed, len(changes))


async def refresh_all(uow: Callable[[], UnitOfWork], now: dt.datetime) -> int:
    """Every active group, one transaction each (a group's failure leaves the others done);
    returns how many members changed stage."""
    async with uow() as reader:
        groups = await reader.chats.active()
    changed = 0
    for record in groups:
        async with uow() as work:
            changed += len(await refresh_group(work, record, now))
            await work.commit()
    return changed


async def segments_report(uow: UnitOfWork, *, chat_id: int, now: dt.datetime) -> SegmentsReport:
    """Refresh the group, then its members per stage, RFM segment and tier, each with the
    counts of a week ago (None where none were kept)."""
    async with uow:
        record = await require_chat(uow, chat_id)
        await refresh_group(uow, record, now)
        today = local_day(now, record.settings.timezone)
        before = today - dt.timedelta(days=COMPARE_DAYS)
        counts = {}
        for dimension in Dimension:
            # The refresh has just kept today's counts: no other read of the group.
            counts[dimension] = SegmentCounts(
                now=await uow.segments.counts_on(record.pk, dimension, today) or {},
                before=await uow.segments.counts_on(record.pk, dimension, before),
            )
        thresholds = await uow.segments.thresholds(record.pk)
        by_orders = await uow.orders.any_in(record.pk)
        await uow.commit()
    return SegmentsReport(
        record, thresholds, counts[Dimension.STAGE], counts[Dimension.RFM],
        counts[Dimension.TIER], by_orders,
    )  # fmt: skip


def valid_key(dimension: Dimension, key: str) -> bool:
    """A stage, a segment or a tier level (0-4) the list can be asked for."""
    if dimension is Dimension.STAGE:
        return key in {str(s) for s in Stage}
    if dimension is Dimension.RFM:
        return key in {str(s) for s in Segment}
    return key.isascii() and key.isdigit() and 0 <= int(key) <= 4


async def segment_members(
    uow: UnitOfWork,
    *,
    chat_id: int,
    dimension: Dimension,
    key: str,
    page: int,
    refresh_at: dt.datetime | None = None,
) -> MembersPage:
    """One page of the members in a stage, RFM segment or tier: as refreshed at
    `refresh_at` (a new list), else as last refreshed (turning the pages of one list)."""
    if not valid_key(dimension, key):
        raise ValueError(f"no {dimension} {key!r}")
    async with uow:
        record = await require_chat(uow, chat_id)
        if refresh_at is not None:
            await refresh_group(uow, record, refresh_at)
        total, _ = await uow.segments.members_in(record.pk, dimension, key, offset=0, limit=0)
        pages = max(1, -(-total // PAGE))
        page = min(max(page, 0), pages - 1)
        _, members = await uow.segments.members_in(
            record.pk, dimension, key, offset=page * PAGE, limit=PAGE
        )
        await uow.commit()
    return MembersPage(record, dimension, key, page, pages, total, members)


def threshold_days(thresholds: StageThresholds, key: str) -> int:
    """The days a `/segments set` key stands at."""
    return int(getattr(thresholds, _FIELDS[ThresholdKey(key.lower())]))


def parse_threshold(key: str, value: str, current: StageThresholds) -> StageThresholds:
    """`/segments set silent 7`: the thresholds with one changed; ThresholdRefused if the key
    is unknown, the days are not a whole number in range or the order would break."""
    try:
        field = _FIELDS[ThresholdKey(key.lower())]
    except ValueError:
        raise ThresholdRefused(key, value, current) from None
    if not (value.isascii() and value.isdigit() and len(value) <= 5):
        raise ThresholdRefused(key, value, current)
    try:
        return StageThresholds.model_validate({**current.model_dump(), field: int(value)})
    except ValidationError:
        raise ThresholdRefused(key, value, current) from None


async def set_threshold(
    uow: UnitOfWork, *, chat_id: int, key: str, value: str, now: dt.datetime
) -> StageThresholds:
    """Change one threshold of the group; stages follow at once."""
    async with uow:
        record = await require_chat(uow, chat_id)
        new = parse_threshold(key, value, await uow.segments.thresholds(record.pk))
        await uow.segments.set_thresholds(record.pk, new)
        await refresh_group(uow, record, now)
        await uow.commit()
    return new


async def member_segments(
    uow: UnitOfWork, *, chat_id: int, now: dt.datetime
) -> dict[int, MemberSegments]:
    """Every member's stage, RFM and tier, refreshed first (for `export members`)."""
    async with uow:
        record = await require_chat(uow, chat_id)
        await refresh_group(uow, record, now)
        found = await uow.segments.of_members(record.pk)
        await uow.commit()
    ladder = record.settings.tiers
    return {uid: replace(m, tier_name=ladder.name_of(m.tier)) for uid, m in found.items()}


async def tapped(uow: UnitOfWork, record: ChatRecord, user_id: int, at: dt.datetime) -> None:
    """Inside a transaction: a member's tap that claims, joins or redeems is activity, as a
    message is. It moves their last activity (registering a member the bot never heard
    speak) and counts their local day once; the stages and RFM read both."""
    await uow.members.count_messages(record.pk, {user_id: (0, at, at)})
    day = local_day(at, record.settings.timezone)
    inside = in_window(record, day.replace(day=1))
    await uow.segments.active_days([ActiveDay(record.pk, user_id, day, inside)])
