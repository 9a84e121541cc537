"""The error handler: log with context, never let one bad update stop the bot."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.error import Forbidden, NetworkError, RetryAfter, TelegramError

from handlers.extract import Context

log = logging.getLogger("growthbot.errors")


async def on_error(update: object, context: Context) -> None:
    """Telegram errors are expected weather; anything else is a bug worth a traceback."""
    error = context.error
    where = ""
    if isinstance(update, Update):
        chat = update.effective_chat
        user = update.effective_user
        where = (
            f"update {update.update_id} chat {chat.id if chat else '-'} "
            f"user {user.id if user else '-'}"
        )
    if isinstance(error, RetryAfter):
        log.warning("flood limit (%s): retry after %ss", where, error.retry_after)
    elif isinstance(error, Forbidden):
        log.warning("forbidden (%s): %s", where, error.message)
    elif isinstance(error, NetworkError):
        log.warning("network error (%s): %s", where, error)
    elif isinstance(error, TelegramError):
        log.warning("telegram error (%s): %s", where, error)
    else:
        log.error("unexpected error (%s)", where, exc_info=error)
