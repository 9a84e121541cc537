"""What /link says: the usage, refusals, a new channel's link, and each channel's figures."""

from __future__ import annotations

import html
from collections.abc import Sequence

from campaigns.channels import (
    NAME_MAX,
    ChannelInputError,
    ChannelProblem,
    ChannelRefusal,
    ChannelRefused,
    ChannelStats,
)
from campaigns.ports.referral import LinkRecord
from handlers.words import Words


def _esc(text: str) -> str:
    return html.escape(text, quote=False)


class ChannelTexts:
    """/link texts in one language."""

    def __init__(self, language: str) -> None:
        self.words = Words(language)
        self.language, self._ = language, self.words._

    def refusal(self, error: Exception) -> str | None:
        if isinstance(error, ChannelInputError):
            if error.problem is ChannelProblem.NAME:
                return self._(
                    "A channel's name is 1 to {max} characters (not starting like r123).",
                    max=NAME_MAX,
                ) + "\n\n" + self.usage()  # fmt: skip
            return self.usage()
        if isinstance(error, ChannelRefused):
            if error.reason is ChannelRefusal.TAKEN:
                return self._("This group has a channel named {name} already.",
                              name=_esc(error.value))  # fmt: skip
            return self._(
                "Telegram made no invite link: make me an admin who may invite users, then "
                "try again."
            )
        return self.words.refusal(error)

    def usage(self) -> str:
        return self._(
            "<b>Channels (渠道)</b>: a named invite link for each place you post the group.\n"
            "<code>/link new &lt;name&gt;</code> makes one (1 to 32 characters)\n"
            "<code>/link list</code> shows each channel's joins, confirmed and first orders"
        )

    def created(self, link: LinkRecord) -> str:
        return self._(
            "🔗 Channel <b>{name}</b>: {url}\nJoins through it are counted in /link list.",
            name=_esc(link.name), url=link.url,
        )  # fmt: skip

    def listing(self, channels: Sequence[ChannelStats]) -> str:
        if not channels:
            return self._("No channels yet: <code>/link new &lt;name&gt;</code> makes one.")
        lines = [self._("<b>Channels (渠道)</b>")]
        for c in channels:
            lines.append(
                self._(
                    "<b>{name}</b> · {joins} joined · {confirmed} confirmed · {orders} first "
                    "orders\n{url}",
                    name=_esc(c.name), joins=c.joins, confirmed=c.confirmed,
                    orders=c.first_orders, url=c.url,
                )
            )  # fmt: skip
        return "\n".join(lines)
