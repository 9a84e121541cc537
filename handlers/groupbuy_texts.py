"""Group-buy texts: the deal post, a team's card, refusals and notices."""

from __future__ import annotations

import datetime as dt
import html

from campaigns.coupons import format_amount
from campaigns.groupbuys import (
    DealField,
    DealInputError,
    GroupBuyRefused,
    GroupBuyUsage,
    Refusal,
    TeamStatus,
)
from campaigns.ports.groupbuys import DealRecord
from campaigns.services.groupbuys import DealLine, TeamView
from handlers.words import Words

CAPTION_DESCRIPTION = 300  # leaves room for the rest within a caption's 1024 characters


class GroupBuyTexts:
    """Texts for group-buys, in one language."""

    def __init__(self, language: str) -> None:
        self.words = Words(language)
        self.language, self._, self._n = language, self.words._, self.words._n

    def money(self, minor: int, deal: DealRecord) -> str:
        return format_amount(minor, deal.deal.currency)

    def deal_post(self, d: DealRecord, now: dt.datetime) -> str:
        """The post's text; as a photo's caption (1024 characters) the description is cut."""
        deal = d.deal
        lines = [
            self._("🛒 Group-buy: {title}", title=f"<b>{html.escape(deal.title, quote=False)}</b>"),
            self._(
                "{size} people pay {group} each instead of {price}.",
                size=deal.size,
                group=f"<b>{self.money(deal.group_price, d)}</b>",
                price=self.money(deal.price, d),
            ),
            self._(
                "A team has {minutes} minutes to fill up; the deal ends in {left}.",
                minutes=deal.team_minutes,
                left=self.words.wait(deal.ends_at, now),
            ),
        ]
        if d.description:
            limit = CAPTION_DESCRIPTION if d.photo_name else len(d.description)
            cut = d.description if len(d.description) <= limit else d.description[: limit - 1] + "…"
            lines.insert(1, html.escape(cut, quote=False))
        if deal.stock is not None:
            lines.append(self._("{n} left.", n=max(deal.stock - d.taken, 0)))
        lines.append(self._("Start a team below, or join one that is already open."))
        return "\n".join(lines)

    def deal_progress(self, counts: dict[TeamStatus, int]) -> str:
        return self._(
            "👥 Open teams: {open} · ✅ complete: {done}",
            open=counts.get(TeamStatus.OPEN, 0),
            done=counts.get(TeamStatus.COMPLETE, 0),
        )

    def deal_ended(self, d: DealRecord, counts: dict[TeamStatus, int]) -> str:
        return self._(
            "⏹ The group-buy {title} has ended: {done} teams completed. Thank you!",
            title=f"<b>{html.escape(d.deal.title, quote=False)}</b>",
            done=counts.get(TeamStatus.COMPLETE, 0),
        )

    def start_button(self) -> str:
        return self._("🚀 Start a team")

    def join_button(self) -> str:
        return self._("➕ Join")

    def join_any_button(self) -> str:
        return self._("➕ Join an open team")

    def leave_button(self) -> str:
        return self._("Leave")

    def share_button(self) -> str:
        return self._("🔗 Invite friends to this team")

    def team_card(self, v: TeamView, now: dt.datetime) -> str:
        names = self._(", ").join(self.words.name(m.display_name) for m in v.members) or "-"
        title = f"<b>{html.escape(v.deal.deal.title, quote=False)}</b>"
        head = {
            TeamStatus.OPEN: self._(
                "👥 Team for {title}: {n}/{size}, {left} left. Join to pay {group}!",
                title=title,
                n=v.team.members,
                size=v.team.size,
                left=self.words.wait(v.team.expires_at, now),
                group=self.money(v.deal.deal.group_price, v.deal),
            ),
            TeamStatus.COMPLETE: self._(
                "✅ Team for {title} is complete! Everyone got a coupon for the group price "
                "(see /mycoupons in a private chat with me).",
                title=title,
            ),
            TeamStatus.EXPIRED: self._(
                "⌛ The team for {title} did not fill up in time. Nothing is owed.", title=title
            ),
            TeamStatus.DISBANDED: self._(
                "👋 The team for {title} was disbanded: everyone left. Nothing is owed.",
                title=title,
            ),
        }[v.team.status]
        return "\n".join([head, self._("Members: {names}", names=names)])

    def refusal(self, error: Exception) -> str | None:
        """Group-buy refusals as the decorator answers them; a deal id an admin typed that is
        not the group's is named back."""
        match error:
            case GroupBuyRefused():
                return self.refused(error.reason, error.deal_id)
            case DealInputError():
                return self.deal_input_refused(error.field)
            case GroupBuyUsage():
                return self.groupbuy_usage()
        return self.words.refusal(error)

    def refused(self, reason: Refusal, deal_id: int | None = None) -> str:
        if reason is Refusal.UNKNOWN and deal_id is not None:
            return self._(
                "There is no group-buy #{id} in this group. /groupbuy list shows its deals.",
                id=deal_id,
            )
        return {
            Refusal.ENDED: self._("This group-buy has ended."),
            Refusal.SOLD_OUT: self._("Sold out, sorry!"),
            Refusal.FULL: self._("This team is full. Start a new one!"),
            Refusal.CLOSED: self._("This team is closed. Start a new one!"),
            Refusal.IN_A_TEAM: self._("You are already in a team for this deal."),
            Refusal.NOT_IN_TEAM: self._("You are not in this team."),
            Refusal.NO_OPEN_TEAM: self._("No team is open right now: start one!"),
            Refusal.UNKNOWN: self._("This group-buy is not available."),
        }[reason]

    def joined(self, v: TeamView) -> str:
        return self._("You are in! {n}/{size}", n=v.team.members, size=v.team.size)

    def left_team(self) -> str:
        return self._("You left the team.")

    def completed_dm(self, v: TeamView, code: str) -> str:
        return self._(
            "✅ Your team for {title} is complete! Your coupon: {code}. It takes {off} off "
            "{price}, so you pay {group}.",
            title=f"<b>{html.escape(v.deal.deal.title, quote=False)}</b>",
            code=f"<code>{code}</code>",
            off=self.money(v.deal.deal.saving, v.deal),
            price=self.money(v.deal.deal.price, v.deal),
            group=self.money(v.deal.deal.group_price, v.deal),
        )

    def expired_dm(self, v: TeamView) -> str:
        return self._(
            "⌛ Your team for {title} did not fill up in time. Nothing is owed; you can start "
            "a new team.",
            title=f"<b>{html.escape(v.deal.deal.title, quote=False)}</b>",
        )

    def groupbuy_usage(self) -> str:
        usage = self._(
            "Usage (admins): <code>/groupbuy new &lt;team size&gt; &lt;price&gt; &lt;group "
            "price&gt; &lt;minutes per team&gt; &lt;hours until the end&gt; &lt;title&gt;</code>, "
            "e.g. <code>/groupbuy new 3 32 19.9 120 48 Mango sago</code> (size 2–50, group "
            "price below the price); or <code>/groupbuy post &lt;deal id&gt;</code>."
        )
        more = self._(
            "Also: <code>/groupbuy list</code>, <code>/groupbuy end &lt;deal id&gt;</code>."
        )
        return f"{usage}\n{more}"

    def deal_input_refused(self, field: DealField) -> str:
        """The wrong argument of /groupbuy new, its allowed form and an example."""
        detail = {
            DealField.ARGUMENTS: self._("it needs six parts: size, price, group price, "
                                        "minutes per team, hours, title"),
            DealField.SIZE: self._("the team size is a whole number from 2 to 50, e.g. 3"),
            DealField.PRICE: self._("the price is an amount above 0, e.g. 32 or 29.90"),
            DealField.GROUP_PRICE: self._(
                "the group price is an amount above 0 and below the price, e.g. 19.9"
            ),
            DealField.MINUTES: self._(
                "minutes per team is a whole number from 1 to 10080 (a week), e.g. 120"
            ),
            DealField.HOURS: self._(
                "hours until the end is a number above 0 (at most a year), e.g. 48"
            ),
            DealField.TITLE: self._("the title is 1 to 128 characters, e.g. Mango sago"),
        }[field]  # fmt: skip
        return (
            self._("❌ Can't create the group-buy: {detail}.", detail=detail)
            + "\n\n"
            + (self.groupbuy_usage())
        )

    def deal_list(self, lines: list[DealLine]) -> str:
        if not lines:
            return self._("No group-buys yet. /groupbuy new creates one.")
        out = [self._("🛒 Group-buys:")]
        for line in lines:
            d = line.deal
            stock = (
                self._("stock {left}/{total}", left=d.deal.stock - d.taken, total=d.deal.stock)
                if d.deal.stock is not None
                else self._("no stock limit")
            )
            out.append(
                self._(
                    "#{id} {title} · {state} · teams: {open} open, {done} complete, "
                    "{expired} expired · {stock}",
                    id=d.id,
                    title=html.escape(d.deal.title, quote=False),
                    state=self._("🟢 live") if line.live else self._("⏹ ended"),
                    open=line.teams.get(TeamStatus.OPEN, 0),
                    done=line.teams.get(TeamStatus.COMPLETE, 0),
                    expired=line.teams.get(TeamStatus.EXPIRED, 0),
                    stock=stock,
                )
            )
        return "\n".join(out)

    def deal_ended_early(self, d: DealRecord) -> str:
        return self._(
            "⏹ Group-buy #{id} {title} has ended: no new teams or joins; its post is marked "
            "ended shortly.",
            id=d.id,
            title=html.escape(d.deal.title, quote=False),
        )
