"""/stats [7d|30d|90d] (admins): the group's KPI card against the period before.

The card goes to the admin's private chat where possible, like /segments: it has no member
names, but a group's figures are the operators' business. Without a private chat the group
gets it.
"""

from __future__ import annotations

import asyncio

from campaigns.services.stats import StatsReport, stats_report
from campaigns.stats import parse_asked
from handlers.reports import report_privately
from handlers.stats_texts import StatsTexts
from handlers.use_case import Call, use_case


@use_case(StatsTexts, admin=True)
async def stats_command(call: Call[StatsTexts]) -> None:
    """`/stats`, `/stats 7d`, `/stats 90d`: the card and its four charts; anything else gets
    the usage; a group asked about within the last minute gets when it may ask again."""
    asked = parse_asked(call.words)  # BadPeriod: the usage, before anything is read
    call.deps.stats_asked.take(call.group_id, call.deps.clock())  # TooSoon: nothing drawn
    await call.deps.buffer.flush()  # the card counts the latest chatter too
    report = await stats_report(call.deps.uow, chat_id=call.group_id, asked=asked, now=call.at)
    photos = await asyncio.to_thread(_charts, report, call.t.language)
    text = call.t.card(report.card, report.channels.channels)
    await report_privately(call, text, photos, sent_note=call.t.sent_privately())


def _charts(report: StatsReport, language: str) -> list[tuple[bytes, str]]:
    """In a worker thread: matplotlib (about a second to import) is loaded by the first chart,
    off the event loop, rather than by every start of the bot and of each CLI command."""
    from handlers.charts import stats_charts

    return stats_charts(report, language=language)
