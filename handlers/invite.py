"""/invite and /invites: a member's personal link and their invite numbers."""

from __future__ import annotations

import contextlib
import logging
import time
from dataclasses import replace

from telegram import InlineKeyboardMarkup, Update
from telegram.error import BadRequest, Forbidden, TelegramError

from campaigns.access import AccessDenied, ButtonKind, Denied, parse_id
from campaigns.errors import UnknownChat
from campaigns.members import Person
from campaigns.referral import DEEP_LINK_PREFIX, link_name
from campaigns.services.access import remember_buttons
from campaigns.services.invite_links import (
    chosen_group,
    groups_of,
    invite_card,
    revoke_member_link,
    save_member_link,
)
from campaigns.services.referral_reports import my_invites
from handlers.callbacks import ChooserButton, ChooserVerb, callback_button, tapped
from handlers.deps import deps
from handlers.extract import (
    Context,
    chat_info,
    is_group,
    member_sender,
    person,
    reply,
    sent_at,
    tap_of,
)
from handlers.invite_links import reachable
from handlers.referral_texts import ReferralTexts, referral_texts_for
from handlers.use_case import Call, is_admin, use_case

log = logging.getLogger(__name__)
RIGHTS_NOTICE_EVERY = 3600.0


@use_case(ReferralTexts)
async def invite_command(call: Call[ReferralTexts]) -> None:
    """The member's personal link (made once, reused); `/invite revoke` for admins."""
    update, context = call.update, call.context
    t, chat, user = (
        await referral_texts_for(update, context),
        update.effective_chat,
        update.effective_user,
    )
    message = update.effective_message
    if chat is None or user is None or message is None:
        return
    args = context.args or []
    if args and args[0].lower() == "revoke":
        await _revoke(update, context, t, args[1:])
        return
    if is_group(chat):
        if member_sender(message):
            await _send_card(update, context, t, chat.id, in_group=True)
        return
    await _choose_group(update, context, t, ChooserVerb.INVITE)


@use_case(ReferralTexts)
async def invites_command(call: Call[ReferralTexts]) -> None:
    """The caller's confirmed, pending, left and rejected invites, with reasons."""
    update, context = call.update, call.context
    t, chat = await referral_texts_for(update, context), update.effective_chat
    if chat is None or update.effective_user is None:
        return
    if is_group(chat):
        await _send_summary(update, context, t, chat.id)
        return
    await _choose_group(update, context, t, ChooserVerb.INVITES)


async def _choose_group(
    update: Update, context: Context, t: ReferralTexts, action: ChooserVerb
) -> None:
    """In a private chat: act on the only group, or offer a button per group."""
    user = update.effective_user
    assert user is not None
    await reachable(context, user)
    groups = await groups_of(deps(context).uow(), user.id)
    if not groups:
        await reply(update, t.no_groups())
    elif len(groups) == 1 and action is ChooserVerb.INVITE:
        await _send_card(update, context, t, groups[0].chat_id, in_group=False)
    elif len(groups) == 1:
        await _send_summary(update, context, t, groups[0].chat_id)
    else:
        buttons = [
            [callback_button(g.title or str(g.chat_id), ChooserButton(action, g.chat_id))]
            for g in groups[:20]
        ]
        message = update.effective_message
        assert message is not None
        sent = await message.reply_text(
            t.choose_group(), reply_markup=InlineKeyboardMarkup(buttons)
        )
        await remember_buttons(
            deps(context).uow(),
            kind=ButtonKind.CHOOSER,
            object_id=user.id,
            chat_id=sent.chat_id,
            message_id=sent.message_id,
            at=sent_at(update),
        )


@use_case(ReferralTexts)
async def on_choose(call: Call[ReferralTexts]) -> None:
    """A group button from the private chooser."""
    update, context = call.update, call.context
    query, user = update.callback_query, update.effective_user
    button = tapped(update, ChooserButton)
    if query is None or user is None or button is None:
        return
    chat_id = button.chat_id
    t = await referral_texts_for(update, context)
    try:
        await chosen_group(
            deps(context).uow(), user_id=user.id, chat_id=chat_id, tap=tap_of(update)
        )
    except AccessDenied as denied:
        wrong = denied.reason is Denied.WRONG_MESSAGE
        await query.answer(t.access_denied(denied) if wrong else t.no_groups(), True)
        return
    await query.answer()
    if button.verb is ChooserVerb.INVITE:
        await _send_card(update, context, t, chat_id, in_group=False)
    else:
        await _send_summary(update, context, t, chat_id)


