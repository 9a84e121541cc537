"""/stats [7d|30d|90d] (admins): the group's KPI card against the period before.

The card goes to the admin's private chat where possible, like /segments: it has no member
names, but a group's figures are the operators' business. Without a private chat the group
gets it.
"""

from __future__ import annotations

from campaigns.services.stats import stats_report
from campaigns.stats import parse_asked
from handlers.charts import render_in_thread, stats_charts
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
    photos = await render_in_thread(stats_charts, report, language=call.t.language)
    text = call.t.card(report.card, report.channels.channels)
    await report_privately(call, text, photos, sent_note=call.t.sent_privately())
