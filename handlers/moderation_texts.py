"""What order keeping says: the group's short notices, the member's private note, /warn,
/warns, /unwarn, /modlog and its undo, and the admins' note about a missing right."""

from __future__ import annotations

import datetime as dt
import html
from zoneinfo import ZoneInfo

from campaigns.moderation import (
    ActionKind,
    AdminTarget,
    CannotModerate,
    MissingRight,
    ModRight,
    NotAMemberTarget,
    NothingToUndo,
    Refusal,
    Rule,
)
from campaigns.ports.moderation import ModAction
from campaigns.services.moderation import ModLog, Outcome, Undone, Warnings
from handlers.words import Words

ICONS = {
    ActionKind.DELETED: "🗑",
    ActionKind.WARNED: "⚠️",
    ActionKind.MUTED: "🔇",
    ActionKind.BANNED: "⛔",
    ActionKind.UNMUTED: "🔈",
    ActionKind.UNBANNED: "🚪",
    ActionKind.UNWARNED: "↩️",
}
REASON_SHOWN = 100  # characters of an admin's reason in a log line


def local(at: dt.datetime, timezone: str) -> str:
    """`2026-11-30 18:05` in the group's timezone."""
    return at.astimezone(ZoneInfo(timezone)).strftime("%Y-%m-%d %H:%M")


