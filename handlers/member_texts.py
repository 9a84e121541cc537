"""What the bot says about its own place in a group: set-up and lost rights."""

from __future__ import annotations

import html

from campaigns.members import GONE_STATUSES, BotRight
from handlers.words import Words


class MemberTexts:
    """Membership texts in one language."""

    def __init__(self, language: str) -> None:
        self.words = Words(language)
        self.language, self._, self._n = language, self.words._, self.words._n

    def refusal(self, error: Exception) -> str | None:
        return self.words.refusal(error)

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
