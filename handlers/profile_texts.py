"""What /me and /top say."""

from __future__ import annotations

import html

from campaigns.members import Leaderboard, Ranked
from campaigns.services.profile import Profile
from handlers.tier_texts import TierTexts
from handlers.words import Words


class ProfileTexts:
    """Profile and leaderboard texts in one language."""

    def __init__(self, language: str) -> None:
        self.words = Words(language)
        self.language, self._, self._n = language, self.words._, self.words._n

    def refusal(self, error: Exception) -> str | None:
        return self.words.refusal(error)

    def profile(self, display_name: str, profile: Profile | None) -> str:
        if profile is None:
            return self._(
                "{name}, you have no activity here yet. Send /checkin to start!",
                name=self.words.name(display_name),
            )
        s = profile.stats
        rank = (
            self._("rank #{rank}", rank=profile.rank.rank) if profile.rank else self._("unranked")
        )
        return "\n".join(
            [
                self._("👤 {name}", name=self.words.name(s.display_name)),
                self._("💰 Points: {points} ({rank})", points=s.points, rank=rank),
                self._(
                    "🔥 Streak: {streak} · best {best}",
                    streak=self.words.days(s.streak),
                    best=self.words.days(s.best_streak),
                ),
                self._("📅 Check-ins: {n} · 💬 messages: {m}", n=s.checkins, m=s.messages),
            ]
            + ([TierTexts(self.language).me_line(profile.tier)] if profile.tier else [])
            + (
                [self._("🏷 Title: {title}", title=html.escape(s.title, quote=False))]
                if s.title
                else []
            )
        )

    def _line(self, line: Ranked, by: str) -> str:
        medal = {1: "🥇", 2: "🥈", 3: "🥉"}.get(line.rank, f"{line.rank}.")
        value = self.words.days(line.value) if by == "streak" else self.words.points(line.value)
        return f"{medal} {self.words.name(line.display_name)} — {value}"

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

    def _invite_line(self, line: Ranked) -> str:
        medal = {1: "🥇", 2: "🥈", 3: "🥉"}.get(line.rank, f"{line.rank}.")
        count = self._n("{n} invite", "{n} invites", line.value)
        return f"{medal} {self.words.name(line.display_name)} — {count}"

    def invite_board(self, board: Leaderboard) -> str:
        period = board.by.partition(":")[2]
        title = {
            "week": self._("🤝 Invite leaderboard: this week"),
            "month": self._("🤝 Invite leaderboard: this month"),
        }.get(period, self._("🤝 Invite leaderboard: all time"))
        if not board.lines:
            return "\n".join([title, self._("No confirmed invites yet. Get your link: /invite")])
        lines = [title, *(self._invite_line(r) for r in board.lines)]
        if board.me is None:
            lines.append(self._("You are not on this board yet."))
        elif all(r.user_id != board.me.user_id for r in board.lines):
            lines.append(self._("… you: {line}", line=self._invite_line(board.me)))
        return "\n".join(lines)