class ModerationTexts:
    """Order-keeping texts in one language."""

    def __init__(self, language: str) -> None:
        self.words = Words(language)
        self.language, self._, self._n = language, self.words._, self.words._n

    def refusal(self, error: Exception) -> str | None:
        match error:
            case AdminTarget():
                return self._("🙏 Admins are never warned, muted or banned by me.")
            case NotAMemberTarget():
                return self.target_usage()
            case NothingToUndo():
                return self.nothing_to_undo(error.kind)
            case MissingRight():
                return self._(
                    "⚠️ Telegram refused: I need the admin right “{right}”. Please grant it "
                    "to me in the group's admin settings.",
                    right=self.right_name(error.right),
                )
            case CannotModerate():
                return self.cannot(error.reason)
        return self.words.refusal(error)

    # ---- names ----------------------------------------------------------------------------

    def rule(self, rule: Rule) -> str:
        return {
            Rule.LINK: self._("a link from a new member"),
            Rule.FORWARD: self._("a forward from a channel"),
            Rule.BOT: self._("a mention of a bot"),
            Rule.STOP_WORD: self._("a word this group does not allow"),
            Rule.REPEAT: self._("the same message again and again"),
            Rule.MEDIA: self._("media without text from a new member"),
            Rule.FLOOD: self._("too many messages at once"),
            Rule.CAPTCHA: self._("the join captcha was not answered"),
            Rule.RAID: self._("raid mode"),
            Rule.WARN_LIMIT: self._("too many warnings"),
            Rule.ADMIN: self._("by an admin"),
            Rule.UNDO: self._("undone by an admin"),
        }[rule]

    def right_name(self, right: ModRight) -> str:
        """The right as Telegram's apps name it in the admin settings."""
        return {
            ModRight.DELETE: self._("Delete messages"),
            ModRight.RESTRICT: self._("Ban users"),
            ModRight.INVITE: self._("Invite users via link"),
        }[right]

    def kind(self, kind: ActionKind) -> str:
        return {
            ActionKind.DELETED: self._("message deleted"),
            ActionKind.WARNED: self._("warned"),
            ActionKind.MUTED: self._("muted"),
            ActionKind.BANNED: self._("banned"),
            ActionKind.UNMUTED: self._("unmuted"),
            ActionKind.UNBANNED: self._("unbanned"),
            ActionKind.UNWARNED: self._("warning taken back"),
        }[kind]

    def cannot(self, reason: Refusal) -> str:
        return {
            Refusal.ADMIN: self._("🙏 Admins are never warned, muted or banned by me."),
            Refusal.NOT_SUPERGROUP: self._(
                "Telegram mutes members only in supergroups: make this group a supergroup "
                "(e.g. make its history visible to new members) and try again."
            ),
            Refusal.GONE: self._("That message is gone already."),
            Refusal.ERROR: self._("Telegram did not answer as expected. Please try again later."),
        }[reason]

    # ---- what members see ------------------------------------------------------------------

    def _consequence(self, o: Outcome) -> list[str]:
        out = []
        if o.warnings is not None:
            out.append(self._("Warning {n}/{limit}.", n=o.warnings, limit=o.rules.warn_limit))
        if o.banned:
            out.append(self._("⛔ Banned after {limit} warnings.", limit=o.rules.warn_limit))
        elif o.muted and o.muted_until is not None:
            out.append(self._("🔇 Muted until {until}.", until=local(o.muted_until, o.timezone)))
        elif o.muted:
            out.append(self._("🔇 Muted."))
        return out

    def group_notice(self, o: Outcome) -> str:
        """The short line the group sees after anti-spam or flood control acted."""
        name = self.words.name(o.member.display_name)
        if o.deleted:
            head = self._("🧹 {name}: message removed ({rule}).", name=name, rule=self.rule(o.rule))
        else:
            head = self._("🧹 {name}: {rule}.", name=name, rule=self.rule(o.rule))
        return self._sentences([head, *self._consequence(o)])

    def _sentences(self, parts: list[str]) -> str:
        """Sentences on one line: Chinese runs them together, English puts a space."""
        return ("" if self.language == "zh" else " ").join(parts)

    def private_notice(self, o: Outcome) -> str:
        """The member's private note: what happened in which group, and why."""
        group = html.escape(o.title or "", quote=False)
        if o.rule is Rule.ADMIN:
            head = self._("⚠️ An admin of <b>{group}</b> warned you.", group=group)
        elif o.deleted:
            head = self._(
                "🧹 Your message in <b>{group}</b> was removed: {rule}.",
                group=group, rule=self.rule(o.rule),
            )  # fmt: skip
        else:
            head = self._("🧹 In <b>{group}</b>: {rule}.", group=group, rule=self.rule(o.rule))
        lines = [head]
        if o.reason:
            lines.append(self._("Reason: {reason}", reason=html.escape(o.reason, quote=False)))
        lines += self._consequence(o)
        if o.warnings is not None:
            lines.append(
                self._n(
                    "Warnings expire after {n} day. At {limit} warnings you are {action}.",
                    "Warnings expire after {n} days. At {limit} warnings you are {action}.",
                    o.rules.warn_expiry_days,
                    limit=o.rules.warn_limit,
                    action=self.limit_action(o),
                )
            )
        return "\n".join(lines)

    def limit_action(self, o: Outcome) -> str:
        if str(o.rules.warn_action) == "ban":
            return self._("banned")
        return self._("muted for {hours} h", hours=o.rules.warn_mute_hours)

    def warned(self, o: Outcome) -> str:
        """/warn's answer in the group."""
        lines = [
            self._(
                "⚠️ {name} has been warned ({n}/{limit}).",
                name=self.words.name(o.member.display_name),
                n=o.warnings or 0,
                limit=o.rules.warn_limit,
            )
        ]
        if o.reason:
            lines.append(self._("Reason: {reason}", reason=html.escape(o.reason, quote=False)))
        lines += self._consequence(o)[1:]
        return "\n".join(lines)

    def target_usage(self) -> str:
        return self._(
            "Reply to the member's message with <code>/warn [reason]</code>, "
            "<code>/warns</code> or <code>/unwarn</code>."
        )

    def warnings(self, w: Warnings) -> str:
        """/warns: the member's warnings that still count."""
        name = self.words.name(w.member)
        if not w.warnings:
            return self._("✅ {name} has no warnings.", name=name)
        lines = [
            self._(
                "⚠️ {name} has {n} of {limit} warnings:",
                name=name,
                n=len(w.warnings),
                limit=w.rules.warn_limit,
            )
        ]
        for a in w.warnings:
            expires = a.at + dt.timedelta(days=w.rules.warn_expiry_days)
            why = html.escape(a.reason, quote=False) if a.reason else self.rule(a.rule)
            lines.append(
                self._(
                    "• {day}: {why} (expires {expires})",
                    day=local(a.at, w.timezone),
                    why=why,
                    expires=local(expires, w.timezone),
                )
            )
        return "\n".join(lines)

    def unwarned(self, w: Warnings) -> str:
        return self._(
            "↩️ A warning of {name} was taken back: {n}/{limit} now.",
            name=self.words.name(w.member), n=len(w.warnings), limit=w.rules.warn_limit,
        )  # fmt: skip

    def others_warnings(self) -> str:
        return self._("🙏 Only admins can see another member's warnings. Send /warns for yours.")

    # ---- the admins' side ------------------------------------------------------------------

    def missing_right(self, title: str | None, right: ModRight) -> str:
        """Telegram refused a moderation call for a missing right: which one to grant."""
        what = {
            ModRight.DELETE: self._("delete spam"),
            ModRight.RESTRICT: self._("mute or ban members"),
            ModRight.INVITE: self._("approve or decline join requests"),
        }[right]
        return self._(
            "⚠️ In <b>{group}</b> I could not {what}: Telegram says I lack the admin right "
            "“{right}”. Please grant it: group settings → Administrators → me → {right}.",
            group=html.escape(title or "", quote=False),
            what=what,
            right=self.right_name(right),
        )

    def mod_log(self, log: ModLog) -> str:
        """/modlog: the totals of 30 days, then the latest actions, newest first."""
        c = log.counts
        lines = [
            self._("🛡 Mod log of <b>{group}</b>", group=html.escape(log.title or "", quote=False)),
            self._(
                "Last 30 days — messages removed: {deleted}, warnings: {warned}, mutes: "
                "{muted}, bans: {banned}.",
                deleted=c.get(ActionKind.DELETED, 0),
                warned=c.get(ActionKind.WARNED, 0),
                muted=c.get(ActionKind.MUTED, 0),
                banned=c.get(ActionKind.BANNED, 0),
            ),
            "",
        ]
        if not log.actions:
            lines.append(self._("Nothing has been done yet."))
            return "\n".join(lines)
        lines += [self.log_line(a, log.timezone) for a in log.actions]
        lines += ["", self._("↩️ undoes a mute, a ban or a warning; a deleted message can't be "
                             "brought back.")]  # fmt: skip
        return "\n".join(lines)

    def log_line(self, a: ModAction, timezone: str) -> str:
        why = self.rule(a.rule)
        if a.kind is ActionKind.MUTED and a.rule in {Rule.CAPTCHA, Rule.RAID}:
            why = (
                self._("until the join captcha is answered")
                if a.rule is Rule.CAPTCHA
                else self._("held in raid mode until an admin lets them in")
            )
        if a.reason:
            why = self.words.colon(why, html.escape(a.reason[:REASON_SHOWN], quote=False))
        line = f"#{a.id} {local(a.at, timezone)} {ICONS[a.kind]} " + self._(
            "{name} {kind} ({why})",
            name=self.words.name(a.display_name), kind=self.kind(a.kind), why=why,
        )  # fmt: skip
        if a.failed is not None:
            line += " " + self._("— not done: {why}", why=self.failure(a.failed))
        elif a.undone_at is not None:
            line += " " + self._("— undone")
        return line

    def failure(self, failed: str) -> str:
        if failed in set(ModRight):
            return self._("the bot lacks “{right}”", right=self.right_name(ModRight(failed)))
        if failed == Refusal.GONE:
            return self._("already gone")
        if failed == Refusal.ADMIN:
            return self._("an admin")
        return self._("Telegram refused")

    def undo_button(self, a: ModAction) -> str:
        return f"↩️ #{a.id} {self.kind(a.kind)} · {a.display_name}"[:60]

    def sent_privately(self) -> str:
        return self._("📬 I sent you the mod log in a private chat.")

    def undone(self, u: Undone) -> str:
        name = html.escape(u.action.display_name, quote=False)
        return {
            ActionKind.UNMUTED: self._("🔈 {name} can write again.", name=name),
            ActionKind.UNBANNED: self._(
                "🚪 {name} is no longer banned and may join again.", name=name
            ),
            ActionKind.UNWARNED: self._("↩️ The warning of {name} was taken back.", name=name),
        }[u.kind]

    def nothing_to_undo(self, kind: ActionKind | None) -> str:
        if kind is ActionKind.DELETED:
            return self._("A deleted message can't be brought back.")
        if kind is ActionKind.WARNED:
            return self._("There is no warning to take back.")
        return self._("This was undone already, or there is nothing to undo.")
