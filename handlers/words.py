"""The pieces every texts module composes: gettext in one language, names, points, days and
waits, and the refusals every feature shares (an unknown group, a refused tap or command).

Each handler module has its own texts module whose class holds a `Words` (`self.words`), so a
feature's texts say only that feature's sentences. English is the source; zh comes from
locales/zh. Names and titles from users are escaped, because replies use HTML parse mode.
"""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Sequence

from campaigns.access import AccessDenied, Denied
from campaigns.content import TEXT_LIMIT, visible_length
from campaigns.errors import UnknownChat
from campaigns.services.chats import NoLongerAdmin
from handlers.i18n import translator


class Words:
    """Shared texts in one language."""

    def __init__(self, language: str) -> None:
        self.language = language
        self._t = translator(language)

    def _(self, message: str, **values: object) -> str:
        return self._t.gettext(message).format(**values)

    def _n(self, singular: str, plural: str, n: int, **values: object) -> str:
        return self._t.ngettext(singular, plural, n).format(n=n, **values)

    def then(self, *sentences: str) -> str:
        """Sentences one after another: a space between them in English, none in Chinese
        (its full stop already parts them)."""
        return ("" if self.language == "zh" else " ").join(sentences)

    def paren(self, text: str) -> str:
        """An aside in brackets: full-width in Chinese."""
        return f"（{text}）" if self.language == "zh" else f"({text})"

    def colon(self, head: str, rest: str) -> str:
        """`head: rest`, with the full-width colon in Chinese."""
        return f"{head}：{rest}" if self.language == "zh" else f"{head}: {rest}"

    @staticmethod
    def name(display_name: str) -> str:
        """A member's name, safe inside HTML."""
        return f"<b>{html.escape(display_name, quote=False)}</b>"

    def fit(self, head: Sequence[str], items: Sequence[str], tail: Sequence[str] = ()) -> str:
        """A list as one Telegram message (HTML, 4,096 characters as Telegram counts them):
        `head`, as many `items` as fit in order, "… and N more" for the rest, then `tail`."""
        budget = TEXT_LIMIT - visible_length("\n".join([*head, *tail]), "HTML") - 1
        more = visible_length(self._n("… and {n} more", "… and {n} more", len(items)), "HTML")
        kept: list[str] = []
        for i, item in enumerate(items):
            size = visible_length(item, "HTML") + 1
            reserve = more + 1 if i + 1 < len(items) else 0  # the line saying what is left out
            if size + reserve > budget:
                break
            kept.append(item)
            budget -= size
        left = len(items) - len(kept)
        rest = [self._n("… and {n} more", "… and {n} more", left)] if left else []
        return "\n".join([*head, *kept, *rest, *tail])

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
        (each texts class asks this after its own refusals)."""
        match error:
            case UnknownChat():
                return self.not_registered()
            case AccessDenied():
                return self.access_denied(error)
            case NoLongerAdmin():
                return self.no_longer_admin(error.title)
        return None

    def no_longer_admin(self, title: str | None) -> str:
        return self._(
            "You are no longer an admin of <b>{group}</b>, so I can't act on it for you. "
            "/manage picks another of your groups.",
            group=html.escape(title or "", quote=False),
        )

    def sent_privately(self) -> str:
        """The group's line when a business figure went to the admin privately instead."""
        return self._("📬 I sent it to you in a private chat.")

    def admins_only(self) -> str:
        return self._("🙏 Sorry, only group admins can do that.")

    def group_only(self) -> str:
        return self._(
            "This command works in your group: send it there (if I'm not in it yet, add me first)."
        )

    def pick_a_group(self) -> str:
        return self._(
            "Which group? Send /manage to pick one of your groups; admin commands here then "
            "act on it. Or send the command in the group."
        )

    def not_registered(self) -> str:
        return self._("This group has no activity yet. Send /checkin to start!")
