"""The error handler: log with context, never let one bad update stop the bot.

Each line carries the update's ids as record attributes too (`extra`), so JSON logs have
them as fields; the metrics count these errors in bot/app.py, before this handler runs.
"""

from __future__ import annotations

import logging

from telegram import Update
from telegram.error import Forbidden, NetworkError, RetryAfter, TelegramError

from handlers.deps import Context
from handlers.extract import log_fields

log = logging.getLogger("growthbot.errors")


EXPECTED = (  # Telegram's weather: logged in a line, no traceback
    (RetryAfter, "flood limit"),
    (Forbidden, "forbidden"),
    (NetworkError, "network error"),
    (TelegramError, "telegram error"),
)


def where(update: object) -> str:
    """Which update, chat and user, for the log line."""
    if not isinstance(update, Update):
        return ""
    chat, user = update.effective_chat, update.effective_user
    return (
        f"update {update.update_id} chat {chat.id if chat else '-'} user {user.id if user else '-'}"
    )


async def on_error(update: object, context: Context) -> None:
    """Telegram errors are expected weather; anything else is a bug worth a traceback."""
    error = context.error
    for kind, name in EXPECTED:
        if isinstance(error, kind):
            detail = f"retry after {error.retry_after}s" if isinstance(error, RetryAfter) else error
            log.warning("%s (%s): %s", name, where(update), detail, extra=log_fields(update))
            return
    place = where(update) or ("a scheduled job" if context.job is not None else "outside an update")
    what = " ".join(str(error).split()) or type(error).__name__  # never an empty reason
    log.error("unexpected error (%s): %s", place, what, exc_info=error, extra=log_fields(update))
