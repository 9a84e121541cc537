"""An admin report with charts: privately where possible, else where it was asked for.

/stats, /funnels and /cohorts show a business's figures (no member names): the admin's
private chat when they started the bot, otherwise the chat the command came from. The text
goes first; each chart follows as its own photo, so the flood budget counts every message
(an album would be one request but several messages to Telegram).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from telegram import Bot
from telegram.error import TelegramError

from handlers.extract import is_group
from handlers.notify import send_private
from handlers.use_case import Call

log = logging.getLogger(__name__)

Photo = tuple[bytes, str]  # PNG and its caption


async def report_privately(
    call: Call[Any], text: str, photos: Sequence[Photo], *, sent_note: str
) -> None:
    """`text` and `photos` to the admin privately (and `sent_note` where they asked), or
    where they asked when the bot may not write to them."""
    chat = call.update.effective_chat
    bot = call.context.bot
    private = call.user_id if is_group(chat) else None
    if private is not None and await send_private(bot, call.deps, private, text):
        await _photos(bot, private, photos)
        await call.reply(sent_note)
        return
    await call.reply(text)
    if chat is not None:
        await _photos(bot, chat.id, photos)


async def _photos(bot: Bot, chat_id: int, photos: Sequence[Photo]) -> None:
    for png, caption in photos:
        try:
            await bot.send_photo(chat_id, png, caption=caption[:1024])
        except TelegramError as error:  # the text already went out: a chart is a bonus
            log.warning("chart to %s failed: %s", chat_id, error)
