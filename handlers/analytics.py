"""/funnels and /cohorts (admins): the group's funnels and retention, as text and a chart.

Like /segments, the report goes to the admin's private chat where possible (the numbers are
the business's, not the members'); an admin who never started the bot gets it in the group.
"""

from __future__ import annotations

from campaigns.cohorts import parse_weeks
from campaigns.funnels import parse_period
from campaigns.services.analytics import period_funnels, retention_cohorts
from handlers.analytics_texts import AnalyticsTexts
from handlers.charts import cohort_heatmap, funnel_chart, render_in_thread
from handlers.reports import report_privately
from handlers.use_case import Call, use_case


@use_case(AnalyticsTexts, admin=True)
async def funnels_command(call: Call[AnalyticsTexts]) -> None:
    """`/funnels [7d|30d|90d]`: the five funnels with conversions, and their chart."""
    days = parse_period(call.words)
    await call.deps.buffer.flush()  # the latest messages count as activity
    report = await period_funnels(call.deps.uow(), chat_id=call.group_id, days=days, now=call.at)
    png = await render_in_thread(funnel_chart, report.funnels, language=call.t.language)
    await _report(call, call.t.funnels(report, days), png, call.t.funnels_caption(days))


@use_case(AnalyticsTexts, admin=True)
async def cohorts_command(call: Call[AnalyticsTexts]) -> None:
    """`/cohorts [weeks]`: weekly retention cohorts as a heatmap, with a one-line summary."""
    weeks = parse_weeks(call.words)
    await call.deps.buffer.flush()
    report = await retention_cohorts(
        call.deps.uow(), chat_id=call.group_id, weeks=weeks, now=call.at
    )
    png = await render_in_thread(cohort_heatmap, report.table, language=call.t.language)
    # the summary once, as the text; the chart's caption only names it
    await _report(call, call.t.cohorts(report), png, call.t.cohort_title())


async def _report(call: Call[AnalyticsTexts], text: str, png: bytes, caption: str) -> None:
    await report_privately(call, text, [(png, caption)], sent_note=call.t.sent_privately())
