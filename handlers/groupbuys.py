"""Group-buys in chat: the deal post's buttons, team cards kept current, expiry notices."""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
from collections.abc import Callable, Sequence

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, InputFile, Update
from telegram.error import TelegramError

from campaigns.access import AccessDenied, parse_id
from campaigns.coupons import parse_amount
from campaigns.errors import UnknownChat
from campaigns.groupbuy import DealInputError, GroupBuyRefused, Refusal, TeamStatus, parse_deal
from campaigns.ports import DealRecord, UnitOfWork
from campaigns.referral import DEEP_LINK_PREFIX
from campaigns.services.groupbuys import (
    TeamView,
    create_deal,
    deal_of,
    deal_photo,
    deal_progress,
    end_deal,
    group_deals,
    join_any,
    join_team,
    leave_team,
    remember_deal_post,
    remember_team_card,
    start_team,
    team_share,
)
from campaigns.settings import language_for
from handlers.callbacks import GroupBuyButton, GroupBuyVerb, callback_button, tapped
from handlers.deps import Deps, deps
from handlers.extract import Context, person, reply, sent_at, tap_of
from handlers.groupbuy_texts import GroupBuyTexts, groupbuy_texts_for
from handlers.invite_links import start_referral
from handlers.notify import send_private
from handlers.use_case import Call, admin_group, use_case

TEAM_PREFIX = "team_"
ALERT_LIMIT = 200
log = logging.getLogger(__name__)


def deal_markup(d: DealRecord, t: GroupBuyTexts) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [
            [
                callback_button(t.start_button(), GroupBuyButton(GroupBuyVerb.START, d.id)),
                callback_button(t.join_any_button(), GroupBuyButton(GroupBuyVerb.JOIN_ANY, d.id)),
            ]
        ]
    )


def team_markup(
    v: TeamView, t: GroupBuyTexts, bot_username: str | None = None
) -> InlineKeyboardMarkup | None:
    """➕ Join and Leave; in the group also 🔗 Share, a link friends open in a private chat."""
    if v.team.status is not TeamStatus.OPEN:
        return None
    rows = [
        [
            callback_button(t.join_button(), GroupBuyButton(GroupBuyVerb.JOIN, v.team.id)),
            callback_button(t.leave_button(), GroupBuyButton(GroupBuyVerb.LEAVE, v.team.id)),
        ]
    ]
    if bot_username and v.team.share_token:
        url = f"https://t.me/{bot_username}?start={TEAM_PREFIX}{v.team.share_token}"
        rows.append([InlineKeyboardButton(t.share_button(), url=url)])
    return InlineKeyboardMarkup(rows)


@use_case(GroupBuyTexts)
async def on_button(call: Call[GroupBuyTexts]) -> None:
    """🚀 start, ➕ join or leave; answered in an alert, the team card kept current."""
    update, context = call.update, call.context
    query, user = update.callback_query, update.effective_user
    button = tapped(update, GroupBuyButton)
    if query is None or user is None or button is None:
        return
    action, target = button.verb, button.target
    t, d = await groupbuy_texts_for(update, context), deps(context)
    bot_id, update_id, at = context.bot.id, update.update_id, sent_at(update, d.clock)
    tap = tap_of(update)
    gate, member = d.gate(context.bot), person(user)
    try:
        if action in {GroupBuyVerb.START, GroupBuyVerb.JOIN_ANY}:
            use_case = start_team if action is GroupBuyVerb.START else join_any
            view = await use_case(
                d.uow(), gate=gate, bot_id=bot_id, update_id=update_id, deal_id=target,
                person=member, tap=tap, at=at,
            )  # fmt: skip
        elif action is GroupBuyVerb.JOIN:
            view = await join_team(
                d.uow(), gate=gate, bot_id=bot_id, update_id=update_id, team_id=target,
                person=member, tap=tap, at=at,
            )  # fmt: skip
        else:
            view = await leave_team(
                d.uow(), bot_id=bot_id, update_id=update_id, team_id=target, user_id=user.id,
                tap=tap, at=at,
            )  # fmt: skip
    except AccessDenied as denied:
        await query.answer(t.access_denied(denied)[:ALERT_LIMIT], show_alert=True)
        return
    except GroupBuyRefused as refused:
        await query.answer(t.refused(refused.reason)[:ALERT_LIMIT], show_alert=True)
        return
    left = action is GroupBuyVerb.LEAVE
    answer = t.left_team() if left else t.joined(view)
    await query.answer(answer[:ALERT_LIMIT], show_alert=not left)
    await show_team(context.bot, d, view, t, new=action is GroupBuyVerb.START)
    await d.deal_posts.refresh(view.deal.id)
    if view.coupons:
        await _send_coupons(context.bot, d, view, t.language)


