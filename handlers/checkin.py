"""/checkin and the plain-text 签到 / 打卡."""

from __future__ import annotations

from campaigns.errors import AlreadyCheckedIn
from campaigns.services.checkin import CheckinResult, check_in
from handlers.checkin_texts import CheckinTexts
from handlers.deps import Ack
from handlers.extract import chat_info, is_group, member_sender, person
from handlers.notify import send_tier_changes
from handlers.use_case import Call, use_case

CHECKIN_WORDS = r"(?i)^\s*(签到|打卡|簽到|check[ -]?in)\s*[!！。.]?\s*$"


@use_case(CheckinTexts)
async def checkin_command(call: Call[CheckinTexts]) -> None:
    """Check the sender in for today in this group, or say when they can next. The answer
    goes through the acknowledgements worker: alone in a quiet group, a line in a shared
    message during a rush (with the detail privately)."""
    message, d = call.update.effective_message, call.deps
    if message is None or not is_group(message.chat):
        await call.reply(call.t.checkin_in_private())
        return
    if not member_sender(message) or message.from_user is None:
        return  # the anonymous admin, a channel or a bot: nobody to check in
    member = person(message.from_user)
    try:
        result = await check_in(
            d.uow(), bot_id=call.key[0], update_id=call.key[1], chat=chat_info(message.chat),
            person=member, at=call.at, defaults=d.defaults,
            settings=await d.settings_of(message.chat.id), checked_in=d.checked_in,
        )  # fmt: skip
    except AlreadyCheckedIn as err:  # in a rush, answers share the group's messages
        await d.acks.add(message.chat.id, call.t.already_ack(member, err, call.at, message.id))
        return
    await _answer(call, message.chat.id, call.t.checked_in_ack(member, result, message.id), result)


async def _answer(call: Call[CheckinTexts], chat_id: int, ack: Ack, result: CheckinResult) -> None:
    """The group's answer (coalesced in a rush), and a promotion's private notice."""
    await call.deps.acks.add(chat_id, ack)
    if result.promotion is not None:
        await send_tier_changes(call.context.bot, call.deps, [result.promotion])
