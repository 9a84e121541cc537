"""Order keeping (保持社群秩序): what the handlers share about moderation.

A moderation call Telegram refuses for a missing right (the bot may not delete messages, or
restrict members) is told to the group's admins privately, at most once per right and day
per group, naming the right to grant.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable

from telegram import Bot

from campaigns.moderation import ModRight
from handlers.deps import Deps
from handlers.moderation_texts import ModerationTexts
from handlers.notify import tell_admins


async def tell_missing_rights(
    bot: Bot, d: Deps, chat_id: int, title: str | None, rights: Iterable[ModRight]
) -> None:
    """Each missing right, privately to the admins who started the bot, once a day."""
    for right in rights:
        if d.once_a_day(("moderation right", chat_id, right)):
            await tell_admins(bot, d, chat_id, functools.partial(_missing, title, right))


def _missing(title: str | None, right: ModRight, language: str) -> str:
    return ModerationTexts(language).missing_right(title, right)