async def show_team(
    bot: Bot,
    d: Deps,
    view: TeamView,
    t: GroupBuyTexts,
    *,
    new: bool,
    now: dt.datetime | None = None,
) -> None:
    """Post a new team's card, or edit it in place (one edit per change keeps within limits)."""
    now = now or d.clock()
    text, markup = t.team_card(view, now), team_markup(view, t, bot.username)
    try:
        if new or view.team.message_id is None:
            sent = await bot.send_message(view.chat_id, text, reply_markup=markup)
            await remember_team_card(
                d.uow(),
                team_id=view.team.id,
                chat_id=view.chat_id,
                message_id=sent.message_id,
                at=now,
                in_group=True,
            )
        elif d.shown.get((view.chat_id, view.team.message_id)) != text:
            await bot.edit_message_text(
                text, chat_id=view.chat_id, message_id=view.team.message_id, reply_markup=markup
            )
            d.shown[(view.chat_id, view.team.message_id)] = text
    except TelegramError as error:
        log.warning("team card %s not updated: %s", view.team.id, error)


async def _send_coupons(bot: Bot, d: Deps, view: TeamView, group_language: str) -> None:
    for member in view.members:
        issued = view.coupons.get(member.user_id)
        if issued is None:
            continue
        t = GroupBuyTexts(language_for(member.language_code, group_language))
        await send_private(bot, d, member.user_id, t.completed_dm(view, issued.code))


async def announce_expired(bot: Bot, d: Deps, views: Sequence[TeamView]) -> None:
    """After the expiry sweep: edit each card and tell its members."""
    for view in views:
        group = (await d.settings_of(view.chat_id)).language
        await show_team(bot, d, view, GroupBuyTexts(group), new=False)
        for member in view.members:
            t = GroupBuyTexts(language_for(member.language_code, group))
            await send_private(bot, d, member.user_id, t.expired_dm(view))


@use_case(GroupBuyTexts)
async def groupbuy_command(call: Call[GroupBuyTexts]) -> None:
    """`/groupbuy new|post|list|end …` (admins): create, post, list and end deals."""
    update, context = call.update, call.context
    t = await groupbuy_texts_for(update, context)
    chat = await admin_group(update, context)
    if chat is None:
        return
    args, d, at = context.args or [], deps(context), sent_at(update)
    verb = args[0].lower() if args else ""
    deal_id = parse_id(args[1]) if len(args) == 2 else None
    try:
        if verb == "new":
            deal = await _new_deal(update, context, chat.id, args[1:])
        elif verb == "list":
            await reply(update, t.deal_list(await group_deals(d.uow(), chat_id=chat.id, at=at)))
            return
        elif verb == "end" and deal_id is not None:
            ended = await end_deal(d.uow(), chat_id=chat.id, deal_id=deal_id, at=at)
            await reply(update, t.deal_ended_early(ended))
            return
        elif verb == "post" and deal_id is not None:
            deal = await deal_of(
                d.uow(), chat_id=chat.id, deal_id=deal_id, at=at,
                update=(context.bot.id, update.update_id),
            )  # fmt: skip
        else:
            await reply(update, t.groupbuy_usage())
            return
    except DealInputError as error:
        await reply(update, t.deal_input_refused(error.field))
        return
    except (UnknownChat, GroupBuyRefused) as error:
        reason = error.reason if isinstance(error, GroupBuyRefused) else Refusal.UNKNOWN
        await reply(update, t.refused(reason, deal_id))
        return
    g = GroupBuyTexts((await d.settings_of(chat.id)).language)  # the group's, from anywhere
    try:
        await post_deal(context.bot, d.uow, deal, g, chat_id=chat.id, now=at)
    except TelegramError as error:
        log.warning("deal %s not posted: %s", deal.id, error)


