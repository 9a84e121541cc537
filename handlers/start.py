"""/start and /help: what the bot does, in the reader's language."""

from __future__ import annotations

from telegram import Update

from handlers.admin import is_admin
from handlers.extract import Context, reply, texts_for
from handlers.groupbuys import start_team_share
from handlers.invite_links import start_referral, track_private


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
    """Any other command in a private chat gets pointed at /help instead of silence."""
    t = await texts_for(update, context)
    await reply(update, t.unknown_command())
