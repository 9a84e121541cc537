"""Order keeping (保持社群秩序): anti-spam and flood control on every group message, /warn,
/warns, /unwarn, /modlog and its ↩️ undo buttons.

Anti-spam runs before the activity tracker. An ordinary message costs a settings lookup
(cached) and the in-memory windows; only a message a rule catches goes further. A message
it deletes stops there: it is not counted as activity and no command in it runs.

A moderation call Telegram refuses for a missing right (the bot may not delete messages, or
restrict members) is told to the group's admins privately, at most once per right and day
per group, naming the right to grant.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Iterable
from typing import Any

from telegram import Bot, InlineKeyboardMarkup, Message, MessageOriginChannel, Update
from telegram.error import TelegramError
from telegram.ext import ApplicationHandlerStop

from campaigns.errors import DuplicateUpdate
from campaigns.members import Person
from campaigns.moderation import ModRight, NotAMemberTarget, Posted, Verdict, parse_reason
from campaigns.services.moderation import (
    ModLog,
    Outcome,
    enforce,
    judge,
    member_warnings,
    mod_log,
    remember_log,
    undo_action,
    unwarn,
    warn_member,
)
from campaigns.settings import language_for
from handlers.callbacks import ModLogButton, callback_button, tapped
from handlers.deps import Ack, Context, Deps, deps
from handlers.extract import (
    MEDIA,
    chat_info,
    is_group,
    member_sender,
    person,
    replied_person,
    sent_at,
)
from handlers.moderation_texts import ModerationTexts
from handlers.moderator import TelegramModerator
from handlers.notify import send_private, send_private_message, tell_admins
from handlers.use_case import Call, is_admin, use_case

SPAM_MEDIA = tuple(m for m in MEDIA if m not in {"poll", "location", "contact", "dice"})


async def guard_message(update: Update, context: Context) -> None:
    """Every member message in a group, and every edit of one (a link edited into an
    innocent message is still a link), while the group's anti-spam is on: a verdict from
    the rules, carried out on anyone but an admin; a deleted message goes no further."""
    message, d = update.message or update.edited_message, deps(context)
    if message is None or message.from_user is None or not member_sender(message):
        return
    rules = (await d.settings_of(message.chat.id)).moderation
    if not rules.antispam:
        return
    verdict = await judge(d.uow(), d.watch, posted(update, message), rules)
    if verdict is not None and await _carry_out(update, context, message, verdict):
        raise ApplicationHandlerStop


async def _carry_out(update: Update, context: Context, message: Message, verdict: Verdict) -> bool:
    """The verdict carried out and announced; whether the message was deleted (then it goes
    no further). A redelivery stops where its first delivery did; an admin is never touched."""
    d = deps(context)
    assert message.from_user is not None
    try:
        outcome = await enforce(
            d.uow(), TelegramModerator(context.bot), d.gate(context.bot), bot_id=context.bot.id,
            update_id=update.update_id, chat=chat_info(message.chat),
            person=person(message.from_user), message_id=message.message_id, verdict=verdict,
            now=d.clock(), defaults=d.defaults,
        )  # fmt: skip
    except DuplicateUpdate:
        return verdict.delete
    if outcome is None:
        return False
    await announce(context.bot, d, outcome)
    return outcome.deleted


def posted(update: Update, message: Message) -> Posted:
    """What anti-spam reads of a message: its text or caption, its entities' types, whether
    a channel's post was forwarded, whether it carries media."""
    assert message.from_user is not None
    return Posted(
        chat_id=message.chat.id,
        user_id=message.from_user.id,
        at=sent_at(update),
        text=message.text or message.caption or "",
        entity_types=tuple(e.type for e in (message.entities or message.caption_entities)),
        channel_forward=isinstance(message.forward_origin, MessageOriginChannel),
        media=any(getattr(message, kind, None) for kind in SPAM_MEDIA),
        edited=update.edited_message is not None,
    )


async def announce(bot: Bot, d: Deps, outcome: Outcome) -> None:
    """The group's short notice (coalesced within its reply budget), the member's private
    note if they started the bot, and the admins' note about a missing right."""
    t = ModerationTexts(outcome.language)
    notice = t.group_notice(outcome)
    await d.acks.add(outcome.chat_id, Ack(outcome.member.user_id, notice, notice))
    await tell_member(bot, d, outcome)
    await tell_missing_rights(bot, d, outcome.chat_id, outcome.title, outcome.missing)


async def tell_member(bot: Bot, d: Deps, outcome: Outcome) -> None:
    """What happened and why, privately in the member's language (if they started the bot)."""
    member = outcome.member
    if member.reachable:
        language = language_for(member.language_code, outcome.language)
        await send_private(
            bot, d, member.user_id, ModerationTexts(language).private_notice(outcome)
        )


async def tell_missing_rights(
    bot: Bot, d: Deps, chat_id: int, title: str | None, rights: Iterable[ModRight]
) -> None:
    """Each missing right, privately to the admins who started the bot, once a day."""
    for right in rights:
        if d.once_a_day(("moderation right", chat_id, right)):
            await tell_admins(bot, d, chat_id, functools.partial(_missing, title, right))


def _missing(title: str | None, right: ModRight, language: str) -> str:
    return ModerationTexts(language).missing_right(title, right)


