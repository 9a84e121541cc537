"""What /settings and /set say."""

from __future__ import annotations

import html

from campaigns.errors import InvalidSetting
from campaigns.settings import ChatSettings, setting_key
from campaigns.shop import ExpiryGrace
from handlers.words import Words


class AdminTexts:
    """Settings texts in one language."""

    def __init__(self, language: str) -> None:
        self.words = Words(language)
        self.language, self._, self._n = language, self.words._, self.words._n

    def refusal(self, error: Exception) -> str | None:
        if isinstance(error, InvalidSetting):
            return self.invalid_setting(error)
        return self.words.refusal(error)

    def settings(self, title: str | None, settings: ChatSettings, *, how: bool = True) -> str:
        """The card of /settings; `how=False` leaves out how to change one in chat (the
        dashboard's form is right below it)."""
        lines = [self._("⚙️ Settings for {title}", title=html.escape(title or "-"))]
        lines += [
            f"<code>{key}</code> = <code>{html.escape(value)}</code>"
            for key, value in settings.as_pairs()
        ]
        if not how:
            return "\n".join(lines)
        lines.append(
            self._(
                "Change one with /set &lt;key&gt; &lt;value&gt;, e.g. "
                "<code>/set timezone Asia/Shanghai</code>"
            )
        )
        return "\n".join(lines)

    def setting_changed(
        self, key: str, settings: ChatSettings, grace: ExpiryGrace | None = None
    ) -> str:
        key = setting_key(key)
        value = dict(settings.as_pairs())[key]
        changed = self._(
            "✅ {key} is now {value}.",
            key=f"<code>{html.escape(key)}</code>",
            value=f"<code>{html.escape(value)}</code>",
        )
        if grace is None or key.lower() != "points_expiry_months":
            return changed
        return "\n".join([changed, self.expiry_grace(grace, settings.points_expiry_months)])

    def expiry_grace(self, grace: ExpiryGrace, months: int) -> str:
        """Expiry turned on or shortened: nothing goes at once."""
        return self._(
            "⏳ Points earned before {earned} stay usable until {day}, a week for members to "
            "spend them (those who started the bot are reminded privately). Later points "
            "expire {months} after they were earned.",
            earned=grace.earned_before.isoformat(), day=grace.usable_until.isoformat(),
            months=self._n("{n} month", "{n} months", months),
        )  # fmt: skip

    def needs_supergroup(self) -> str:
        return self._(
            "⚠️ Telegram lets bots restrict members only in supergroups: the captcha and "
            "anti-spam mutes will not work in this group until it is one (making the group "
            "public, or changing some of its settings, turns it into one)."
        )

    def needs_restrict_right(self) -> str:
        return self._(
            "⚠️ I lack the admin right “Ban users”: I cannot mute or remove anyone until you "
            "grant it (group settings → Administrators → me)."
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
            "duplicate_day": self._("each day once: it is given twice"),
            "not_on_off": self._("it must be on or off"),
            "bad_reaction": self._(
                "use warn, mute or off, then optionally all (every member) or new (newcomers only)"
            ),
            "bad_words": self._(
                "words or phrases separated by commas, at most 100, each at most 64 characters"
            ),
            "bad_limit_action": self._("it must be mute or ban"),
            "on_or_off": self._("it must be on or off"),
            "bad_captcha_kind": self._("it must be button, sum or emoji"),
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
