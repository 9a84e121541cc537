"""What /manage says: the private admin console."""

from __future__ import annotations

import html

from campaigns.services.chats import GroupGone
from handlers.words import Words


class ConsoleTexts:
    """Console texts in one language."""

    def __init__(self, language: str) -> None:
        self.words = Words(language)
        self.language, self._, self._n = language, self.words._, self.words._n

    def refusal(self, error: Exception) -> str | None:
        if isinstance(error, GroupGone):
            return self.group_gone()
        return self.words.refusal(error)

    def manage_in_private(self) -> str:
        return self._(
            "Send /manage to me in a private chat: you pick one of your groups, then run its "
            "admin commands there, out of sight of its members."
        )

    def no_admin_groups(self) -> str:
        return self._("You are not an admin of any group I am in.")

    def pick_group(self) -> str:
        return self._("Which group do you want to manage here?")

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
