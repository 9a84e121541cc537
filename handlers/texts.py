"""Every user-facing sentence, in English source form; zh comes from locales/zh.

Names and titles from users are escaped here, because replies use HTML parse mode.
"""

from __future__ import annotations

import datetime as dt
import html

from campaigns.access import AccessDenied, Denied
from campaigns.checkin import CheckinAward
from campaigns.errors import AlreadyCheckedIn, InvalidSetting, UnknownChat
from campaigns.members import GONE_STATUSES, BotRight, Leaderboard, Ranked
from campaigns.services.chats import GroupGone, NoLongerAdmin
from campaigns.services.checkin import CheckinResult
from campaigns.services.profile import Profile
from campaigns.settings import ChatSettings
from handlers.i18n import translator

MEMBER_COMMANDS = ("checkin", "me", "top", "invite", "invites", "referral", "help")
ADMIN_COMMANDS = ("settings", "set", "redeem", "coupon", "groupbuy", "schedule", "posts", "post",
                  "sequence", "broadcast")  # fmt: skip
COMMANDS = {
    "private": ("start", "invite", "invites", "mycoupons", "manage", "help"),
    "group": MEMBER_COMMANDS,
    "admins": MEMBER_COMMANDS[:-1] + ADMIN_COMMANDS + ("help",),
}


