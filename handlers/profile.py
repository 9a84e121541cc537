"""/me and /top."""

from __future__ import annotations

from telegram import Update

from campaigns.errors import UnknownChat
from campaigns.referral import PERIODS
from campaigns.services.profile import BOARDS, leaderboard, my_profile
from campaigns.services.referral_reports import invite_board
from handlers.deps import deps
from handlers.extract import Context, is_group, person, reply, sent_at, texts_for
from handlers.referral_texts import ReferralTexts
from handlers.use_case import use_case


@use_case
async def me_command(update: Update, context: Context) -> None:
    """The caller's points, streak, best streak, check-ins and rank in this group."""
    t, chat, user = await texts_for(update, context), update.effective_chat, update.effective_user
    if not is_group(chat) or chat is None or user is None:
        await reply(update, t.group_only())
        return
    await deps(context).buffer.flush()  # the message count shown must include recent chatter
    try:
        profile = await my_profile(
            deps(context).uow(),
            bot_id=context.bot.id,
            update_id=update.update_id,
            chat_id=chat.id,
            user_id=user.id,
            at=sent_at(update),
        )
    except UnknownChat:
        profile = None
    await reply(update, t.profile(person(user).display_name, profile))


@use_case
async def top_command(update: Update, context: Context) -> None:
    """Leaderboard by points (default) or `/top streak`, with the caller's own place."""
    t, chat, user = await texts_for(update, context), update.effective_chat, update.effective_user
    if not is_group(chat) or chat is None or user is None:
        await reply(update, t.group_only())
        return
    by = context.args[0].lower() if context.args else "points"
    if by == "invites":
        await _invite_top(update, context, chat.id, user.id, (context.args or [])[1:])
        return
    if by not in BOARDS:
        await reply(update, t.top_usage())
        return
    board = await leaderboard(
        deps(context).uow(),
        bot_id=context.bot.id,
        update_id=update.update_id,
        chat_id=chat.id,
        user_id=user.id,
        by=by,
        at=sent_at(update),
    )
    await reply(update, t.leaderboard(board))


async def _invite_top(
    update: Update, context: Context, chat_id: int, user_id: int, args: list[str]
) -> None:
    """`/top invites [week|month|all]`: confirmed invites in the period."""
    t = ReferralTexts((await texts_for(update, context)).language)
    period = args[0].lower() if args else "all"
    if period not in PERIODS:
        await reply(update, t.top_usage())
        return
    board = await invite_board(
        deps(context).uow(),
        bot_id=context.bot.id,
        update_id=update.update_id,
        chat_id=chat_id,
        user_id=user_id,
        period=period,
        at=sent_at(update),
    )
    await reply(update, t.invite_board(board))
