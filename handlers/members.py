"""Member tracking: the bot's own membership, joins, leaves, migrations, and every message."""

from __future__ import annotations

import contextlib

from telegram import Update
from telegram.error import TelegramError

from campaigns.errors import DuplicateUpdate
from campaigns.members import (
    ADMIN_STATUSES,
    BotStanding,
    ChatInfo,
    MemberStatus,
    Person,
    is_present,
    lost_standing,
    missing_rights,
)
from campaigns.ports.members import MessageSeen
from campaigns.services.chats import bot_membership_changed, migrate_chat
from campaigns.services.members import contacts_of, membership_changed
from campaigns.services.referral import LinkSeen, bot_joined
from campaigns.settings import language_for
from handlers.deps import deps
from handlers.extract import Context, chat_info, member_sender, message_kind, person, sent_at
from handlers.invite_links import link_seen
from handlers.notify import send_notices, send_private
from handlers.texts import T


async def on_bot_membership(update: Update, context: Context) -> None:
    """my_chat_member: added, promoted or removed; registers or deactivates the group."""
    change = update.my_chat_member
    if change is None:
        return
    d = deps(context)
    d.admins.forget(change.chat.id)
    new = change.new_chat_member
    try:
        record = await bot_membership_changed(
            d.uow(),
            bot_id=context.bot.id,
            update_id=update.update_id,
            chat=chat_info(change.chat),
            status=new.status,
            is_member=getattr(new, "is_member", None),
            at=sent_at(update),
            defaults=d.defaults,
        )
    except DuplicateUpdate:
        return
    t = T(record.settings.language)
    if record.active:  # added or promoted: the chat id for the CLI and what is still missing
        standing = BotStanding(
            new.status,
            can_invite=bool(getattr(new, "can_invite_users", False)),
            can_pin=bool(getattr(new, "can_pin_messages", False)),
            can_delete=bool(getattr(new, "can_delete_messages", False)),
        )
        with contextlib.suppress(TelegramError):
            await context.bot.send_message(
                change.chat.id, t.bot_setup(change.chat.id, missing_rights(standing))
            )
    if lost_standing(change.old_chat_member.status, new.status) and d.once_a_day(
        ("lost", change.chat.id)
    ):
        people = sorted({change.from_user.id, *d.owner_ids} - {context.bot.id})
        known = await contacts_of(d.uow(), user_ids=people)
        for admin in people:  # each in their own language, as far as the bot knows it
            code = known[admin].language_code if admin in known else None
            said = T(language_for(code, t.language)).bot_lost(change.chat.title, new.status)
            await send_private(context.bot, d, admin, said)


async def on_member_update(update: Update, context: Context) -> None:
    """chat_member: joins, leaves, bans and promotions (arrive only while the bot is admin)."""
    change = update.chat_member
    if change is None:
        return
    old, new = change.old_chat_member, change.new_chat_member
    d = deps(context)
    if old.status in ADMIN_STATUSES or new.status in ADMIN_STATUSES:
        d.admins.forget(change.chat.id)
    present = is_present(new.status, getattr(new, "is_member", None))
    if not present:
        d.forget_member(change.chat.id, new.user.id)
    link = link_seen(change.invite_link, context.bot.id)
    if new.user.is_bot:
        if present and link is not None:
            with contextlib.suppress(DuplicateUpdate):
                await bot_joined(
                    d.uow(),
                    bot_id=context.bot.id,
                    update_id=update.update_id,
                    chat=chat_info(change.chat),
                    bot_user=person(new.user),
                    link=link,
                    at=sent_at(update),
                    defaults=d.defaults,
                )
        return
    await _presence(
        update,
        context,
        chat_info(change.chat),
        [person(new.user)],
        new.status,
        present,
        "chat_member",
        link,
    )


async def on_service_join_or_leave(update: Update, context: Context) -> None:
    """new_chat_members / left_chat_member service messages; counted once with chat_member."""
    message = update.effective_message
    if message is None:
        return
    joined = [person(u) for u in message.new_chat_members if not u.is_bot]
    left = message.left_chat_member
    if joined:
        people, status, present = joined, MemberStatus.MEMBER, True
    elif left is not None and not left.is_bot:
        people, status, present = [person(left)], MemberStatus.LEFT, False
    else:
        return
    await _presence(
        update, context, chat_info(message.chat), people, status, present, "service_message"
    )


async def _presence(
    update: Update,
    context: Context,
    chat: ChatInfo,
    people: list[Person],
    status: str,
    present: bool,
    source: str,
    link: LinkSeen | None = None,
) -> None:
    """Both join/leave signals go through one use case, so each transition counts once."""
    d = deps(context)
    try:
        result = await membership_changed(
            d.uow(),
            bot_id=context.bot.id,
            update_id=update.update_id,
            chat=chat,
            people=people,
            status=status,
            present=present,
            at=sent_at(update),
            source=source,
            defaults=d.defaults,
            link=link,
        )
    except DuplicateUpdate:
        return
    if result.notices:
        await send_notices(context.bot, d, result.notices)


async def on_migrate(update: Update, context: Context) -> None:
    """A group became a supergroup: its data, and its messages still buffered, follow it."""
    message = update.effective_message
    if message is None:
        return
    if message.migrate_to_chat_id:
        old, new = message.chat.id, message.migrate_to_chat_id
    elif message.migrate_from_chat_id:
        old, new = message.migrate_from_chat_id, message.chat.id
    else:
        return
    d = deps(context)
    async with d.buffer.moving(old, new):
        try:
            await migrate_chat(
                d.uow(),
                bot_id=context.bot.id,
                update_id=update.update_id,
                old_chat_id=old,
                new_chat_id=new,
                at=sent_at(update),
            )
        except DuplicateUpdate:
            return
    d.admins.forget(old)


async def track_message(update: Update, context: Context) -> None:
    """Every member message in a group is one activity event (kind only, never the text)."""
    message = update.message
    if message is None or not member_sender(message) or message.from_user is None:
        return
    await deps(context).buffer.add(
        MessageSeen(
            update_id=update.update_id,
            chat=chat_info(message.chat),
            person=person(message.from_user),
            at=sent_at(update),
            kind=message_kind(message),
        )
    )
