"""What /checkin and 签到 say."""

from __future__ import annotations

import datetime as dt
import html

from campaigns.checkin import CheckinAward
from campaigns.errors import AlreadyCheckedIn
from campaigns.members import Person
from campaigns.services.checkin import CheckinResult
from handlers.deps import Ack
from handlers.words import Words


class CheckinTexts:
    """Check-in replies in one language."""

    def __init__(self, language: str) -> None:
        self.words = Words(language)
        self.language, self._, self._n = language, self.words._, self.words._n

    def refusal(self, error: Exception) -> str | None:
        return self.words.refusal(error)

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
        if award.tier_points:
            parts.append(self._("+{n} tier bonus", n=award.tier_points))
        if award.member_day_points:
            parts.append(
                self._("+{n} member day ×{x}", n=award.member_day_points, x=f"{award.member_day:g}")
            )
        return self._(", ").join(parts)  # zh: a full-width comma

    def checked_in(self, display_name: str, result: CheckinResult) -> str:
        lines = [
            self._(
                "✅ {name} checked in — #{rank} today!",
                name=self.words.name(display_name),
                rank=result.rank_today,
            ),
            self._("🔥 Streak: {streak}", streak=self.words.days(result.award.streak)),
            self._(
                "💰 {gained} ({breakdown}) · balance {balance}",
                gained=self.words.points(result.award.total),
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

    def checked_in_ack(self, member: Person, result: CheckinResult, message_id: int) -> Ack:
        """The answer in its forms: alone (quoting the 签到), a line among many, and the
        detail privately when only the line was shown."""
        said = self.checked_in(member.display_name, result)
        line = self.checked_in_line(member.display_name, result)
        return Ack(member.user_id, said, line, reply_to=message_id, private=said)

    def already_ack(
        self, member: Person, err: AlreadyCheckedIn, now: dt.datetime, message_id: int
    ) -> Ack:
        """A repeated check-in's answer: alone, or a line (nothing new to say privately)."""
        said = self.already_checked_in(member.display_name, err, now)
        return Ack(member.user_id, said, self.already_line(member.display_name, err), message_id)

    def checked_in_line(self, display_name: str, result: CheckinResult) -> str:
        """The member's line in a group message that acknowledges many check-ins at once."""
        return self._(
            "✅ #{rank} {name} · 🔥 {streak} · +{points}",
            rank=result.rank_today,
            name=self.words.name(display_name),
            streak=self.words.days(result.award.streak),
            points=result.award.total,
        )

    def already_line(self, display_name: str, err: AlreadyCheckedIn) -> str:
        """A repeated check-in's line among many acknowledgements."""
        return self._(
            "😊 {name} already checked in today · 🔥 {streak}",
            name=self.words.name(display_name),
            streak=self.words.days(err.streak),
        )

    def already_checked_in(self, display_name: str, err: AlreadyCheckedIn, now: dt.datetime) -> str:
        reset = err.next_reset.strftime("%H:%M")
        return "\n".join(
            [
                self._(
                    "😊 {name}, you have already checked in today.",
                    name=self.words.name(display_name),
                ),
                self._(
                    "Next check-in opens at {time} ({tz}), in {wait}.",
                    time=reset,
                    tz=html.escape(err.timezone),
                    wait=self.words.wait(err.next_reset, now),
                ),
                self._(
                    "🔥 Streak: {streak} · balance {balance}",
                    streak=self.words.days(err.streak),
                    balance=err.balance,
                ),
            ]
        )

    def checkin_in_private(self) -> str:
        return self._("Check-ins happen in your group: send /checkin (or 签到) there.")