async def post_deal(
    bot: Bot,
    uow: Callable[[], UnitOfWork],
    d: DealRecord,
    t: GroupBuyTexts,
    *,
    chat_id: int,
    now: dt.datetime,
) -> int:
    """Send the deal post (a photo with a caption if the deal has one); its message id.

    The photo is uploaded the first time only: Telegram's file id is kept for later posts.
    """
    text, markup = t.deal_post(d, now), deal_markup(d, t)
    file_id = None
    if d.photo_name is None:
        sent = await bot.send_message(chat_id, text, reply_markup=markup)
    else:
        photo: str | InputFile = d.photo_file_id or InputFile(
            await deal_photo(uow(), deal_id=d.id) or b"", filename=d.photo_name
        )
        sent = await bot.send_photo(chat_id, photo, caption=text, reply_markup=markup)
        file_id = sent.photo[-1].file_id if sent.photo else None
    await remember_deal_post(
        uow(),
        deal_id=d.id,
        chat_id=chat_id,
        message_id=sent.message_id,
        at=now,
        photo_file_id=file_id,
    )
    return sent.message_id


async def _edit_post(
    bot: Bot, d: DealRecord, chat_id: int, text: str, markup: InlineKeyboardMarkup | None
) -> None:
    """A photo post's text is its caption, edited with its own method."""
    assert d.message_id is not None
    if d.photo_name is not None:
        await bot.edit_message_caption(
            chat_id=chat_id, message_id=d.message_id, caption=text, reply_markup=markup
        )
    else:
        await bot.edit_message_text(
            text, chat_id=chat_id, message_id=d.message_id, reply_markup=markup
        )


async def _new_deal(update: Update, context: Context, chat_id: int, args: list[str]) -> DealRecord:
    """`/groupbuy new <size> <price> <group price> <minutes per team> <hours> <title…>`."""
    at = sent_at(update)
    return await create_deal(
        deps(context).uow(),
        chat_id=chat_id,
        deal=parse_deal(args, at, parse_amount),
        description=None,
        at=at,
        update=(context.bot.id, update.update_id),
    )


async def start_team_share(update: Update, context: Context, payload: str) -> bool:
    """`/start team_<id>`: a friend opened a team's share link in a private chat.

    They get the leader's referral welcome (a one-use join link if they are not in the
    group yet, credited to the leader) and the team card with its ➕ Join button.
    """
    if not payload.startswith(TEAM_PREFIX):
        return False
    t, at, d = await groupbuy_texts_for(update, context), sent_at(update), deps(context)
    try:
        view, code = await team_share(d.uow(), token=payload[len(TEAM_PREFIX) :], at=at)
    except GroupBuyRefused as refused:
        await reply(update, t.refused(refused.reason))
        return True
    await start_referral(update, context, f"{DEEP_LINK_PREFIX}{code}")
    message = update.effective_message
    if message is not None:
        card = await message.reply_text(t.team_card(view, at), reply_markup=team_markup(view, t))
        await remember_team_card(
            d.uow(),
            team_id=view.team.id,
            chat_id=card.chat_id,
            message_id=card.message_id,
            at=at,
            in_group=False,
        )
    return True


async def edit_deal_post(bot: Bot, d: Deps, deal_id: int, now: dt.datetime | None = None) -> None:
    """Show the deal post's current counts, unless it already shows them (the deal-post
    worker in bot/ decides when; this only renders)."""
    deal, counts, chat_id = await deal_progress(d.uow(), deal_id=deal_id)
    if deal.message_id is None:
        return
    t = GroupBuyTexts((await d.settings_of(chat_id)).language)
    text = "\n".join([t.deal_post(deal, now or d.clock()), t.deal_progress(counts)])
    if d.shown.get((chat_id, deal.message_id)) == text:
        return
    with contextlib.suppress(TelegramError):
        await _edit_post(bot, deal, chat_id, text, deal_markup(deal, t))
        d.shown[(chat_id, deal.message_id)] = text


async def announce_ended(
    bot: Bot, d: Deps, ended: Sequence[tuple[DealRecord, dict[TeamStatus, int], int]]
) -> None:
    """Mark ended deals' posts: the result instead of the 🚀 button."""
    for deal, counts, chat_id in ended:
        if deal.message_id is None:
            continue
        t = GroupBuyTexts((await d.settings_of(chat_id)).language)
        with contextlib.suppress(TelegramError):
            await _edit_post(bot, deal, chat_id, t.deal_ended(deal, counts), None)
