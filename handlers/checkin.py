"""/checkin and the plain-text 签到 / 打卡."""

from __future__ import annotations

from telegram import Update

from campaigns.errors import AlreadyCheckedIn
from campaigns.services.checkin import check_in
from handlers.deps import deps
from handlers.extract import (
    Context,
    chat_info,
    is_group,
    member_sender,
    person,
    reply,
    sent_at,
    texts_for,
)
from handlers.use_case import use_case

CHECKIN_WORDS = r"^\s*(签到|打卡|簽到|check[ -]?in)\s*[!！。.]?\s*$"


@use_case
async def checkin_command(update: Update, context: Context) -> None:
    """Check the sender in for today in this group, or say when they can next."""
    message, t = update.effective_message, await texts_for(update, context)
    if message is None or not is_group(message.chat):
        await reply(update, t.checkin_in_private())
        return
    if not member_sender(message) or message.from_user is None:
        return
    d, member = deps(context), person(message.from_user)
    try:
        result = await check_in(
            d.uow(),
            bot_id=context.bot.id,
            update_id=update.update_id,
            chat=chat_info(message.chat),
            person=member,
            at=sent_at(update),
            defaults=d.defaults,
        )
    except AlreadyCheckedIn as err:
        await reply(update, t.already_checked_in(member.display_name, err, sent_at(update)))
        return
    await reply(update, t.checked_in(member.display_name, result))
