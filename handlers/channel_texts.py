"""What /link says: the usage, refusals, a new, re-costed, revoked or renamed channel, each
channel's figures; and the channel lines /stats and the 复盘 show."""

from __future__ import annotations

import html
from collections.abc import Sequence

from campaigns.channels import (
    NAME_MAX,
    Channel,
    ChannelInputError,
    ChannelPeriod,
    ChannelProblem,
    ChannelRefusal,
    ChannelRefused,
    ChannelStats,
)
from campaigns.coupons import format_amount
from handlers.words import Words

CURRENCY = "CNY"  # costs are typed in ¥, like the campaign budget
NONE = "–"
# Channels one message lists (the most joins first): a Telegram message holds 4096 characters,
# and a group with many placements reads the rest with `growthbot links`.
MOST_LISTED, MOST_IN_STATS, MOST_IN_RETRO = 15, 8, 10


def most_joins(items: Sequence[ChannelStats], most: int) -> list[ChannelStats]:
    """The `most` channels with the most joins (ties: the older first), in list order."""
    kept = {id(c) for c in sorted(items, key=lambda c: (-c.joins, c.link_id))[:most]}
    return [c for c in items if id(c) in kept]


def _esc(text: str) -> str:
    return html.escape(text, quote=False)


class ChannelTexts:
    """/link texts in one language."""

    def __init__(self, language: str) -> None:
        self.words = Words(language)
        self.language, self._, self._n = language, self.words._, self.words._n

    def refusal(self, error: Exception) -> str | None:
        if isinstance(error, ChannelInputError):
            return self.problem(error)
        if isinstance(error, ChannelRefused):
            return self.refused(error)
        return self.words.refusal(error)

    def problem(self, error: ChannelInputError) -> str:
        if error.problem is ChannelProblem.NAME:
            said = self._(
                "A channel's name is 1 to {max} characters (not starting like r123).",
                max=NAME_MAX,
            )
        elif error.problem is ChannelProblem.COST:
            said = self._(
                "<code>{value}</code> is not a cost: an amount in ¥ like 500 or 1299.50 (or "
                "<code>off</code>).",
                value=_esc(error.value),
            )
        else:
            return self.usage()
        return said + "\n\n" + self.usage()

    def refused(self, error: ChannelRefused) -> str:
        name = _esc(error.value)
        return {
            ChannelRefusal.TAKEN: self._(
                "This group has a channel named {name} already.", name=name
            ),
            ChannelRefusal.NO_LINK: self._(
                "Telegram made no invite link: make me an admin who may invite users, then "
                "try again."
            ),
            ChannelRefusal.UNKNOWN: self._(
                "This group has no channel named <b>{name}</b>: see /link list.", name=name
            ),
            ChannelRefusal.REVOKED: self._(
                "Channel <b>{name}</b> is revoked already.", name=name
            ),
            ChannelRefusal.NO_RIGHTS: self._(
                "Telegram refused to change the link of <b>{name}</b>: make me an admin who "
                "may invite users, then try again. Nothing was changed.",
                name=name,
            ),
        }[error.reason]  # fmt: skip

    def usage(self) -> str:
        return self._(
            "<b>Channels (渠道)</b>: a named invite link for each place you post the group.\n"
            "<code>/link new &lt;name&gt; [cost=500]</code> makes one (1 to 32 characters; "
            "the placement's cost in ¥)\n"
            "<code>/link list</code> shows each channel's joins, confirmed, first orders, GMV, "
            "cost and ROI\n"
            "<code>/link cost &lt;name&gt; &lt;¥|off&gt;</code> records what it cost\n"
            "<code>/link rename &lt;old&gt; -&gt; &lt;new&gt;</code> renames it\n"
            "<code>/link revoke &lt;name&gt;</code> retires its link (its joins still count)"
        )

    def money(self, minor: int | None) -> str:
        return NONE if minor is None else format_amount(minor, CURRENCY)

    @staticmethod
    def roi(value: float | None) -> str:
        return NONE if value is None else f"{value * 100:,.0f}%"

    def created(self, channel: Channel) -> str:
        text = self._(
            "🔗 Channel <b>{name}</b>: {url}\nJoins through it are counted in /link list.",
            name=_esc(channel.name), url=channel.url,
        )  # fmt: skip
        if channel.cost is not None:
            text += "\n" + self._("Cost: {cost}", cost=self.money(channel.cost))
        return text

    def cost_set(self, channel: Channel) -> str:
        if channel.cost is None:
            return self._(
                "💰 Channel <b>{name}</b> has no cost recorded now: its ROI shows –.",
                name=_esc(channel.name),
            )
        return self._(
            "💰 Channel <b>{name}</b> cost {cost}. ROI = (GMV − cost) / cost, in /link list.",
            name=_esc(channel.name), cost=self.money(channel.cost),
        )  # fmt: skip

    def revoked(self, channel: Channel) -> str:
        return self._(
            "⛔ Channel <b>{name}</b> revoked: its link lets nobody in any more. Who joined "
            "through it still counts in /link list.",
            name=_esc(channel.name),
        )

    def renamed(self, old: str, channel: Channel) -> str:
        return self._(
            "✏️ Channel <b>{old}</b> is now <b>{new}</b> (same link, same figures).",
            old=_esc(old), new=_esc(channel.name),
        )  # fmt: skip

    def figures(self, s: ChannelStats) -> str:
        """`3 joined · 2 confirmed · 1 first order · GMV ¥99.00`."""
        return self._n(
            "{joins} joined · {confirmed} confirmed · {orders} first order · GMV {gmv}",
            "{joins} joined · {confirmed} confirmed · {orders} first orders · GMV {gmv}",
            s.first_orders, joins=s.joins, confirmed=s.confirmed, orders=s.first_orders,
            gmv=self.money(s.gmv),
        )  # fmt: skip

    def money_figures(self, s: ChannelStats) -> str:
        """`cost ¥500.00 · ROI 20%` (– for none)."""
        return self._("cost {cost} · ROI {roi}", cost=self.money(s.cost), roi=self.roi(s.roi))

    def listing(self, channels: Sequence[ChannelStats]) -> str:
        if not channels:
            return self._("No channels yet: <code>/link new &lt;name&gt;</code> makes one.")
        lines = [self._("<b>Channels (渠道)</b>")]
        for c in most_joins(channels, MOST_LISTED):
            where = self._("revoked") if c.channel.revoked else c.channel.url
            lines.append(
                f"<b>{_esc(c.name)}</b> · {self.figures(c)} · {self.money_figures(c)}\n{where}"
            )
        lines += self.more(len(channels) - MOST_LISTED)
        lines.append(self.rule_note())
        return "\n".join(lines)

    def more(self, left_out: int) -> list[str]:
        if left_out <= 0:
            return []
        return [self._("…and {n} more channels with fewer joins: <code>growthbot links</code> "
                       "lists them all.", n=left_out)]  # fmt: skip

    def rule_note(self) -> str:
        return self._(
            "<i>Each member counts once, in the channel they first joined through; GMV is "
            "their orders from that join on. ROI = (GMV − cost) / cost.</i>"
        )

    def period_block(self, shown: Sequence[ChannelPeriod]) -> str | None:
        """/stats: what each channel brought in the period, beside its ROI to date."""
        if not shown:
            return None
        lines = [self._("🔗 <b>Channels (渠道)</b>: members who joined through them in these "
                        "days")]  # fmt: skip
        kept = {id(c) for c in most_joins([c.period for c in shown], MOST_IN_STATS)}
        for c in (c for c in shown if id(c.period) in kept):
            line = f"<b>{_esc(c.period.name)}</b>: {self.figures(c.period)}"
            if c.to_date.cost is not None:
                line += " · " + self._(
                    "ROI to date {roi} (GMV {gmv}, cost {cost})",
                    roi=self.roi(c.to_date.roi), gmv=self.money(c.to_date.gmv),
                    cost=self.money(c.to_date.cost),
                )  # fmt: skip
            lines.append(line)
        return "\n".join(lines + self.more(len(shown) - MOST_IN_STATS))
