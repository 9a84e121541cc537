"""What /start, /help, the command menus and the private fallback say."""

from __future__ import annotations

from handlers.words import Words

MEMBER_COMMANDS = ("checkin", "me", "points", "shop", "tier", "top", "invite", "invites",
                   "referral", "warns", "help")  # fmt: skip
ADMIN_COMMANDS = ("settings", "set", "redeem", "coupon", "groupbuy", "schedule", "posts", "post",
                  "sequence", "broadcast", "segments", "stats", "tag", "untag", "tags",
                  "audience", "journey", "funnels", "cohorts", "campaign", "link",
                  "survey", "warn", "unwarn", "modlog", "watch", "faq", "dashboard")  # fmt: skip
COMMANDS = {
    "private": (
        "start",
        "invite",
        "invites",
        "mycoupons",
        "points",
        "birthday",
        "unsubscribe",
        "manage",
        "dashboard",
        "help",
    ),
    "group": MEMBER_COMMANDS,
    "admins": MEMBER_COMMANDS[:-1] + ADMIN_COMMANDS + ("help",),
}


class StartTexts:
    """Introductions and menus in one language."""

    def __init__(self, language: str) -> None:
        self.words = Words(language)
        self.language, self._, self._n = language, self.words._, self.words._n

    def refusal(self, error: Exception) -> str | None:
        return self.words.refusal(error)

    def _about(self) -> dict[str, str]:
        """One line per command, for the menus and /help."""
        return {
            "start": self._("Start: what I do, and your private notices"),
            "checkin": self._("Daily check-in"),
            "me": self._("My points and streak"),
            "points": self._("My points statement"),
            "shop": self._("Points shop: redeem rewards (admins: /shop add)"),
            "tier": self._("My membership tier (/tier ladder: all tiers)"),
            "top": self._("Leaderboard (/top streak, /top invites)"),
            "invite": self._("My invite link"),
            "invites": self._("My invites and rewards"),
            "referral": self._("Referral program"),
            "mycoupons": self._("My coupons"),
            "birthday": self._("My birthday, for a gift on the day (/birthday 03-05)"),
            "manage": self._("Manage one of your groups from here (admins)"),
            "settings": self._("Group settings (admins)"),
            "set": self._("Change a setting (admins)"),
            "redeem": self._("Redeem a coupon at checkout (admins)"),
            "coupon": self._("Create, post, grant, end or A/B-test a coupon offer (admins)"),
            "groupbuy": self._("Create or post a group-buy (admins)"),
            "schedule": self._("Schedule a post (admins)"),
            "posts": self._("Scheduled posts (admins)"),
            "post": self._("Pause, resume or delete a post (admins)"),
            "sequence": self._("Welcome messages for new members (admins)"),
            "broadcast": self._("Message members privately (admins)"),
            "segments": self._("Members by stage, RFM and tier (admins)"),
            "stats": self._("Key figures: growth, activity, coupons, orders (admins)"),
            "dashboard": self._("Open the dashboard: figures, members, content (admins)"),
            "campaign": self._("Campaigns: targets, attribution and the review (admins)"),
            "link": self._("Channels: a named invite link per place you post (admins)"),
            "survey": self._(
                "Feedback surveys: CSAT and NPS by buttons, privately to an audience, and "
                "polls (admins)"
            ),
            "watch": self._("Watch words: private alerts when members say them (admins)"),
            "faq": self._("FAQ auto-replies to members' common questions (admins)"),
            "tag": self._("Tag a member, by reply or user id (admins)"),
            "untag": self._("Remove a member's tag (admins)"),
            "tags": self._("A member's tags, by reply (admins)"),
            "audience": self._("Save, list and preview audiences (admins)"),
            "unsubscribe": self._("No more automatic messages (/subscribe: again)"),
            "journey": self._("Automations: win-back, birthday, member day … (admins)"),
            "funnels": self._("Conversion funnels, with a chart (/funnels 30d) (admins)"),
            "cohorts": self._("Weekly retention cohorts as a heatmap (admins)"),
            "warns": self._("My warnings (admins: by reply, a member's)"),
            "warn": self._("Warn a member, by reply, with a reason (admins)"),
            "unwarn": self._("Take back a member's latest warning, by reply (admins)"),
            "modlog": self._("What anti-spam and admins did, with undo (admins)"),
            "help": self._("What this bot does"),
        }

    def command_menu(self, where: str) -> list[tuple[str, str]]:
        """`private`, `group` (members) or `admins` (a group's admins): what each can use there."""
        about = self._about()
        return [(name, about[name]) for name in COMMANDS[where]]

    def help(self, first_name: str, where: str) -> str:
        """/help and /start: every command the caller can use where they are."""
        lines = [self._("👋 Hi {name}! I help communities grow.", name=self.words.name(first_name))]
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
