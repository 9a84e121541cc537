"""/invite and /invites: a member's personal link and their invite numbers."""

from __future__ import annotations

import contextlib
import time

from telegram import InlineKeyboardMarkup, Message
from telegram.error import TelegramError

from campaigns.access import AccessDenied, ButtonKind, Denied, parse_id
from campaigns.members import ChatInfo
from campaigns.referral import DEEP_LINK_PREFIX
from campaigns.services.access import remember_buttons
from campaigns.services.invite_links import (
    Choice,
    InviteCard,
    LinkRefused,
    Picked,
    Where,
    invite_numbers,
    personal_link,
    revoke_member_link,
)
from handlers.callbacks import ChooserButton, ChooserVerb, callback_button, tapped
from handlers.deps import Ack
from handlers.extract import chat_info, is_group, member_sender, person, replied_person
from handlers.invite_links import TelegramLinks
from handlers.referral_texts import ReferralTexts
from handlers.use_case import Call, in_group, is_admin, use_case

RIGHTS_NOTICE_EVERY = 3600.0
SHOWN = 20  # buttons on the chooser


@use_case(ReferralTexts)
async def invite_command(call: Call[ReferralTexts]) -> None:
    """The member's personal link (made once, reused); `/invite revoke` for admins."""
    message = call.update.effective_message
    if message is None or call.person is None:
        return
    if call.args and call.args[0].lower() == "revoke":
        await _revoke(call, message, call.args[1:])
    elif not is_group(message.chat) or member_sender(message):  # a person, not a bot or channel
        await _card(call, asked_in(call))


@use_case(ReferralTexts)
async def invites_command(call: Call[ReferralTexts]) -> None:
    """The caller's confirmed, pending, left and rejected invites, with reasons."""
    if call.user_id is not None:
        await _numbers(call, asked_in(call))


@use_case(ReferralTexts)
async def on_choose(call: Call[ReferralTexts]) -> None:
    """A group button from the private chooser: the card or the numbers for that group."""
    button = tapped(call.update, ChooserButton)
    if button is None or call.person is None:
        return
    where = Picked(button.chat_id, call.tap)
    if button.verb is ChooserVerb.INVITE:
        await _card(call, where)
    else:
        await _numbers(call, where)


def asked_in(call: Call[ReferralTexts]) -> ChatInfo | None:
    """The group a command was sent in; None in a private chat (the member picks there)."""
    chat = call.update.effective_chat
    return chat_info(chat) if chat is not None and is_group(chat) else None


async def _card(call: Call[ReferralTexts], where: Where) -> None:
    """The member's card, or the groups to pick from."""
    d, me = call.deps, call.person
    assert me is not None
    try:
        got = await personal_link(
            d.uow, TelegramLinks(call.context.bot), where=where, person=me, update=call.key,
            at=call.at, defaults=d.defaults,
        )  # fmt: skip
    except LinkRefused as refused:
        await _no_invite_right(call, refused, from_private=not isinstance(where, ChatInfo))
        return
    await call.alert()
    if isinstance(got, Choice):
        await _chooser(call, got, ChooserVerb.INVITE)
    else:
        await _show(call, got)


async def _no_invite_right(
    call: Call[ReferralTexts], refused: LinkRefused, *, from_private: bool
) -> None:
    """The member is told which right the bot lacks (a message, even after a tap); from a
    private chat the group's admins are asked for it too."""
    assert call.person is not None
    await call.alert()
    await call.reply(call.t.no_invite_right(refused.title))
    if from_private:
        await _ask_admins(call, refused.chat_id, call.person.display_name)


async def _show(call: Call[ReferralTexts], card: InviteCard) -> None:
    """The card: the member's link, the bot link to share, how friends count, progress."""
    assert call.person is not None
    deep = f"https://t.me/{call.context.bot.username}?start={DEEP_LINK_PREFIX}{card.code}"
    said, message = call.t.card(call.person.display_name, card, deep), call.update.message
    if message is None or not is_group(message.chat):  # a tap, or a private chat
        await call.reply(said)
        return
    line = call.t.card_line(call.person.display_name, card)  # in a rush, a line; detail aside
    ack = Ack(call.person.user_id, said, line, message.id, private=said)
    await call.deps.acks.add(message.chat.id, ack)


async def _numbers(call: Call[ReferralTexts], where: Where) -> None:
    """The member's invite numbers, or the groups to pick from."""
    assert call.user_id is not None
    got = await invite_numbers(
        call.deps.uow, where=where, user_id=call.user_id, update=call.key, at=call.at
    )
    await call.alert()
    if isinstance(got, Choice):
        await _chooser(call, got, ChooserVerb.INVITES)
    else:
        await call.reply(call.t.summary(got))


async def _chooser(call: Call[ReferralTexts], choice: Choice, verb: ChooserVerb) -> None:
    """A button per group; taps are honoured on this message only, by this member only."""
    message, user_id = call.update.effective_message, call.user_id
    assert message is not None and user_id is not None
    buttons = [
        [callback_button(g.title or str(g.chat_id), ChooserButton(verb, g.chat_id))]
        for g in choice.groups[:SHOWN]
    ]
    sent = await message.reply_text(
        call.t.choose_group(), reply_markup=InlineKeyboardMarkup(buttons)
    )
    await remember_buttons(
        call.deps.uow(), kind=ButtonKind.CHOOSER, object_id=user_id, chat_id=sent.chat_id,
        message_id=sent.message_id, at=call.at,
    )  # fmt: skip


async def _ask_admins(call: Call[ReferralTexts], chat_id: int, name: str) -> None:
    """Ask the group's admins for the invite right, at most once an hour per group."""
    d, now = call.deps, time.monotonic()
    if d.rights_noticed.get(chat_id, 0.0) > now:
        return
    d.rights_noticed[chat_id] = now + RIGHTS_NOTICE_EVERY
    t = ReferralTexts((await d.settings_of(chat_id)).language)
    with contextlib.suppress(TelegramError):
        await call.context.bot.send_message(chat_id, t.no_invite_right_admins(name))


async def _revoke(call: Call[ReferralTexts], message: Message, args: list[str]) -> None:
    """`/invite revoke` replying to the member's message, or with their user id (admins)."""
    chat = in_group(call.update)
    if not await is_admin(call.update, call.context):
        raise AccessDenied(Denied.ADMIN_COMMAND)
    target = revoke_target(message, args)
    if target is None:
        await call.reply(call.t.revoke_usage())
        return
    owner_id, name = target
    link = await revoke_member_link(
        call.deps.uow(), TelegramLinks(call.context.bot), chat_id=chat.id, owner_id=owner_id,
        at=call.at,
    )  # fmt: skip
    await call.reply(call.t.revoked(name) if link else call.t.no_link_to_revoke(name))


def revoke_target(message: Message, args: list[str]) -> tuple[int, str] | None:
    """Whose link: the author of the replied-to message (replied_person), else the id given."""
    target = replied_person(message)
    if target is not None:
        return target.id, person(target).display_name
    if args and (owner := parse_id(args[0])) is not None:
        return owner, args[0]
    return None
