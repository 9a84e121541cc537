"""An admin report with charts: privately where possible, else where it was asked for.

/stats, /funnels and /cohorts show a business's figures (no member names): the admin's
private chat when they started the bot, otherwise the chat the command came from. The text
goes first; the charts follow as one album (sendMediaGroup, up to 10 a request; a lone
chart as a photo), which reads as one report in the chat and is one request. Telegram counts
an album of N as N messages, and so does the flood budget (bot/budget.py).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from telegram import Bot, InputMediaPhoto
from telegram.error import TelegramError

from handlers.extract import is_group
from handlers.notify import send_private
from handlers.use_case import Call

log = logging.getLogger(__name__)

Photo = tuple[bytes, str]  # PNG and its caption
ALBUM_MOST = 10  # items in one sendMediaGroup (at least 2)
CAPTION_MOST = 1024  # characters of a photo's caption


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


async def figures_privately(call: Call[Any], text: str) -> None:
    """A list or report of the group's business figures (no charts): privately, with a line
    in the group saying so, when the admin started the bot; else where they asked."""
    await report_privately(call, text, [], sent_note=call.t.words.sent_privately())


async def _photos(bot: Bot, chat_id: int, photos: Sequence[Photo]) -> None:
    for start in range(0, len(photos), ALBUM_MOST):
        part = photos[start : start + ALBUM_MOST]
        try:
            if len(part) == 1:
                png, caption = part[0]
                await bot.send_photo(chat_id, png, caption=caption[:CAPTION_MOST])
            else:
                album = [InputMediaPhoto(png, caption=c[:CAPTION_MOST]) for png, c in part]
                await bot.send_media_group(chat_id, album)
        except TelegramError as error:  # the text already went out: a chart is a bonus
            log.warning("charts to %s failed: %s", chat_id, error)
