"""Group-buys in chat: the deal post's buttons, team cards kept current, expiry notices."""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
from collections.abc import Callable, Iterator, Sequence

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, InputFile, Update
from telegram.error import TelegramError

from campaigns.coupons import parse_amount
from campaigns.errors import UnknownChat
from campaigns.groupbuys import (
    DealVerb,
    GroupBuyRefused,
    Refusal,
    TeamStatus,
    parse_deal,
    parse_groupbuy_command,
)
from campaigns.ports import UnitOfWork
from campaigns.ports.groupbuys import DealRecord
from campaigns.referral import DEEP_LINK_PREFIX
from campaigns.services.groupbuys import (
    TeamAction,
    TeamView,
    create_deal,
    deal_of,
    deal_photo,
    deal_progress,
    end_deal,
    group_deals,
    press,
    remember_deal_post,
    remember_team_card,
    team_share,
)
from campaigns.settings import language_for
from handlers.callbacks import GroupBuyButton, GroupBuyVerb, callback_button, tapped
from handlers.deps import Context, Deps, deps
from handlers.extract import reader_language, reply, sent_at
from handlers.groupbuy_texts import GroupBuyTexts
from handlers.invite_links import start_referral
from handlers.notify import send_private
from handlers.use_case import ALERT_LIMIT, Call, use_case

TEAM_PREFIX = "team_"
log = logging.getLogger(__name__)
ACTIONS = {  # a button's verb on the wire -> what the tap does
    GroupBuyVerb.START: TeamAction.START,
    GroupBuyVerb.JOIN_ANY: TeamAction.JOIN_ANY,
    GroupBuyVerb.JOIN: TeamAction.JOIN,
    GroupBuyVerb.LEAVE: TeamAction.LEAVE,
}


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
    button, member, d = tapped(call.update, GroupBuyButton), call.person, call.deps
    if button is None or member is None:
        return
    action, bot = ACTIONS[button.verb], call.context.bot
    view = await press(
        d.uow(), gate=d.gate(bot), action=action, target=button.target, person=member,
        tap=call.tap, bot_id=call.key[0], update_id=call.key[1], at=call.at,
    )  # fmt: skip
    await answer_tap(call, view, action)
    await call.speak_for(view.chat_id)  # the team card is the group's: in the group's words
    await show_team(bot, d, view, call.t, new=action is TeamAction.START)
    await d.deal_posts.refresh(view.deal.id, chat_id=view.chat_id)
    if view.coupons:
        await _send_coupons(bot, d, view, call.t.language)


async def answer_tap(call: Call[GroupBuyTexts], view: TeamView, action: TeamAction) -> None:
    """Joining is an alert with the team's count; leaving only a brief notice."""
    query = call.update.callback_query
    if action is not TeamAction.LEAVE:
        await call.alert(call.t.joined(view))
    elif query is not None:
        await query.answer(call.t.left_team()[:ALERT_LIMIT], show_alert=False)


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
            shown, message_id = (view.chat_id, view.team.message_id), view.team.message_id

            async def edit() -> None:
                await bot.edit_message_text(
                    text, chat_id=view.chat_id, message_id=message_id, reply_markup=markup
                )
                d.shown[shown] = text

            await d.cards.put(view.chat_id, ("team", view.team.id), edit)
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


@use_case(GroupBuyTexts, admin=True)
async def groupbuy_command(call: Call[GroupBuyTexts]) -> None:
    """`/groupbuy new|post|list|end …` (admins): create, post, list and end deals."""
    words = call.context.args or []  # on every line: a title may run on
    verb, deal_id = parse_groupbuy_command(words)
    uow, group, at = call.deps.uow, call.group_id, call.at
    with naming_the_deal(deal_id):
        if verb is DealVerb.LIST:
            await call.reply(call.t.deal_list(await group_deals(uow(), chat_id=group, at=at)))
        elif verb is DealVerb.NEW:
            await post_in_group(call, await new_deal(call, words[1:]))
        elif verb is DealVerb.END and deal_id is not None:
            ended = await end_deal(uow(), chat_id=group, deal_id=deal_id, at=at)
            await call.reply(call.t.deal_ended_early(ended))
        elif deal_id is not None:  # post
            deal = await deal_of(uow(), chat_id=group, deal_id=deal_id, at=at, update=call.key)
            await post_in_group(call, deal)


@contextlib.contextmanager
def naming_the_deal(deal_id: int | None) -> Iterator[None]:
    """A group the bot has no record of has no deal #id either: the admin is told that, as
    for an id that is not the group's, rather than that the group is unknown."""
    try:
        yield
    except UnknownChat:
        raise GroupBuyRefused(Refusal.UNKNOWN, deal_id) from None


async def new_deal(call: Call[GroupBuyTexts], words: list[str]) -> DealRecord:
    """`/groupbuy new <size> <price> <group price> <minutes per team> <hours> <title…>`."""
    deal = parse_deal(words, call.at, parse_amount)
    return await create_deal(
        call.deps.uow(), chat_id=call.group_id, deal=deal, description=None, at=call.at,
        update=call.key,
    )  # fmt: skip


async def post_in_group(call: Call[GroupBuyTexts], deal: DealRecord) -> None:
    """The deal post in the group, in the group's language wherever the admin sent the
    command from. Best effort: a refusal by Telegram is logged."""
    g = GroupBuyTexts((await call.deps.settings_of(call.group_id)).language)
    try:
        await post_deal(
            call.context.bot, call.deps.uow, deal, g, chat_id=call.group_id, now=call.at
        )
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


async def start_team_share(update: Update, context: Context, payload: str) -> bool:
    """`/start team_<token>`: a friend opened a team's share link in a private chat.

    They get the leader's referral welcome (a one-use join link if they are not in the
    group yet, credited to the leader) and the team card with its ➕ Join button. False for
    any other payload. /start answers for itself, so a refusal is said here.
    """
    if not payload.startswith(TEAM_PREFIX):
        return False
    t, at, d = GroupBuyTexts(await reader_language(update, context)), sent_at(update), deps(context)
    try:
        view, code = await team_share(d.uow(), token=payload.removeprefix(TEAM_PREFIX), at=at)
    except GroupBuyRefused as refused:
        await reply(update, t.refused(refused.reason))
        return True
    await start_referral(update, context, f"{DEEP_LINK_PREFIX}{code}")
    await send_card_privately(update, d, view, t, at)
    return True


async def send_card_privately(
    update: Update, d: Deps, view: TeamView, t: GroupBuyTexts, at: dt.datetime
) -> None:
    """The team card in the friend's private chat, its ➕ honoured there (no 🔗 Share: that
    is the group card's)."""
    message = update.effective_message
    if message is None:
        return
    card = await message.reply_text(t.team_card(view, at), reply_markup=team_markup(view, t))
    await remember_team_card(
        d.uow(), team_id=view.team.id, chat_id=card.chat_id, message_id=card.message_id, at=at,
        in_group=False,
    )  # fmt: skip


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
