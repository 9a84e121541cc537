"""/referral: the program, its settings and the report (admins)."""

from __future__ import annotations

from campaigns.services.referral_reports import referral_report
from campaigns.settings import apply_referral_setting
from handlers.admin import store_setting
from handlers.referral_texts import ReferralTexts
from handlers.use_case import Call, admin_group, in_group, use_case

REPORT_DAYS = 30


@use_case(ReferralTexts)
async def referral_command(call: Call[ReferralTexts]) -> None:
    """`/referral` (the program), `/referral set <key> <value>`, `/referral report [days]`."""
    t, args = call.t, call.words
    action = args[0].lower() if args else ""
    if not args:
        chat = in_group(call.update)
        await call.reply(t.program(chat.title, (await call.deps.settings_of(chat.id)).referral))
        return
    if action not in {"set", "report"}:
        await call.reply(t.referral_usage())
        return
    call.chat = await admin_group(call.update, call.context)  # set and report: admins only
    if action == "report":
        await _report(call, args[1:])
    elif len(args) < 3:
        await call.reply(t.referral_usage())
    else:
        new = await store_setting(call, args[1], " ".join(args[2:]), apply_referral_setting)
        await call.reply(t.program_changed(args[1], new.referral))


async def _report(call: Call[ReferralTexts], args: list[str]) -> None:
    if args and not (args[0].isascii() and args[0].isdigit() and 1 <= int(args[0]) <= 3650):
        await call.reply(call.t.referral_usage())
        return
    report = await referral_report(
        call.deps.uow(),
        bot_id=call.context.bot.id,
        update_id=call.update.update_id,
        chat_id=call.group_id,
        days=int(args[0]) if args else REPORT_DAYS,
        at=call.at,
    )
    await call.reply(call.t.report(report))
