"""/start and /help: what the bot does, in the reader's language."""

from __future__ import annotations

from telegram import Update

from handlers.extract import Context, reply, texts_for


async def help_command(update: Update, context: Context) -> None:
    """Introduce the bot and its commands."""
    user = update.effective_user
    t = await texts_for(update, context)
    await reply(update, t.welcome(user.first_name if user else ""))
