"""`growthbot segments --chat ID [--json] [--rebuild]`: members per stage, RFM segment and
tier, with the change since a week ago, recomputed from the member summaries first (as
/segments does); `--rebuild` counts the summaries afresh from the log before."""

from __future__ import annotations

import asyncio
import datetime as dt
import sys
from collections.abc import Callable
from typing import Any

from bot import arguments
from bot.coupon_cli import print_json
from bot.settings import Settings
from campaigns.content import plain_text
from campaigns.ports.segments import SegmentCounts
from campaigns.services.segments import SegmentsReport, rebuild_group, segments_report


def add_parsers(sub: Any) -> None:
    segments = sub.add_parser(
        "segments", help="members per lifecycle stage, RFM segment and tier of a group"
    )
    segments.add_argument("--chat", type=arguments.chat_id, required=True, help="group chat id")
    segments.add_argument("--json", action="store_true", help="print the counts as JSON")
    segments.add_argument(
        "--rebuild", action="store_true",
        help="first count the member summaries and monthly buckets afresh from the messages "
        "and orders (after upgrading, or to mend them)",
    )  # fmt: skip


async def _report(settings: Settings, chat_id: int, rebuild: bool = False) -> SegmentsReport:
    from storage.engine import create_engine, session_factory
    from storage.uow import SqlUnitOfWork

    engine = create_engine(settings.database_url)
    try:
        sessions = session_factory(engine)
        if rebuild:
            done = await rebuild_group(
                SqlUnitOfWork(sessions), chat_id=chat_id, now=dt.datetime.now(dt.UTC)
            )
            print(
                f"rebuilt from the log: {done.summaries} member summaries corrected, "
                f"{done.stage_changes} stage changes",
                file=sys.stderr,
            )
        uow = SqlUnitOfWork(sessions)
        return await segments_report(uow, chat_id=chat_id, now=dt.datetime.now(dt.UTC))
    finally:
        await engine.dispose()


def _counts(counts: SegmentCounts, name: Callable[[str], str] = str) -> dict[str, Any]:
    def named(found: dict[str, int] | None) -> dict[str, int] | None:
        return None if found is None else {name(key): n for key, n in found.items()}

    return {"now": named(counts.now), "week_ago": named(counts.before)}


def report_json(r: SegmentsReport) -> dict[str, Any]:
    return {
        "chat_id": r.chat.chat_id,
        "title": r.chat.title,
        "thresholds": r.thresholds.model_dump(),
        "rfm_by": "orders" if r.by_orders else "activity",
        "stages": _counts(r.stages),
        "rfm": _counts(r.rfm),
        # by the group's tier names, as /segments shows them (the counts are kept by level)
        "tiers": _counts(r.tiers, lambda level: r.chat.settings.tiers.name_of(int(level))),
    }


def run(settings: Settings, args: Any) -> int:
    report = asyncio.run(_report(settings, args.chat, args.rebuild))
    if args.json:
        print_json(report_json(report))
        return 0
    from handlers.segment_texts import SegmentTexts

    text = SegmentTexts(report.chat.settings.language).report(report)
    lines = text.split("\n")[:-1]  # not the line about buttons
    print(plain_text("\n".join(lines)).rstrip())
    return 0
