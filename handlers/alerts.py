"""Alerts (库存预警, 活动进度落后, 退群激增) sent privately to a group's admins."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from telegram import Bot

from campaigns.services.alerts import DueAlert
from campaigns.services.members import started_the_bot
from handlers.alert_texts import AlertTexts
from handlers.deps import Deps
from handlers.notify import send_private

log = logging.getLogger(__name__)


async def send_alerts(bot: Bot, d: Deps, due: Sequence[DueAlert]) -> None:
    """Each alert privately to its group's admins who started the bot, in the group's
    language (best effort, like every private notice; the rate limiter paces the sends)."""
    for alert in due:
        admins = await d.admins.admin_ids(bot, alert.chat_id)
        reachable = await started_the_bot(d.uow(), sorted(admins))
        text = AlertTexts(alert.language).alert(alert)
        for admin in sorted(reachable):
            await send_private(bot, d, admin, text)
        if not reachable:
            log.info("alert %s for %s: no admin started the bot", alert.alert.kind, alert.chat_id)
