"""Member tracking: the bot's own membership, joins, leaves, migrations, and every message."""

from __future__ import annotations

import contextlib

from telegram import ChatMember, ChatMemberUpdated, Message, Update
from telegram.error import TelegramError

from campaigns.errors import DuplicateUpdate
from campaigns.members import ADMIN_STATUSES, BotStanding, MemberStatus, Person, is_present
from campaigns.ports.members import MessageSeen
from campaigns.services.chats import BotMembership, bot_membership_changed, migrate_chat
from campaigns.services.members import member_changed, membership_changed
from campaigns.settings import language_for
from handlers.captcha import after_presence, unmuted_by_admin
from handlers.deps import Context, Deps, deps
from handlers.extract import chat_info, member_sender, message_kind, person, sent_at
from handlers.invite_links import link_seen
from handlers.member_texts import MemberTexts
from handlers.notify import send_notices, send_private


async def on_bot_membership(update: Update, context: Context) -> None:
    """my_chat_member: added, promoted or removed; registers or deactivates the group."""
    change, d = update.my_chat_member, deps(context)
    if change is None:
        return
    d.admins.forget(change.chat.id)
    try:
        seen = await bot_membership_changed(
            d.uow(), bot_id=context.bot.id, update_id=update.update_id,
            chat=chat_info(change.chat), old_status=change.old_chat_member.status,
            standing=standing(change.new_chat_member), actor_id=change.from_user.id,
            owner_ids=d.owner_ids, at=sent_at(update), defaults=d.defaults,
        )  # fmt: skip
    except DuplicateUpdate:
        return
    await say_setup(context, change, seen)
    await warn_lost(context, d, change, seen)


def standing(member: ChatMember) -> BotStanding:
    """The bot's status and the rights it was given, as Telegram reports them."""
    return BotStanding(
        member.status,
        can_invite=bool(getattr(member, "can_invite_users", False)),
        can_pin=bool(getattr(member, "can_pin_messages", False)),
        can_delete=bool(getattr(member, "can_delete_messages", False)),
        is_member=getattr(member, "is_member", None),
    )


async def say_setup(context: Context, change: ChatMemberUpdated, seen: BotMembership) -> None:
    """Added or promoted: the chat id for the CLI and what is still missing, in the group."""
    if seen.missing is None:
        return
    text = MemberTexts(seen.group.settings.language).bot_setup(change.chat.id, seen.missing)
    with contextlib.suppress(TelegramError):
        await context.bot.send_message(change.chat.id, text)


async def warn_lost(
    context: Context, d: Deps, change: ChatMemberUpdated, seen: BotMembership
) -> None:
    """Removed or demoted: each person is told privately (at most once a day per group) in
    their own language, as far as the bot knows it, else the group's."""
    if not seen.lost or not d.once_a_day(("lost", change.chat.id)):
        return
    group_language, status = seen.group.settings.language, change.new_chat_member.status
    for admin, code in seen.warn:
        said = MemberTexts(language_for(code, group_language)).bot_lost(change.chat.title, status)
        await send_private(context.bot, d, admin, said)


async def on_member_update(update: Update, context: Context) -> None:
    """chat_member: joins, leaves, bans and promotions (arrive only while the bot is admin)."""
    change, d = update.chat_member, deps(context)
    if change is None:
        return
    new = change.new_chat_member
    forget_stale(d, change)
    try:
        result = await member_changed(
            d.uow(), bot_id=context.bot.id, update_id=update.update_id, at=sent_at(update),
            chat=chat_info(change.chat), person=person(new.user), is_bot=new.user.is_bot,
            status=new.status, is_member=getattr(new, "is_member", None), defaults=d.defaults,
            link=link_seen(change.invite_link, context.bot.id), by_request=by_request(change),
            exempt=d.gate(context.bot).owner_ids,
        )  # fmt: skip
    except DuplicateUpdate:
        return
    await send_notices(context.bot, d, result.notices)
    await after_presence(context.bot, d, change.chat, result)
    await unmuted_by_admin(context.bot, d, change)


def by_request(change: ChatMemberUpdated) -> bool:
    """Telegram says the join came through a join request (directly, or a link that asks)."""
    link = change.invite_link
    return bool(change.via_join_request) or (link is not None and link.creates_join_request)


def forget_stale(d: Deps, change: ChatMemberUpdated) -> None:
    """Cached answers the change makes wrong: the group's admins, the person's presence."""
    old, new = change.old_chat_member, change.new_chat_member
    if old.status in ADMIN_STATUSES or new.status in ADMIN_STATUSES:
        d.admins.forget(change.chat.id)
    if not is_present(new.status, getattr(new, "is_member", None)):
        d.forget_member(change.chat.id, new.user.id)


async def on_service_join_or_leave(update: Update, context: Context) -> None:
    """new_chat_members / left_chat_member service messages; counted once with chat_member."""
    message, d = update.effective_message, deps(context)
    said = joined_or_left(message) if message is not None else None
    if message is None or said is None:
        return
    people, status, present = said
    try:
        result = await membership_changed(
            d.uow(), bot_id=context.bot.id, update_id=update.update_id,
            chat=chat_info(message.chat), people=people, status=status, present=present,
            at=sent_at(update), source="service_message", defaults=d.defaults,
            exempt=d.gate(context.bot).owner_ids,
        )  # fmt: skip
    except DuplicateUpdate:
        return
    await send_notices(context.bot, d, result.notices)
    await after_presence(context.bot, d, message.chat, result)


def joined_or_left(message: Message) -> tuple[list[Person], str, bool] | None:
    """The people a service message says joined (present) or left; bots are no members."""
    joined = [person(u) for u in message.new_chat_members if not u.is_bot]
    left = message.left_chat_member
    if joined:
        return joined, MemberStatus.MEMBER, True
    if left is not None and not left.is_bot:
        return [person(left)], MemberStatus.LEFT, False
    return None


async def on_migrate(update: Update, context: Context) -> None:
    """A group became a supergroup: its data, and its messages still buffered, follow it."""
    message, d = update.effective_message, deps(context)
    ids = migration(message) if message is not None else None
    if ids is None:
        return
    old, new = ids
    async with d.buffer.moving(old, new):
        try:
            await migrate_chat(
                d.uow(), bot_id=context.bot.id, update_id=update.update_id, old_chat_id=old,
                new_chat_id=new, at=sent_at(update),
            )  # fmt: skip
        except DuplicateUpdate:
            return
    d.admins.forget(old)


def migration(message: Message) -> tuple[int, int] | None:
    """(old, new) chat ids, from either of the two service messages a migration sends."""
    if message.migrate_to_chat_id:
        return message.chat.id, message.migrate_to_chat_id
    if message.migrate_from_chat_id:
        return message.migrate_from_chat_id, message.chat.id
    return None


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
