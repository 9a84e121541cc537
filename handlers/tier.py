"""/tier: a member's tier and progress, the group's ladder, and the admins' settings."""

from __future__ import annotations

from telegram import Update

from campaigns.errors import UnknownChat
from campaigns.services.tiers import group_ladder, my_tier, set_member_tier
from campaigns.settings import TIER_KEYS, apply_tier_setting
from handlers.admin import store_setting
from handlers.deps import Context
from handlers.extract import person, replied_person
from handlers.notify import send_tier_changes
from handlers.tier_texts import TierTexts
from handlers.use_case import Call, use_case

ADMIN_WORDS = {*TIER_KEYS, "set"}


async def tier_command(update: Update, context: Context) -> None:
    """`/tier` and `/tier ladder` for everyone; `/tier setup|basis|grace|review|reset|set`
    go to the admin's handler, which checks the caller is the group's admin."""
    first = (context.args or [""])[0].casefold() if context.args else ""
    if first in ADMIN_WORDS:
        await tier_admin(update, context)
    else:
        await tier_member(update, context)


@use_case(TierTexts, group=True)
async def tier_member(call: Call[TierTexts]) -> None:
    """The caller's tier and what the next one needs, or the ladder."""
    words = [w.casefold() for w in call.words]
    if words == ["ladder"]:
        await call.reply(await _ladder(call))
    elif words:
        await call.reply(call.t.usage())
    else:
        await call.reply(await _status(call))


async def _ladder(call: Call[TierTexts]) -> str:
    ladder = await group_ladder(
        call.deps.uow(), bot_id=call.key[0], update_id=call.key[1], chat_id=call.group_id,
        at=call.at,
    )  # fmt: skip
    return call.t.ladder(ladder)


async def _status(call: Call[TierTexts]) -> str:
    assert call.user_id is not None and call.person is not None
    await call.deps.buffer.flush()  # a member who just spoke for the first time is known now
    try:
        view = await my_tier(
            call.deps.uow(), bot_id=call.key[0], update_id=call.key[1], chat_id=call.group_id,
            user_id=call.user_id, at=call.at,
        )  # fmt: skip
    except UnknownChat:
        view = None
    return call.t.status(call.person.display_name, view)


@use_case(TierTexts, admin=True)
async def tier_admin(call: Call[TierTexts]) -> None:
    """`/tier setup <ladder>`, `/tier basis|grace|review <value>`, `/tier reset`, and
    `/tier set <name>` in reply to a member."""
    key, rest = call.words[0].casefold(), " ".join(call.words[1:])
    if key == "set":
        await _set_member(call, rest)
        return
    if key != "reset" and not rest:
        await call.reply(call.t.usage())
        return
    new = await store_setting(call, key, rest, apply=apply_tier_setting)
    await call.reply(call.t.ladder_saved(new.tiers))


async def _set_member(call: Call[TierTexts], name: str) -> None:
    """An admin raises (or lowers) a member's tier; the member is told privately."""
    assert call.user_id is not None
    if not name:
        await call.reply(call.t.set_usage())
        return
    target = replied_person(call.update.effective_message)
    if target is None:
        await call.reply(call.t.set_usage())
        return
    member = person(target)
    await call.deps.buffer.flush()  # a member first seen by recent chatter is stored now
    change = await set_member_tier(
        call.deps.uow(), bot_id=call.key[0], update_id=call.key[1], chat_id=call.group_id,
        by=call.user_id, user_id=member.user_id, name=name, at=call.at,
    )  # fmt: skip
    await call.reply(call.t.member_set(member.display_name, change))
    await send_tier_changes(call.context.bot, call.deps, [change])