class T:
    """Texts in one language."""

    def __init__(self, language: str) -> None:
        self.language = language
        self._t = translator(language)

    def _(self, message: str, **values: object) -> str:
        return self._t.gettext(message).format(**values)

    def _n(self, singular: str, plural: str, n: int, **values: object) -> str:
        return self._t.ngettext(singular, plural, n).format(n=n, **values)

    # -- shared pieces -------------------------------------------------------------------------

    @staticmethod
    def name(display_name: str) -> str:
        """A member's name, safe inside HTML."""
        return f"<b>{html.escape(display_name, quote=False)}</b>"

    def points(self, n: int) -> str:
        return self._n("{n} point", "{n} points", n)

    def days(self, n: int) -> str:
        return self._n("{n} day", "{n} days", n)

    def wait(self, until: dt.datetime, now: dt.datetime) -> str:
        minutes = max(int((until - now).total_seconds() // 60), 1)
        hours, minutes = divmod(minutes, 60)
        if hours:
            return self._("{h}h {m}m", h=hours, m=minutes)
        return self._("{m}m", m=minutes)

    # -- check-in ------------------------------------------------------------------------------

    def _breakdown(self, award: CheckinAward) -> str:
        parts = [self._("+{n} check-in", n=award.base_points)]
        if award.streak_points:
            parts.append(self._("+{n} streak bonus", n=award.streak_points))
        if award.milestone_points:
            parts.append(
                self._(
                    "+{n} for a {days}-day streak 🎉", n=award.milestone_points, days=award.streak
                )
            )
        return ", ".join(parts)

    def checked_in(self, display_name: str, result: CheckinResult) -> str:
        lines = [
            self._(
                "✅ {name} checked in — #{rank} today!",
                name=self.name(display_name),
                rank=result.rank_today,
            ),
            self._("🔥 Streak: {streak}", streak=self.days(result.award.streak)),
            self._(
                "💰 {gained} ({breakdown}) · balance {balance}",
                gained=self.points(result.award.total),
                breakdown=self._breakdown(result.award),
                balance=result.balance,
            ),
        ]
        if result.coupon:
            lines.append(
                self._(
                    "🎟 Streak reward: the coupon “{name}”. "
                    "See /mycoupons in a private chat with me.",
                    name=html.escape(result.coupon, quote=False),
                )
            )
        return "\n".join(lines)

    def already_checked_in(self, display_name: str, err: AlreadyCheckedIn, now: dt.datetime) -> str:
        reset = err.next_reset.strftime("%H:%M")
        return "\n".join(
            [
                self._(
                    "😊 {name}, you have already checked in today.", name=self.name(display_name)
                ),
                self._(
                    "Next check-in opens at {time} ({tz}), in {wait}.",
                    time=reset,
                    tz=html.escape(err.timezone),
                    wait=self.wait(err.next_reset, now),
                ),
                self._(
                    "🔥 Streak: {streak} · balance {balance}",
                    streak=self.days(err.streak),
                    balance=err.balance,
                ),
            ]
        )

    def checkin_in_private(self) -> str:
        return self._("Check-ins happen in your group: send /checkin (or 签到) there.")

    # -- profile and leaderboards --------------------------------------------------------------

    def profile(self, display_name: str, profile: Profile | None) -> str:
        if profile is None:
            return self._(
                "{name}, you have no activity here yet. Send /checkin to start!",
                name=self.name(display_name),
            )
        s = profile.stats
        rank = (
            self._("rank #{rank}", rank=profile.rank.rank) if profile.rank else self._("unranked")
        )
        return "\n".join(
            [
                self._("👤 {name}", name=self.name(s.display_name)),
                self._("💰 Points: {points} ({rank})", points=s.points, rank=rank),
                self._(
                    "🔥 Streak: {streak} · best {best}",
                    streak=self.days(s.streak),
                    best=self.days(s.best_streak),
                ),
                self._("📅 Check-ins: {n} · 💬 messages: {m}", n=s.checkins, m=s.messages),
            ]
            + (
                [self._("🏷 Title: {title}", title=html.escape(s.title, quote=False))]
                if s.title
                else []
            )
        )

    def _line(self, line: Ranked, by: str) -> str:
        medal = {1: "🥇", 2: "🥈", 3: "🥉"}.get(line.rank, f"{line.rank}.")
        value = self.days(line.value) if by == "streak" else self.points(line.value)
        return f"{medal} {self.name(line.display_name)} — {value}"

    def leaderboard(self, board: Leaderboard) -> str:
        title = (
            self._("🔥 Streak leaderboard")
            if board.by == "streak"
            else self._("🏆 Points leaderboard")
        )
        if not board.lines:
            return "\n".join([title, self._("Nobody is on the board yet. Be the first: /checkin")])
        lines = [title, *(self._line(line, board.by) for line in board.lines)]
        if board.me is None:
            lines.append(self._("You are not on this board yet."))
        elif all(line.user_id != board.me.user_id for line in board.lines):
            lines.append(self._("… you: {line}", line=self._line(board.me, board.by)))
        return "\n".join(lines)

    def top_usage(self) -> str:
        return self._("Usage: /top (points), /top streak or /top invites [week|month|all]")

    # -- admin ---------------------------------------------------------------------------------

    def settings(self, title: str | None, settings: ChatSettings) -> str:
        lines = [self._("⚙️ Settings for {title}", title=html.escape(title or "-"))]
        lines += [
            f"<code>{key}</code> = <code>{html.escape(value)}</code>"
            for key, value in settings.as_pairs()
        ]
        lines.append(
            self._(
                "Change one with /set &lt;key&gt; &lt;value&gt;, e.g. "
                "<code>/set timezone Asia/Shanghai</code>"
            )
        )
        return "\n".join(lines)

    def setting_changed(self, key: str, settings: ChatSettings) -> str:
        value = dict(settings.as_pairs())[key.lower()]
        return self._(
            "✅ {key} is now {value}.",
            key=f"<code>{html.escape(key.lower())}</code>",
            value=f"<code>{html.escape(value)}</code>",
        )

    def set_usage(self) -> str:
        return self._(
            "Usage: /set &lt;key&gt; &lt;value&gt;, e.g. "
            "<code>/set milestones 7:5,30:20</code>. See /settings for the keys."
        )

    def invalid_setting(self, err: InvalidSetting) -> str:
        reasons = {
            "unknown_key": self._("unknown setting"),
            "missing_value": self._("a value is missing"),
            "not_a_number": self._("it must be a whole number"),
            "out_of_range": self._("the number is out of range"),
            "unknown_timezone": self._("not an IANA timezone name"),
            "unknown_language": self._("the language must be zh or en"),
            "bad_format": self._("the format is day:points, separated by commas"),
        }
        key = html.escape(err.key)
        example = html.escape(err.example)
        if err.reason == "unknown_key":
            return self._(
                "❌ Unknown setting <code>{key}</code>. Settings: {keys}", key=key, keys=example
            )
        return self._(
            "❌ Cannot set <code>{key}</code>: {reason}. Example: "
            "<code>/set {key} {example}</code>",
            key=key,
            reason=reasons.get(err.reason, err.reason),
            example=example,
        )

    def access_denied(self, denied: AccessDenied) -> str:
        """A refused tap or deep link: said politely, nothing changed."""
        return {
            Denied.NOT_MEMBER: self._(
                "🙏 This is for members of the group. Join the group first, then try again."
            ),
            Denied.NOT_ADMIN: self._("Only the group's admins can do this."),
            Denied.WRONG_MESSAGE: self._(
                "This button doesn't belong here. Use the button on the bot's own post."
            ),
            Denied.ADMIN_COMMAND: self.admins_only(),
            Denied.GROUP_ONLY: self.group_only(),
            Denied.PICK_A_GROUP: self.pick_a_group(),
        }[denied.reason]

    def refusal(self, error: Exception) -> str | None:
        """The words for a refusal every feature shares; None for an error that is not one
        (feature texts extend this with their own refusals)."""
        match error:
            case UnknownChat():
                return self.not_registered()
            case AccessDenied():
                return self.access_denied(error)
            case NoLongerAdmin():
                return self.no_longer_admin(error.title)
            case GroupGone():
                return self.group_gone()
            case InvalidSetting():
                return self.invalid_setting(error)
        return None

    def bot_setup(self, chat_id: int, missing: list[BotRight]) -> str:
        """Said in the group when the bot is added or its rights change."""
        why = {
            BotRight.ADMIN: self._("make me an admin (I only see joins and leaves as an admin)"),
            BotRight.INVITE: self._("let me invite users via link (personal invite links)"),
            BotRight.PIN: self._("let me pin messages (pinned scheduled posts)"),
            BotRight.DELETE: self._("let me delete messages (posts that replace the last one)"),
        }
        lines = [
            self._("👋 Ready. This group's chat id is <code>{id}</code> (for the command line).",
                   id=chat_id),
        ]  # fmt: skip
        if missing:
            lines.append(self._("Still to do, for every feature to work:"))
            lines += [f"• {why[right]}" for right in missing]
        else:
            lines.append(self._("✅ I have every right I need."))
        lines.append(self._("Admins: /settings to configure me; /help lists what I can do."))
        return "\n".join(lines)

    def bot_lost(self, title: str | None, status: str) -> str:
        """Told privately to whoever removed or demoted the bot, and to the bot's owners."""
        group = html.escape(title or "", quote=False)
        if status in GONE_STATUSES:
            return self._(
                "⚠️ I was removed from <b>{group}</b>. Check-ins, invites, scheduled posts and "
                "broadcasts there have stopped; add me back to resume (nothing is lost).",
                group=group,
            )
        return self._(
            "⚠️ I am no longer an admin in <b>{group}</b>. I can't see joins and leaves or "
            "create invite links there until you make me an admin again.",
            group=group,
        )

    def manage_in_private(self) -> str:
        return self._(
            "Send /manage to me in a private chat: you pick one of your groups, then run its "
            "admin commands there, out of sight of its members."
        )

    def no_admin_groups(self) -> str:
        return self._("You are not an admin of any group I am in.")

    def pick_group(self) -> str:
        return self._("Which group do you want to manage here?")

    def pick_a_group(self) -> str:
        return self._(
            "Which group? Send /manage to pick one of your groups; admin commands here then "
            "act on it. Or send the command in the group."
        )

    def managing(self, title: str, chat_id: int) -> str:
        return self._(
            "🛠 Managing <b>{group}</b> (chat id <code>{id}</code>) from here. Admin commands "
            "you send me now act on it (/settings, /redeem, /posts, /coupon, /groupbuy, "
            "/broadcast, /referral report …). /manage switches groups.",
            group=html.escape(title, quote=False),
            id=chat_id,
        )

    def group_gone(self) -> str:
        return self._("I am no longer in that group. /manage lists the groups you can manage.")

    def no_longer_admin(self, title: str | None) -> str:
        return self._(
            "You are no longer an admin of <b>{group}</b>, so I can't act on it for you. "
            "/manage picks another of your groups.",
            group=html.escape(title or "", quote=False),
        )

    def admins_only(self) -> str:
        return self._("🙏 Sorry, only group admins can do that.")

    def group_only(self) -> str:
        return self._("This command works in a group. Add me to your group first.")

    def not_registered(self) -> str:
        return self._("This group has no activity yet. Send /checkin to start!")

    # -- private chat --------------------------------------------------------------------------

    def _about(self) -> dict[str, str]:
        """One line per command, for the menus and /help."""
        return {
            "start": self._("Start: what I do, and your private notices"),
            "checkin": self._("Daily check-in"),
            "me": self._("My points and streak"),
            "top": self._("Leaderboard (/top streak, /top invites)"),
            "invite": self._("My invite link"),
            "invites": self._("My invites and rewards"),
            "referral": self._("Referral program"),
            "mycoupons": self._("My coupons"),
            "manage": self._("Manage one of your groups from here (admins)"),
            "settings": self._("Group settings (admins)"),
            "set": self._("Change a setting (admins)"),
            "redeem": self._("Redeem a coupon at checkout (admins)"),
            "coupon": self._("Post, grant or end a coupon offer (admins)"),
            "groupbuy": self._("Create or post a group-buy (admins)"),
            "schedule": self._("Schedule a post (admins)"),
            "posts": self._("Scheduled posts (admins)"),
            "post": self._("Pause, resume or delete a post (admins)"),
            "sequence": self._("Welcome messages for new members (admins)"),
            "broadcast": self._("Message members privately (admins)"),
            "help": self._("What this bot does"),
        }

    def command_menu(self, where: str) -> list[tuple[str, str]]:
        """`private`, `group` (members) or `admins` (a group's admins): what each can use there."""
        about = self._about()
        return [(name, about[name]) for name in COMMANDS[where]]

    def help(self, first_name: str, where: str) -> str:
        """/help and /start: every command the caller can use where they are."""
        lines = [self._("👋 Hi {name}! I help communities grow.", name=self.name(first_name))]
        lines += [f"/{name} — {text}" for name, text in self.command_menu(where)]
        if where == "private":
            lines.append(
                self._(
                    "In your group: /checkin (or 签到 / 打卡), /me, /top. Group admins: /manage "
                    "here to run admin commands out of sight of members."
                )
            )
        return "\n".join(lines)

    def unknown_command(self) -> str:
        return self._("I don't know that command. /help lists what I can do here.")
