"""/birthday: set privately once (`/birthday 03-05`), shown with `/birthday`; an admin
clears a member's with `/birthday clear` in reply to their message in the group."""

from __future__ import annotations

from telegram import Update

from campaigns.birthdays import BirthdayProblem, BirthdayRefused
from campaigns.services.birthdays import clear_birthday, my_birthday, set_birthday
from handlers.birthday_texts import BirthdayTexts
from handlers.deps import Context
from handlers.extract import is_group, person, replied_person
from handlers.use_case import Call, use_case

CLEAR = {"clear", "reset", "清除"}


async def birthday_command(update: Update, context: Context) -> None:
    """Private: the member's own birthday; in a group: only an admin's `clear`."""
    first = (context.args or [""])[0].casefold() if context.args else ""
    if not is_group(update.effective_chat) and first in CLEAR:
        await birthday_clear_here(update, context)  # an admin's clear is done in the group
    elif not is_group(update.effective_chat):
        await birthday_private(update, context)
    elif first in CLEAR:
        await birthday_clear(update, context)
    else:
        await birthday_in_group(update, context)


@use_case(BirthdayTexts)
async def birthday_private(call: Call[BirthdayTexts]) -> None:
    """`/birthday` shows it; `/birthday 03-05` sets it, once."""
    assert call.person is not None
    d = call.deps
    if not call.words:
        shown = await my_birthday(d.uow(), user_id=call.person.user_id)
        await call.reply(call.t.shown(shown))
        return
    saved = await set_birthday(
        d.uow(), update=call.key, person=call.person, raw=" ".join(call.words), at=call.at,
        timezone=d.defaults.timezone,
    )  # fmt: skip
    await call.reply(call.t.saved(saved))


@use_case(BirthdayTexts)
async def birthday_in_group(call: Call[BirthdayTexts]) -> None:
    """Birthdays are personal: they are sent privately."""
    raise BirthdayRefused(BirthdayProblem.IN_PRIVATE)


@use_case(BirthdayTexts, admin=True)
async def birthday_clear(call: Call[BirthdayTexts]) -> None:
    """An admin clears the birthday of the member whose message this replies to."""
    target = replied_person(call.update.effective_message)
    if target is None:
        raise BirthdayRefused(BirthdayProblem.REPLY_TO_CLEAR)
    await clear_birthday(call.deps.uow(), update=call.key, user_id=target.id, at=call.at)
    await call.reply(call.t.cleared(person(target).display_name))


@use_case(BirthdayTexts)
async def birthday_clear_here(call: Call[BirthdayTexts]) -> None:
    """`/birthday clear` in a private chat: it needs the member's message to reply to."""
    raise BirthdayRefused(BirthdayProblem.REPLY_TO_CLEAR)
