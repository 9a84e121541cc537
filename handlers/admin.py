"""/settings and /set: group admins (and the bot's owners) configure the group."""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import TypeVar

from telegram.error import TelegramError

from campaigns.checkin import local_day
from campaigns.services.chats import change_setting
from campaigns.settings import ChatSettings, apply_setting
from campaigns.shop import expiry_grace
from handlers.admin_texts import AdminTexts
from handlers.extract import chat_info, reader_language
from handlers.use_case import Call, Texts, use_case

X = TypeVar("X", bound=Texts)


@use_case(AdminTexts, admin=True)
async def settings_command(call: Call[AdminTexts]) -> None:
    """Show the group's settings (admins only)."""
    assert call.chat is not None
    await call.reply(call.t.settings(call.chat.title, await call.deps.settings_of(call.group_id)))


@use_case(AdminTexts, admin=True)
async def set_command(call: Call[AdminTexts]) -> None:
    """`/set <key> <value>`: validate, store, confirm in the (possibly new) language."""
    if len(call.words) < 2:
        await call.reply(call.t.set_usage())
        return
    key, value = call.words[0], " ".join(call.words[1:])
    new = await store_setting(call, key, value)
    t = AdminTexts(await reader_language(call.update, call.context))  # a new language shows at once
    grace = expiry_grace(new, local_day(call.at, new.timezone))
    await call.reply(t.setting_changed(key, new, grace))
    if key.lower() in {"captcha", "antispam"}:
        await warn_unable(call, t, new)


async def warn_unable(call: Call[AdminTexts], t: AdminTexts, new: ChatSettings) -> None:
    """Order keeping switched on where the bot cannot carry it out: said at once (a basic
    group cannot restrict anyone; without "Ban users" the bot cannot mute or remove)."""
    rules, chat = new.moderation, call.chat
    if chat is None or not (rules.captcha or rules.antispam):
        return
    if chat.type != "supergroup":
        await call.reply(t.needs_supergroup())
        return
    with contextlib.suppress(TelegramError):
        me = await call.context.bot.get_chat_member(chat.id, call.context.bot.id)
        if not getattr(me, "can_restrict_members", me.status == "creator"):
            await call.reply(t.needs_restrict_right())


async def store_setting(
    call: Call[X],
    key: str,
    value: str,
    apply: Callable[[ChatSettings, str, str], ChatSettings] = apply_setting,
) -> ChatSettings:
    """Validate and save one setting of the group (the decorator checked the admin).

    InvalidSetting and a redelivery's DuplicateUpdate are raised for the decorator."""
    assert call.chat is not None
    d = call.deps
    new = await change_setting(
        d.uow(),
        bot_id=call.context.bot.id,
        update_id=call.update.update_id,
        chat=chat_info(call.chat),
        key=key,
        value=value,
        at=call.at,
        defaults=d.defaults,
        apply=apply,
    )
    d.settings_changed(call.chat.id, new)
    return new
