"""What /stats says: the KPI card (one line per KPI, the change against the period before)."""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Sequence

from campaigns.channels import ChannelPeriod
from campaigns.coupons import format_amount
from campaigns.stats import BadPeriod, Kpi, KpiCard, KpiKind, KpiLine, TooSoon, Value
from handlers.channel_texts import ChannelTexts
from handlers.words import Words

CURRENCY = "CNY"  # GMV and the averages are shown in the shop's default currency
NONE = "–"  # a ratio with nothing to divide by
# The card's lines, grouped; each group is one block of the message.
BLOCKS = (
    (Kpi.MEMBERS, Kpi.JOINS, Kpi.LEAVES, Kpi.NET_GROWTH),
    (
        Kpi.DAU,
        Kpi.WAU,
        Kpi.MAU,
        Kpi.STICKINESS,
        Kpi.MESSAGES,
        Kpi.CHECKIN_RATE,
        Kpi.MAKEUP_CHECKINS,
    ),
    (Kpi.INVITES_CONFIRMED, Kpi.REFERRAL_SHARE),
    (Kpi.COUPONS_CLAIMED, Kpi.COUPONS_REDEEMED, Kpi.REDEMPTION_RATE),
    (Kpi.ORDERS, Kpi.GMV, Kpi.AOV, Kpi.ARPU, Kpi.REPURCHASE_RATE, Kpi.CONVERSION),
)
ICONS = ("👥", "💬", "🤝", "🎟", "🛒")


def short_day(day: dt.date, other: dt.date) -> str:
    """`11-30`, or `2026-11-30` when the dates shown beside it fall in another year (a card
    across New Year must not read 11-02 – 01-30)."""
    return day.strftime("%m-%d" if day.year == other.year else "%Y-%m-%d")


class StatsTexts:
    """/stats texts in one language."""

    def __init__(self, language: str) -> None:
        self.words = Words(language)
        self.language, self._, self._n = language, self.words._, self.words._n

    def refusal(self, error: Exception) -> str | None:
        if isinstance(error, BadPeriod):
            return self.usage()
        if isinstance(error, TooSoon):
            return self.too_soon(error.seconds)
        return self.words.refusal(error)

    def too_soon(self, seconds: int) -> str:
        return self._n(
            "⏳ This group's stats were drawn less than a minute ago: ask again in {n} second.",
            "⏳ This group's stats were drawn less than a minute ago: ask again in {n} seconds.",
            seconds,
        )

    def usage(self) -> str:
        return self._(
            "Usage: <code>/stats</code>, <code>/stats 7d</code> or <code>/stats 90d</code>: "
            "the group's key figures over the last 30 days (or 7, or 90), against the period "
            "before."
        )

    def sent_privately(self) -> str:
        return self._("📬 I sent you the stats in a private chat.")

    def name(self, kpi: Kpi) -> str:
        return {
            Kpi.MEMBERS: self._("Members"),
            Kpi.JOINS: self._("Joins"),
            Kpi.LEAVES: self._("Leaves"),
            Kpi.NET_GROWTH: self._("Net growth"),
            Kpi.DAU: self._("DAU (daily average)"),
            Kpi.WAU: self._("WAU (last 7 days)"),
            Kpi.MAU: self._("MAU (last 30 days)"),
            Kpi.STICKINESS: self._("Stickiness (DAU/MAU, last 30 days)"),
            Kpi.MESSAGES: self._("Messages"),
            Kpi.CHECKIN_RATE: self._("Check-in rate"),
            Kpi.MAKEUP_CHECKINS: self._("Make-up check-ins (not in the rate)"),
            Kpi.INVITES_CONFIRMED: self._("Invites confirmed"),
            Kpi.REFERRAL_SHARE: self._("Referral share"),
            Kpi.COUPONS_CLAIMED: self._("Coupons claimed"),
            Kpi.COUPONS_REDEEMED: self._("Coupons redeemed"),
            Kpi.REDEMPTION_RATE: self._("Redemption rate"),
            Kpi.ORDERS: self._("Orders"),
            Kpi.GMV: "GMV",  # the same in Chinese
            Kpi.AOV: self._("Average order"),
            Kpi.ARPU: "ARPU",
            Kpi.REPURCHASE_RATE: self._("Repurchase rate"),
            Kpi.CONVERSION: self._("New-member conversion"),
            Kpi.CSAT: self._("CSAT (satisfied)"),
            Kpi.NPS: self._("NPS (net promoters)"),
        }[kpi]

    def card(self, card: KpiCard, channels: Sequence[ChannelPeriod] = ()) -> str:
        """The whole card: a title, a block per theme, one line per KPI, the channels'
        block (a group with channels), then what the numbers compare and in which timezone."""
        p = card.period
        title = self._(
            "📊 <b>{group}</b> · {days} days, {start} – {end}",
            group=html.escape(card.title or "", quote=False),
            days=p.days,
            start=short_day(p.start, p.end),
            end=short_day(p.end, p.start),
        )
        blocks = []
        for icon, block in zip(ICONS, BLOCKS, strict=True):
            lines = [self.line(card[kpi]) for kpi in block]
            blocks.append("\n".join([f"{icon} {lines[0]}", *lines[1:]]))
        channel_block = ChannelTexts(self.language).period_block(channels)
        if channel_block:
            blocks.append(channel_block)
        before = card.previous_period
        note = self._(
            "<i>Change against {start} – {end}. Today counts until now; days in {timezone}. "
            "Members are those the bot has seen join or speak.</i>",
            start=short_day(before.start, p.end),
            end=short_day(before.end, p.end),
            timezone=html.escape(card.timezone, quote=False),
        )
        return "\n\n".join([title, *blocks, note])

    def line(self, line: KpiLine) -> str:
        """`Members <b>1,234</b> (+12, +1.0%)`; a KPI without a value is `–`."""
        change = self.change(line)
        value = self.value(line.kind, line.value)
        return f"{self.name(line.kpi)} <b>{value}</b>" + (f" ({change})" if change else "")

    def change(self, line: KpiLine) -> str:
        if line.value is None and line.previous is None:
            return ""
        if line.change is None:
            return NONE
        difference = self.difference(line.kind, line.change)
        pct = line.change_pct
        return difference if pct is None else f"{difference}, {pct:+.0f}%"

    @staticmethod
    def value(kind: KpiKind, value: Value) -> str:
        if value is None:
            return NONE
        if kind is KpiKind.RATIO:
            return f"{value * 100:.1f}%"
        if kind is KpiKind.MONEY:
            return format_amount(round(value), CURRENCY)
        if kind is KpiKind.AVERAGE:
            return f"{value:,.1f}"
        if kind is KpiKind.SIGNED:
            return f"{round(value):+,}" if value else "0"
        return f"{round(value):,}"

    def difference(self, kind: KpiKind, change: float) -> str:
        if kind is KpiKind.RATIO:
            return self._("{points} pts", points=f"{change * 100:+.1f}")
        if kind is KpiKind.MONEY:
            sign = "-" if change < 0 else "+"
            return sign + format_amount(abs(round(change)), CURRENCY)
        if kind is KpiKind.AVERAGE:
            return f"{change:+,.1f}"
        return f"{round(change):+,}"
