"""/settings and /set: group admins (and the bot's owners) configure the group."""

from __future__ import annotations

from collections.abc import Callable

from telegram import Chat, Update

from campaigns.errors import InvalidSetting
from campaigns.services.chats import NoLongerAdmin, change_setting, managed_group
from campaigns.settings import ChatSettings, apply_setting
from handlers.deps import deps
from handlers.extract import Context, chat_info, is_group, reply, sent_at, texts_for
from handlers.texts import T
from handlers.use_case import use_case


async def is_admin(update: Update, context: Context) -> bool:
    """Owners, the group's admins, and an anonymous admin (sender_chat is the group itself)."""
    chat, user, message = update.effective_chat, update.effective_user, update.effective_message
    if chat is None or user is None:
        return False
    d = deps(context)
    if user.id in d.owner_ids:
        return True
    if message is not None and message.sender_chat is not None:
        return message.sender_chat.id == chat.id
    return user.id in await d.admins.admin_ids(context.bot, chat.id)


async def admin_group(update: Update, context: Context, t: T) -> Chat | None:
    """The group an admin command acts on: the group it was sent in, or in a private chat the
    group the admin picked with /manage (still checked: they must be its admin now).
    Otherwise explain and None."""
    chat, user = update.effective_chat, update.effective_user
    if chat is not None and chat.type == Chat.PRIVATE and user is not None:
        d = deps(context)
        try:
            record = await managed_group(d.uow(), gate=d.gate(context.bot), user_id=user.id)
        except NoLongerAdmin as lost:
            await reply(update, t.no_longer_admin(lost.title))
            return None
        if record is None:
            await reply(update, t.pick_a_group())
            return None
        return Chat(id=record.chat_id, type=Chat.SUPERGROUP, title=record.title)
    if not is_group(chat) or chat is None:
        await reply(update, t.group_only())
        return None
    if not await is_admin(update, context):
        await reply(update, t.admins_only())
        return None
    return chat


async def settings_command(update: Update, context: Context) -> None:
    """Show the group's settings (admins only)."""
    t = await texts_for(update, context)
    if chat := await admin_group(update, context, t):
        await reply(update, t.settings(chat.title, await deps(context).settings_of(chat.id)))


@use_case
async def set_command(update: Update, context: Context) -> None:
    """`/set <key> <value>`: validate, store, confirm in the (possibly new) language."""
    t = await texts_for(update, context)
    chat = await admin_group(update, context, t)
    if chat is None:
        return
    args = context.args or []
    if len(args) < 2:
        await reply(update, t.set_usage())
        return
    result = await store_setting(update, context, chat, args[0], " ".join(args[1:]))
    if isinstance(result, InvalidSetting):
        await reply(update, t.invalid_setting(result))
    else:
        await reply(update, (await texts_for(update, context)).setting_changed(args[0], result))


async def store_setting(
    update: Update,
    context: Context,
    chat: Chat,
    key: str,
    value: str,
    apply: Callable[[ChatSettings, str, str], ChatSettings] = apply_setting,
) -> ChatSettings | InvalidSetting:
    """Validate and save one setting of the group (the caller checked the admin).

    Returns the new settings or the validation error to explain; a redelivery raises
    DuplicateUpdate, which the caller's @use_case swallows.
    """
    d = deps(context)
    try:
        new = await change_setting(
            d.uow(),
            bot_id=context.bot.id,
            update_id=update.update_id,
            chat=chat_info(chat),
            key=key,
            value=value,
            at=sent_at(update),
            defaults=d.defaults,
            apply=apply,
        )
    except InvalidSetting as err:
        return err
    d.settings_changed(chat.id, new)
    return new
