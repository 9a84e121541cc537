"""/start and /help: what the bot does, in the reader's language."""

from __future__ import annotations

from telegram import Chat
from telegram.ext import CommandHandler

from campaigns.access import AccessDenied, Denied
from campaigns.settings import language_for
from handlers.deps import Context
from handlers.groupbuys import start_team_share
from handlers.invite_links import start_referral
from handlers.start_texts import StartTexts
from handlers.use_case import Call, is_admin, use_case


@use_case(StartTexts)
async def help_command(call: Call[StartTexts]) -> None:
    """Introduce the bot and its commands; `/start <payload>` opens a shared link instead.

    (The private chat itself is recorded by track_private, which sees every private message.)"""
    update, context, chat = call.update, call.context, call.update.effective_chat
    private = chat is not None and chat.type == Chat.PRIVATE
    payload = call.args[0] if private and call.args else ""
    if payload and (
        await start_team_share(update, context, payload)
        or await start_referral(update, context, payload)
    ):
        return
    where = "private" if private else "admins" if await is_admin(update, context) else "group"
    await call.reply(call.t.help(call.user.first_name if call.user else "", where))


@use_case(StartTexts)
async def unknown_in_private(call: Call[StartTexts]) -> None:
    """A command no handler took, in a private chat: pointed at /help instead of silence.

    Matched as the command handlers match (any case; `@name` only when it is this bot's)."""
    message = call.update.effective_message
    word = (message.text or "").split(maxsplit=1)[0][1:] if message and message.text else ""
    name, _, mention = word.partition("@")
    username = (call.context.bot.username or "").lower()
    if name.lower() in known_commands(call.context) and mention.lower() in {"", username}:
        return  # a command handler answered it
    await call.reply(call.t.unknown_command())


@use_case(StartTexts)
async def unknown_tap(call: Call[StartTexts]) -> None:
    """A tap whose callback_data the bot never builds (a forged or garbled button): refused
    in the tapper's language (as every tap's alert, which only they see), so the client stops
    spinning; nothing is looked up."""
    user = call.update.effective_user
    call.t = StartTexts(language_for(user.language_code if user else None, call.t.language))
    raise AccessDenied(Denied.WRONG_MESSAGE)


def known_commands(context: Context) -> set[str]:
    """Every command the application has a handler for."""
    return {
        name
        for handlers in context.application.handlers.values()
        for handler in handlers
        if isinstance(handler, CommandHandler)
        for name in handler.commands
    }
