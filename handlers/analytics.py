"""/funnels and /cohorts (admins): the group's funnels and retention, as text and a chart.

Like /segments, the report goes to the admin's private chat where possible (the numbers are
the business's, not the members'); an admin who never started the bot gets it in the group.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from campaigns.cohorts import CohortTable, parse_weeks
from campaigns.funnels import Funnel, parse_period
from campaigns.services.analytics import period_funnels, retention_cohorts
from handlers.analytics_texts import AnalyticsTexts
from handlers.reports import report_privately
from handlers.use_case import Call, use_case


@use_case(AnalyticsTexts, admin=True)
async def funnels_command(call: Call[AnalyticsTexts]) -> None:
    """`/funnels [7d|30d|90d]`: the five funnels with conversions, and their chart."""
    days = parse_period(call.words)
    await call.deps.buffer.flush()  # the latest messages count as activity
    report = await period_funnels(call.deps.uow(), chat_id=call.group_id, days=days, now=call.at)
    png = await asyncio.to_thread(_funnel_chart, report.funnels, call.t.language)
    await _report(call, call.t.funnels(report, days), png, call.t.funnels_caption(days))


@use_case(AnalyticsTexts, admin=True)
async def cohorts_command(call: Call[AnalyticsTexts]) -> None:
    """`/cohorts [weeks]`: weekly retention cohorts as a heatmap, with a one-line summary."""
    weeks = parse_weeks(call.words)
    await call.deps.buffer.flush()
    report = await retention_cohorts(
        call.deps.uow(), chat_id=call.group_id, weeks=weeks, now=call.at
    )
    png = await asyncio.to_thread(_cohort_heatmap, report.table, call.t.language)
    # the summary once, as the text; the chart's caption only names it
    await _report(call, call.t.cohorts(report), png, call.t.cohort_title())


async def _report(call: Call[AnalyticsTexts], text: str, png: bytes, caption: str) -> None:
    await report_privately(call, text, [(png, caption)], sent_note=call.t.sent_privately())


# In a worker thread: matplotlib (about a second to import) is loaded by the first chart, off
# the event loop, rather than by every start of the bot and of each CLI command.


def _funnel_chart(funnels: Sequence[Funnel], language: str) -> bytes:
    from handlers.charts import funnel_chart

    return funnel_chart(funnels, language=language)


def _cohort_heatmap(table: CohortTable, language: str) -> bytes:
    from handlers.charts import cohort_heatmap

    return cohort_heatmap(table, language=language)
