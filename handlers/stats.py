"""/stats [7d|30d|90d] (admins): the group's KPI card against the period before.

The card goes to the admin's private chat where possible, like /segments: it has no member
names, but a group's figures are the operators' business. Without a private chat the group
gets it.
"""

from __future__ import annotations

from campaigns.services.stats import group_stats
from campaigns.stats import KpiCard, parse_asked
from handlers.extract import is_group
from handlers.notify import send_private_message
from handlers.stats_texts import StatsTexts
from handlers.use_case import Call, use_case


@use_case(StatsTexts, admin=True)
async def stats_command(call: Call[StatsTexts]) -> None:
    """`/stats`, `/stats 7d`, `/stats 90d`: the card; anything else gets the usage."""
    card = await stats_card(call)
    text = call.t.card(card)
    if not is_group(call.update.effective_chat):
        await call.reply(text)
        return
    assert call.user_id is not None
    sent = await send_private_message(call.context.bot, call.deps, call.user_id, text)
    await call.reply(call.t.sent_privately() if sent is not None else text)


async def stats_card(call: Call[StatsTexts]) -> KpiCard:
    """The card's data for the period asked: the one place charts will be made from (they
    plot `card.days` and `card.previous_days`, every day of both periods)."""
    asked = parse_asked(call.words)  # BadPeriod: the usage, before anything is read
    await call.deps.buffer.flush()  # the card counts the latest chatter too
    return await group_stats(call.deps.uow(), chat_id=call.group_id, asked=asked, now=call.at)