async def _send_card(
    update: Update, context: Context, t: ReferralTexts, chat_id: int, *, in_group: bool
) -> None:
    d, user = deps(context), update.effective_user
    chat = update.effective_chat
    assert user is not None and chat is not None
    me = person(user)
    at = sent_at(update, d.clock)
    try:
        card = await invite_card(
            d.uow(),
            bot_id=context.bot.id,
            update_id=update.update_id,
            chat_id=chat_id,
            chat=chat_info(chat) if in_group else None,
            person=me,
            at=at,
            defaults=d.defaults,
        )
    except UnknownChat:
        await reply(update, t.no_groups())
        return
    if card.link is None:
        try:
            created = await context.bot.create_chat_invite_link(
                chat_id,
                name=link_name(me.user_id, me.display_name),
                creates_join_request=card.program.approval,
            )
        except (BadRequest, Forbidden) as error:
            log.info("cannot create an invite link in %s: %s", chat_id, error)
            await reply(update, t.no_invite_right(card.chat_title))
            if not in_group:
                await _tell_admins(context, chat_id, card.language, me)
            return
        link, fresh = await save_member_link(
            d.uow(),
            chat_pk=card.chat_pk,
            owner_id=me.user_id,
            url=created.invite_link,
            name=created.name or "",
            creates_join_request=card.program.approval,
            at=at,
        )
        if not fresh:  # a concurrent /invite stored its link first: retire ours
            with contextlib.suppress(TelegramError):
                await context.bot.revoke_chat_invite_link(chat_id, created.invite_link)
        card = replace(card, link=link)
    deep = f"https://t.me/{context.bot.username}?start={DEEP_LINK_PREFIX}{card.code}"
    await reply(update, t.card(me.display_name, card, deep))


async def _tell_admins(context: Context, chat_id: int, language: str, who: Person) -> None:
    """Ask the group's admins for the invite right, at most once an hour per group."""
    d = deps(context)
    now = time.monotonic()
    if d.rights_noticed.get(chat_id, 0.0) > now:
        return
    d.rights_noticed[chat_id] = now + RIGHTS_NOTICE_EVERY
    with contextlib.suppress(TelegramError):
        await context.bot.send_message(
            chat_id, ReferralTexts(language).no_invite_right_admins(who.display_name)
        )


async def _revoke(update: Update, context: Context, t: ReferralTexts, args: list[str]) -> None:
    chat, message = update.effective_chat, update.effective_message
    assert chat is not None and message is not None
    if not is_group(chat):
        await reply(update, t.group_only())
        return
    if not await is_admin(update, context):
        await reply(update, t.admins_only())
        return
    target = message.reply_to_message.from_user if message.reply_to_message else None
    if target is not None and not target.is_bot:
        owner_id, name = target.id, person(target).display_name
    elif args and (owner := parse_id(args[0])) is not None:
        owner_id, name = owner, args[0]
    else:
        await reply(update, t.revoke_usage())
        return
    try:
        link = await revoke_member_link(
            deps(context).uow(), chat_id=chat.id, owner_id=owner_id, at=sent_at(update)
        )
    except UnknownChat:
        link = None
    if link is None:
        await reply(update, t.no_link_to_revoke(name))
        return
    with contextlib.suppress(TelegramError):
        await context.bot.revoke_chat_invite_link(chat.id, link.url)
    await reply(update, t.revoked(name))


async def _send_summary(update: Update, context: Context, t: ReferralTexts, chat_id: int) -> None:
    user = update.effective_user
    assert user is not None
    try:
        summary = await my_invites(
            deps(context).uow(),
            bot_id=context.bot.id,
            update_id=update.update_id,
            chat_id=chat_id,
            user_id=user.id,
            at=sent_at(update, deps(context).clock),
        )
    except UnknownChat:
        await reply(update, t.not_registered())
        return
    program = (await deps(context).settings_of(chat_id)).referral
    await reply(update, t.summary(summary, program.require_activity))
