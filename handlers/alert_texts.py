"""What the alerts to a group's admins say (库存预警, 活动进度落后, 退群激增): what, how much,
and what to do."""

from __future__ import annotations

import html

from campaigns.alerts import AlertKind, LeaveAlert, PaceAlert, StockAlert
from campaigns.services.alerts import DueAlert
from handlers.campaign_texts import CampaignTexts
from handlers.words import Words


class AlertTexts:
    """Alert texts in one language."""

    def __init__(self, language: str) -> None:
        self.words = Words(language)
        self.campaigns = CampaignTexts(language)
        self._ = self.words._

    def alert(self, due: DueAlert) -> str:
        group = html.escape(due.title or str(due.chat_id), quote=False)
        a = due.alert
        if isinstance(a, StockAlert):
            return self.stock(a, group)
        if isinstance(a, PaceAlert):
            return self.pace(a, group)
        return self.leaves(a, group)

    def stock(self, a: StockAlert, group: str) -> str:
        name = html.escape(a.name, quote=False)
        if a.kind is AlertKind.DEAL_STOCK:
            return self._(
                "⚠️ <b>Low stock</b> in {group}\n"
                "Group-buy #{id} {name}: {left} of {stock} left.\n"
                "When it runs out no new team can start: start a new group-buy with more stock "
                "(<code>/groupbuy new …</code>), or end this one with "
                "<code>/groupbuy end {id}</code>.",
                group=group, id=a.object_id, name=name, left=a.remaining, stock=a.stock,
            )  # fmt: skip
        return self._(
            "⚠️ <b>Low stock</b> in {group}\n"
            "Offer #{id} {name}: {left} of {stock} coupons left.\n"
            "When it runs out members can no longer claim it: create a new offer with more "
            "stock (<code>growthbot coupons create … --stock N</code>), or end this one with "
            "<code>/coupon end {id}</code>. <code>/coupon list</code> shows every offer.",
            group=group, id=a.object_id, name=name, left=a.remaining, stock=a.stock,
        )  # fmt: skip

    def pace(self, a: PaceAlert, group: str) -> str:
        lines = "\n".join(f"• {self.campaigns.line(x)}" for x in a.behind)
        return self._(
            "📉 <b>Campaign behind pace</b> in {group}\n"
            "#{id} {name}, up to {day}:\n{lines}\n"
            "Push it with a post or a broadcast to the group, or an offer; "
            "<code>/campaign report {id}</code> shows the whole review.",
            group=group, id=a.campaign_id, name=html.escape(a.name, quote=False),
            day=a.judged.strftime("%m-%d"), lines=lines,
        )  # fmt: skip

    def leaves(self, a: LeaveAlert, group: str) -> str:
        return self._(
            "🚪 <b>Leaves spike</b> in {group}\n"
            "{leaves} members left today; the daily average of the last 14 days is "
            "{average}.\n"
            "Look at what the group saw today (posts, broadcasts, spam) and "
            "<code>/stats</code> for the trend.",
            group=group, leaves=a.leaves, average=f"{a.average:.1f}",
        )  # fmt: skip
