"""Referral texts: links, counts, rejections, notices, the program and the report."""

from __future__ import annotations

import html

from campaigns.errors import InvalidSetting
from campaigns.referral import (
    InviteCounts,
    InviteStatus,
    ReferralProgram,
    RejectReason,
    Source,
    Tier,
)
from campaigns.services.invite_links import InviteCard, NotInAnyGroup, Visit, VisitOutcome
from campaigns.services.referral import Notice
from campaigns.services.referral_reports import InviteSummary, Report
from handlers.words import Words


class ReferralTexts:
    """Texts for the referral commands and notices, in one language."""

    def __init__(self, language: str) -> None:
        self.words = Words(language)
        self.language, self._, self._n = language, self.words._, self.words._n

    def title(self, title: str | None) -> str:
        return f"<b>{html.escape(title or '-', quote=False)}</b>"

    def hours(self, n: int) -> str:
        return self._n("{n} hour", "{n} hours", n)

    def reward(self, tier: Tier) -> str:
        parts = [
            self.words.points(r.amount) for r in tier.rewards if r.kind == "points" and r.amount
        ]
        parts += [
            self._("the title «{title}»", title=html.escape(r.title or "", quote=False))
            for r in tier.rewards
            if r.kind == "title"
        ]
        parts += [self._("a coupon") for r in tier.rewards if r.kind == "coupon"]
        return self._(" and ").join(parts)

    def counts(self, counts: InviteCounts) -> str:
        return self._(
            "✅ confirmed {c} · ⏳ pending {p} · 🚪 left {l} · ❌ not counted {r}",
            c=counts.confirmed,
            p=counts.pending,
            l=counts.left,
            r=counts.rejected,
        )

    def progress(self, confirmed: int, tier: Tier | None) -> str:
        if tier is None:
            return self._("🏅 Every reward tier reached. Thank you!")
        return self._(
            "🎁 Next: {n} confirmed invites → {reward} ({have}/{n})",
            n=tier.invites,
            reward=self.reward(tier),
            have=confirmed,
        )

    def how_it_counts(self, hold_hours: int, activity: bool) -> str:
        if hold_hours == 0 and not activity:
            return self._("A friend counts as soon as they join.")
        if hold_hours == 0:
            return self._("A friend counts once they say something or check in.")
        if not activity:
            return self._(
                "A friend counts if they are still here after {hold}.", hold=self.hours(hold_hours)
            )
        return self._(
            "A friend counts if they are still here after {hold} and have said something or "
            "checked in.",
            hold=self.hours(hold_hours),
        )

    # -- /invite -------------------------------------------------------------------------------

    def card(self, display_name: str, card: InviteCard, deep_link: str) -> str:
        assert card.link is not None
        return "\n".join(
            [
                self._(
                    "🔗 {name}, your personal invite link for {title}:",
                    name=self.words.name(display_name),
                    title=self.title(card.chat_title),
                ),
                html.escape(card.link.url),
                self._("Or share this bot link: {link}", link=html.escape(deep_link)),
                self.how_it_counts(card.program.hold_hours, card.program.require_activity),
                self.counts(card.counts),
                self.progress(card.counts.confirmed, card.next_tier),
            ]
        )

    def card_line(self, display_name: str, card: InviteCard) -> str:
        """A member's link as one line among many answers to /invite in a busy group."""
        assert card.link is not None
        return self._(
            "🔗 {name}: {link} · {confirmed} confirmed",
            name=self.words.name(display_name),
            link=html.escape(card.link.url),
            confirmed=card.counts.confirmed,
        )

    def no_invite_right(self, title: str | None) -> str:
        return self._(
            "⚠️ I cannot create invite links in {title} yet. An admin needs to make me an "
            "admin with the “Invite users via link” right, then try /invite again.",
            title=self.title(title),
        )

    def no_invite_right_admins(self, name: str) -> str:
        return self._(
            "⚠️ Admins: {name} asked for an invite link, but I lack the “Invite users via link” "
            "admin right here. Please grant it so members can invite friends.",
            name=self.words.name(name),
        )

    def choose_group(self) -> str:
        return self._("Which group? Tap one:")

    def no_groups(self) -> str:
        return self._(
            "You are not in any group I manage yet. Join one, then send /invite there or here."
        )

    def revoked(self, display_name: str) -> str:
        return self._(
            "🔁 The invite link of {name} was revoked. A new one comes with /invite.",
            name=self.words.name(display_name),
        )

    def no_link_to_revoke(self, display_name: str) -> str:
        return self._("{name} has no invite link to revoke.", name=self.words.name(display_name))

    def revoke_usage(self) -> str:
        return self._(
            "Usage: reply to the member's message with <code>/invite revoke</code>, "
            "or send <code>/invite revoke &lt;user id&gt;</code>."
        )

    # -- deep links and join requests ----------------------------------------------------------

    def visit(self, visit: Visit) -> str:
        if visit.outcome is VisitOutcome.UNKNOWN:
            return self._("This invite is not valid any more. Ask your friend for a new link.")
        title = self.title(visit.chat_title)
        if visit.outcome is VisitOutcome.OWN:
            return self._(
                "This is your own invite link for {title}. Share it with friends! 😊", title=title
            )
        if visit.outcome is VisitOutcome.MEMBER:
            return self._("You are already in {title}. 😊", title=title)
        return "\n".join(
            [
                self._(
                    "👋 {name} invited you to {title}! Tap to join:",
                    name=self.words.name(visit.inviter_name),
                    title=title,
                ),
                html.escape(visit.link.url if visit.link else ""),
                self._("The link works once, for 24 hours."),
            ]
        )

    def visit_failed(self) -> str:
        return self._("Sorry, I cannot make a join link right now. Please try again later.")

    def request_approved(self, title: str | None, inviter: str) -> str:
        return self._(
            "👋 Welcome! Your request to join {title} is approved. {name} invited you.",
            title=self.title(title),
            name=self.words.name(inviter),
        )

    # -- /invites and the leaderboard ----------------------------------------------------------

    def reason(self, reason: RejectReason) -> str:
        return {
            RejectReason.SELF_INVITE: self._("used their own link"),
            RejectReason.ALREADY_MEMBER: self._("was already in the group"),
            RejectReason.REJOIN: self._("had been in the group before"),
            RejectReason.BOT: self._("is a bot"),
            RejectReason.BURST: self._("came in a burst of too many joins within 10 minutes"),
            RejectReason.QUALITY: self._("did not pass the quality check"),
        }[reason]

    def summary(self, s: InviteSummary) -> str:
        lines = [
            self._("📊 Your invites in {title}", title=self.title(s.chat_title)),
            self.counts(s.counts),
            self.progress(s.counts.confirmed, s.next_tier),
        ]
        if s.counts.pending:
            lines.append(self.how_it_counts(s.hold_hours, s.require_activity))
        if s.rejected:
            lines.append(self._("Why some did not count:"))
            lines += [
                self._("• {name}: {reason}", name=self.words.name(name), reason=self.reason(reason))
                for name, reason, _ in s.rejected
            ]
        if not any((s.counts.confirmed, s.counts.pending, s.counts.left, s.counts.rejected)):
            lines.append(self._("No invites yet. Get your link with /invite."))
        return "\n".join(lines)

    # -- notices -------------------------------------------------------------------------------

    def confirmed_notice(self, n: Notice) -> str:
        if len(n.invitees) == 1:
            first = self._(
                "🎉 {friend} joined {title} through you and now counts! Confirmed invites: {c}.",
                friend=self.words.name(n.invitees[0]),
                title=self.title(n.chat_title),
                c=n.confirmed,
            )
        else:
            first = self._n(
                "🎉 {n} friend you invited to {title} now counts: {friends}. "
                "Confirmed invites: {c}.",
                "🎉 {n} friends you invited to {title} now count: {friends}. "
                "Confirmed invites: {c}.",
                len(n.invitees),
                title=self.title(n.chat_title),
                friends=self._(", ").join(self.words.name(name) for name in n.invitees[:10]),
                c=n.confirmed,
            )
        return "\n".join([first, self.progress(n.confirmed, n.next_tier)])

    def tier_notice(self, n: Notice) -> str:
        assert n.tier is not None
        return self._(
            "🏆 You reached {n} confirmed invites in {title} and earned {reward}!",
            n=n.tier.invites,
            title=self.title(n.chat_title),
            reward=self.reward(n.tier),
        )

    def tier_announcement(self, n: Notice) -> str:
        assert n.tier is not None
        return self._(
            "🏆 {name} has brought {n} friends to the group and earned {reward}! "
            "Get your own link: /invite",
            name=self.words.name(n.inviter.display_name),
            n=n.tier.invites,
            reward=self.reward(n.tier),
        )

    # -- /referral -----------------------------------------------------------------------------

    def program(self, title: str | None, p: ReferralProgram) -> str:
        lines = [
            self._("🤝 Referral program of {title}", title=self.title(title)),
            self.how_it_counts(p.hold_hours, p.require_activity),
        ]
        if p.tiers:
            lines.append(self._("Rewards:"))
            lines += [
                self._("• {n} confirmed invites → {reward}", n=t.invites, reward=self.reward(t))
                for t in p.tiers
            ]
        else:
            lines.append(self._("No reward tiers are set."))
        lines.append(self._("Get your personal link with /invite, see your numbers with /invites."))
        lines.append(
            self._(
                "Settings (admins): {pairs}",
                pairs=", ".join(f"<code>{k}={html.escape(v)}</code>" for k, v in p.as_pairs()),
            )
        )
        lines.append(
            self._(
                "Change one with <code>/referral set &lt;key&gt; &lt;value&gt;</code>; "
                "numbers with <code>/referral report [days]</code>."
            )
        )
        return "\n".join(lines)

    def program_changed(self, key: str, p: ReferralProgram) -> str:
        value = dict(p.as_pairs())[key.lower()]
        return self._(
            "✅ {key} is now {value}.",
            key=f"<code>{html.escape(key.lower())}</code>",
            value=f"<code>{html.escape(value)}</code>",
        )

    def refusal(self, error: Exception) -> str | None:
        match error:
            case InvalidSetting():  # only /referral set changes settings here
                return self.invalid_program_setting(error)
            case NotInAnyGroup():
                return self.no_groups()
        return self.words.refusal(error)

    def invalid_program_setting(self, err: InvalidSetting) -> str:
        reasons = {
            "not_a_number": self._("it must be a whole number"),
            "out_of_range": self._("the value is out of range"),
            "missing_value": self._("a value is missing"),
            "not_on_off": self._("use on or off"),
            "bad_format": self._("the format is invites:points[:title], separated by commas"),
            "empty_tier": self._("a tier needs points or a title"),
        }
        key, example = html.escape(err.key), html.escape(err.example)
        if err.reason == "unknown_key":
            return self._(
                "❌ Unknown referral setting <code>{key}</code>. Settings: {keys}",
                key=key,
                keys=example,
            )
        return self._(
            "❌ Cannot set <code>{key}</code>: {reason}. Example: "
            "<code>/referral set {key} {example}</code>",
            key=key,
            reason=reasons.get(err.reason, err.reason),
            example=example,
        )

    def referral_usage(self) -> str:
        return self._(
            "Usage: <code>/referral</code>, <code>/referral set &lt;key&gt; &lt;value&gt;</code> "
            "or <code>/referral report [days]</code>."
        )

    def source(self, source: str) -> str:
        return {
            Source.MEMBER_LINK: self._("member links"),
            Source.DEEP_LINK: self._("shared bot links"),
            Source.JOIN_REQUEST: self._("join requests"),
            Source.OTHER_LINK: self._("other links"),
            Source.ORGANIC: self._("no link"),
        }.get(Source(source), source)

    def report(self, r: Report) -> str:
        n = r.numbers
        by_source = self._(", ").join(
            f"{self.source(s)} {n.joins_by_source.get(s, 0)}"
            for s in Source
            if s in n.joins_by_source
        )
        pending = n.status_of_attributed.get(InviteStatus.PENDING, 0)
        lines = [
            self._(
                "📈 Referral report for {title}, last {days} days",
                title=self.title(r.chat_title),
                days=r.days,
            ),
            self._(
                "Joins: {n} ({sources}); new members: {new}",
                n=n.joins,
                sources=by_source or "-",
                new=n.new_members,
            ),
            self._("Referral share of new members: {share}", share=f"{n.referral_share:.0%}"),
            self._(
                "Confirmation rate: {rate} ({confirmed} confirmed, {left} left, {rejected} not "
                "counted; {pending} still pending)",
                rate=f"{n.confirmation_rate:.0%}",
                confirmed=n.confirmed,
                left=n.status_of_attributed.get(InviteStatus.LEFT, 0),
                rejected=n.status_of_attributed.get(InviteStatus.REJECTED, 0),
                pending=pending,
            ),
            self._n(
                "Estimated K-factor: {k} ({confirmed} confirmed referrals ÷ {n} member at the "
                "start)",
                "Estimated K-factor: {k} ({confirmed} confirmed referrals ÷ {n} members at the "
                "start)",
                n.members_at_start,
                k=f"{n.k_factor:.2f}",
                confirmed=n.confirmed,
            )
            if n.members_at_start
            else self._("Estimated K-factor: n/a (the group had no members at the start)"),
        ]
        if r.top:
            lines.append(self._("Top inviters:"))
            lines += [
                f"{i}. {self.words.name(line.display_name)} — {line.value}"
                for i, line in enumerate(r.top, 1)
            ]
        return "\n".join(lines)
