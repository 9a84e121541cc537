"""/referral: the program, its settings and the report (admins)."""

from __future__ import annotations

from telegram import Chat, Update

from campaigns.errors import InvalidSetting
from campaigns.services.referral_reports import referral_report
from campaigns.settings import apply_referral_setting
from handlers.admin import admin_group, store_setting
from handlers.deps import deps
from handlers.extract import (
    Context,
    is_group,
    reply,
    sent_at,
)
from handlers.referral_texts import ReferralTexts, referral_texts_for
from handlers.use_case import use_case

REPORT_DAYS = 30


@use_case
async def referral_command(update: Update, context: Context) -> None:
    """`/referral`, `/referral set <key> <value>` and `/referral report [days]`."""
    t, chat = await referral_texts_for(update, context), update.effective_chat
    args = context.args or []
    d = deps(context)
    if not args and is_group(chat) and chat is not None:
        await reply(update, t.program(chat.title, (await d.settings_of(chat.id)).referral))
        return
    action = args[0].lower() if args else ""
    if args and action not in {"set", "report"}:
        await reply(update, t.referral_usage())
        return
    group = await admin_group(update, context, t) if args else None
    if group is None:
        if not args:
            await reply(update, t.group_only())
        return
    if action == "report":
        await _report(update, context, t, group, args[1:])
        return
    if len(args) < 3:
        await reply(update, t.referral_usage())
        return
    result = await store_setting(
        update, context, group, args[1], " ".join(args[2:]), apply_referral_setting
    )
    if isinstance(result, InvalidSetting):
        await reply(update, t.invalid_program_setting(result))
    else:
        await reply(update, t.program_changed(args[1], result.referral))


async def _report(
    update: Update, context: Context, t: ReferralTexts, chat: Chat, args: list[str]
) -> None:
    if args and not (args[0].isascii() and args[0].isdigit() and 1 <= int(args[0]) <= 3650):
        await reply(update, t.referral_usage())
        return
    days = int(args[0]) if args else REPORT_DAYS
    report = await referral_report(
        deps(context).uow(),
        bot_id=context.bot.id,
        update_id=update.update_id,
        chat_id=chat.id,
        days=days,
        at=sent_at(update),
    )
    await reply(update, t.report(report))
