"""`@use_case`: the ceremony every callback shared, said once.

A redelivered update (DuplicateUpdate) does nothing: its first delivery already answered.
A group the bot does not know yet (UnknownChat) gets the not-registered text in the reader's
language: an alert for a button tap, else a reply. A callback's own except-branch still wins
where it has something else to say.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Coroutine
from typing import Any

from telegram import Update

from campaigns.errors import DuplicateUpdate, UnknownChat
from handlers.extract import Context, reply, texts_for

ALERT_LIMIT = 200  # Telegram's limit for a callback answer

Callback = Callable[[Update, Context], Coroutine[Any, Any, None]]


def use_case(callback: Callback) -> Callback:
    """Wrap `async def cb(update, context)` with the shared DuplicateUpdate/UnknownChat
    handling."""

    @functools.wraps(callback)
    async def wrapped(update: Update, context: Context) -> None:
        try:
            await callback(update, context)
        except DuplicateUpdate:
            return
        except UnknownChat:
            text = (await texts_for(update, context)).not_registered()
            query = update.callback_query
            if query is not None:
                await query.answer(text[:ALERT_LIMIT], show_alert=True)
            else:
                await reply(update, text)

    return wrapped