def reply_target(call: Call[Any]) -> Person | None:
    """The member the command replies to: a person (not a bot, a channel or the anonymous
    admin), and not the start of a forum topic (every message in a topic replies to it)."""
    user = replied_person(call.update.effective_message)
    return None if user is None else person(user)


@use_case(ModerationTexts, admin=True)
async def warn_command(call: Call[ModerationTexts]) -> None:
    """`/warn [reason]` in reply to a member's message (admins); never on an admin."""
    target, admin = reply_target(call), call.person
    if target is None or admin is None or call.chat is None:
        raise NotAMemberTarget()
    d, bot = call.deps, call.context.bot
    outcome = await warn_member(
        d.uow(), TelegramModerator(bot), d.gate(bot), bot_id=bot.id,
        update_id=call.update.update_id, chat=chat_info(call.chat), admin=admin, target=target,
        reason=parse_reason(" ".join(call.words)), now=d.clock(), defaults=d.defaults,
    )  # fmt: skip
    refusals = [call.t.refusal(error) or "" for error in outcome.errors]
    await call.reply("\n".join([call.t.warned(outcome), *refusals]))
    await tell_member(bot, d, outcome)
    await tell_missing_rights(bot, d, outcome.chat_id, outcome.title, outcome.missing)


@use_case(ModerationTexts, group=True)
async def warns_command(call: Call[ModerationTexts]) -> None:
    """`/warns`: your own warnings, or (admins) those of the member you reply to."""
    target, me = reply_target(call), call.person
    assert me is not None  # group=True: a member sent it
    other = target is not None and target.user_id != me.user_id
    if other and not await is_admin(call.update, call.context):
        await call.reply(call.t.others_warnings())
        return
    about = target or me
    found = await member_warnings(call.deps.uow(), chat_id=call.group_id, target=about, now=call.at)
    await call.reply(call.t.warnings(found))


@use_case(ModerationTexts, admin=True)
async def unwarn_command(call: Call[ModerationTexts]) -> None:
    """`/unwarn` in reply to a member's message (admins): their latest warning taken back."""
    target, admin = reply_target(call), call.user_id
    if target is None or admin is None:
        raise NotAMemberTarget()
    left = await unwarn(
        call.deps.uow(), bot_id=call.key[0], update_id=call.key[1], chat_id=call.group_id,
        admin_id=admin, target=target, now=call.deps.clock(),
    )  # fmt: skip
    await call.reply(call.t.unwarned(left))


def log_markup(log: ModLog, t: ModerationTexts) -> InlineKeyboardMarkup | None:
    """One ↩️ button per action that can still be undone."""
    rows = [[callback_button(t.undo_button(a), ModLogButton(a.id))] for a in log.undoable]
    return InlineKeyboardMarkup(rows) if rows else None


@use_case(ModerationTexts, admin=True)
async def modlog_command(call: Call[ModerationTexts]) -> None:
    """`/modlog` (admins): the latest actions with ↩️ buttons, privately when the admin
    started the bot (a note says so in the group), else where it was asked."""
    d = call.deps
    log = await mod_log(d.uow(), chat_id=call.group_id, now=d.clock())
    sent = await _log_privately(call, log)
    message = call.update.effective_message
    if sent is None and message is not None:
        sent = await message.reply_text(call.t.mod_log(log), reply_markup=log_markup(log, call.t))
    if sent is not None:
        await remember_log(
            d.uow(), chat_id=sent.chat_id, message_id=sent.message_id, log=log, at=call.at
        )


async def _log_privately(call: Call[ModerationTexts], log: ModLog) -> Message | None:
    """The log to the admin privately, in their language, with a note in the group; None
    when asked in private or the bot may not write to them."""
    user = call.user
    if not is_group(call.update.effective_chat) or user is None:
        return None
    texts = ModerationTexts(language_for(user.language_code, call.t.language))
    sent = await send_private_message(
        call.context.bot, call.deps, user.id, texts.mod_log(log), log_markup(log, texts)
    )
    if sent is not None:
        await call.reply(call.t.sent_privately())
    return sent


@use_case(ModerationTexts)
async def on_undo(call: Call[ModerationTexts]) -> None:
    """↩️ on a /modlog message: honoured on that message, by an admin of the action's group;
    the log is shown again as it now is."""
    button, user = tapped(call.update, ModLogButton), call.user_id
    if button is None or user is None:
        return
    d, bot = call.deps, call.context.bot
    undone = await undo_action(
        d.uow(), TelegramModerator(bot), d.gate(bot), bot_id=bot.id,
        update_id=call.update.update_id, action_id=button.action_id, tapper=user, tap=call.tap,
        now=d.clock(),
    )  # fmt: skip
    await call.alert(call.t.undone(undone))
    log = await mod_log(d.uow(), chat_id=undone.chat_id, now=d.clock())
    query = call.update.callback_query
    if query is not None:
        with contextlib.suppress(TelegramError):
            await query.edit_message_text(call.t.mod_log(log), reply_markup=log_markup(log, call.t))
        await remember_log(
            d.uow(), chat_id=call.tap.chat_id, message_id=call.tap.message_id, log=log, at=call.at
        )
