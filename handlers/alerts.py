"""Alerts (库存预警, 活动进度落后, 退群激增) sent privately to a group's admins."""

from __future__ import annotations

from collections.abc import Sequence

from telegram import Bot

from campaigns.services.alerts import DueAlert
from handlers.alert_texts import AlertTexts
from handlers.deps import Deps
from handlers.notify import tell_admins


async def send_alerts(bot: Bot, d: Deps, due: Sequence[DueAlert]) -> None:
    """Each alert privately to its group's admins who started the bot, in the group's
    language (best effort, like every private notice; the rate limiter paces the sends)."""
    for alert in due:
        text = AlertTexts(alert.language).alert(alert)
        await tell_admins(bot, d, alert.chat_id, text)
