"""/start and /help: what the bot does, in the reader's language."""

from __future__ import annotations

from telegram import Update
from telegram.ext import CommandHandler

from handlers.extract import Context, reply, texts_for
from handlers.groupbuys import start_team_share
from handlers.invite_links import start_referral, track_private
from handlers.use_case import is_admin


async def help_command(update: Update, context: Context) -> None:
    """Introduce the bot and its commands."""
    user = update.effective_user
    chat = update.effective_chat
    if chat is not None and chat.type == chat.PRIVATE:
        await track_private(update, context)
        payload = context.args[0] if context.args else ""
        if payload and (
            await start_team_share(update, context, payload)
            or await start_referral(update, context, payload)
        ):
            return
    t = await texts_for(update, context)
    where = "group"
    if chat is not None and chat.type == chat.PRIVATE:
        where = "private"
    elif await is_admin(update, context):
        where = "admins"
    await reply(update, t.help(user.first_name if user else "", where))


async def unknown_in_private(update: Update, context: Context) -> None:
    """A command no handler took, in a private chat: pointed at /help instead of silence.

    Matched as the command handlers match (any case; `@name` only when it is this bot's)."""
    message = update.effective_message
    word = (message.text or "").split(maxsplit=1)[0][1:] if message and message.text else ""
    name, _, mention = word.partition("@")
    username = (context.bot.username or "").lower()
    if name.lower() in known_commands(context) and mention.lower() in {"", username}:
        return  # a command handler answered it
    t = await texts_for(update, context)
    await reply(update, t.unknown_command())


def known_commands(context: Context) -> set[str]:
    """Every command the application has a handler for."""
    return {
        name
        for handlers in context.application.handlers.values()
        for handler in handlers
        if isinstance(handler, CommandHandler)
        for name in handler.commands
    }
