"""Coupons in chat: the claim button, /redeem (核销) for admins, /mycoupons, /coupon post."""

from __future__ import annotations

import contextlib
import warnings

from telegram import Chat, InlineKeyboardMarkup, Message, Update
from telegram.error import TelegramError
from telegram.warnings import PTBUserWarning

from campaigns.access import AccessDenied, ButtonKind, parse_id
from campaigns.coupons import CouponRejected, parse_money
from campaigns.errors import UnknownChat
from campaigns.ports import TemplateRecord
from campaigns.services.access import remember_buttons
from campaigns.services.coupons import (
    CouponUnavailable,
    claim,
    end_offer,
    grant,
    group_offers,
    my_coupons,
    offer_of,
    redeem,
)
from campaigns.settings import language_for
from handlers.callbacks import ClaimButton, callback_button, tapped
from handlers.coupon_texts import CouponTexts, coupon_texts_for
from handlers.deps import deps
from handlers.extract import Context, is_group, person, reply, sent_at, tap_of
from handlers.notify import send_private
from handlers.use_case import Call, admin_group, use_case

ALERT_LIMIT = 200  # Telegram's limit for a callback answer


def claim_markup(offer: TemplateRecord, t: CouponTexts) -> InlineKeyboardMarkup:
    """The button under a coupon post."""
    return InlineKeyboardMarkup([[callback_button(t.claim_button(), ClaimButton(offer.id))]])


@use_case(CouponTexts)
async def on_claim(call: Call[CouponTexts]) -> None:
    """A tap on 🎟 Claim: issue a coupon within stock and the member's limit."""
    update, context = call.update, call.context
    query, user = update.callback_query, update.effective_user
    button = tapped(update, ClaimButton)
    if query is None or user is None or button is None:
        return
    t, d = await coupon_texts_for(update, context), deps(context)
    try:
        issued = await claim(
            d.uow(),
            gate=d.gate(context.bot),
            bot_id=context.bot.id,
            update_id=update.update_id,
            template_id=button.offer_id,
            person=person(user),
            tap=tap_of(update),
            at=sent_at(update, d.clock),
        )
    except AccessDenied as denied:
        await query.answer(t.access_denied(denied)[:ALERT_LIMIT], show_alert=True)
        return
    except CouponUnavailable as err:
        await query.answer(t.unavailable(err)[:ALERT_LIMIT], show_alert=True)
        if err.reason in {"sold_out", "ended"}:  # nothing left to claim here
            await _drop_buttons(context, update)
        return
    await query.answer(t.claimed(issued)[:ALERT_LIMIT], show_alert=True)
    if issued.last:  # the post this came from loses its button, once
        await _drop_buttons(context, update)


async def _drop_buttons(context: Context, update: Update) -> None:
    """Take the tapped claim button off its message, keeping the others (a post's join or
    link buttons still work). Best effort. Through do_api_request: PTB adds the default
    parse_mode to editMessageReplyMarkup, a parameter it does not have."""
    query, tap = update.callback_query, tap_of(update)
    message = query.message if query is not None else None
    markup = message.reply_markup if isinstance(message, Message) else None
    if query is None or markup is None:
        return
    rows = [
        [b.to_dict() for b in row if b.callback_data != query.data]
        for row in markup.inline_keyboard
    ]
    kept = [row for row in rows if row]
    if sum(map(len, kept)) == sum(map(len, markup.inline_keyboard)):
        return  # already gone (a late tap): Telegram would say "message is not modified"
    params: dict[str, object] = {"chat_id": tap.chat_id, "message_id": tap.message_id}
    if kept:
        params["reply_markup"] = {"inline_keyboard": kept}
    with contextlib.suppress(TelegramError), warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBUserWarning)  # "use Bot.editMessageReplyMarkup"
        await context.bot.do_api_request("editMessageReplyMarkup", api_kwargs=params)


@use_case(CouponTexts)
async def redeem_command(call: Call[CouponTexts]) -> None:
    """`/redeem <code> <order amount>`: admins mark a member's coupon used at checkout."""
    update, context = call.update, call.context
    t, user = await coupon_texts_for(update, context), update.effective_user
    chat = await admin_group(update, context)
    if chat is None or user is None:
        return
    args = context.args or []
    try:
        code, (order, currency) = " ".join(args[:-1]), parse_money(args[-1])
    except (IndexError, ValueError):
        await reply(update, t.redeem_usage())
        return
    if not code:
        await reply(update, t.redeem_usage())
        return
    try:
        done = await redeem(
            deps(context).uow(),
            bot_id=context.bot.id,
            update_id=update.update_id,
            chat_id=chat.id,
            typed_code=code,
            order=order,
            staff_id=user.id,
            at=sent_at(update),
            currency=currency,
        )
    except CouponRejected as err:
        await reply(update, t.rejected(err))
        return
    await reply(update, t.redeemed(done))


async def mycoupons_command(update: Update, context: Context) -> None:
    """A member's coupons, in a private chat (codes are not shown in the group)."""
    t, chat, user = (
        await coupon_texts_for(update, context),
        update.effective_chat,
        update.effective_user,
    )
    if chat is None or user is None:
        return
    if is_group(chat):
        await reply(update, t.mycoupons_in_private())
        return
    d = deps(context)
    coupons = await my_coupons(d.uow(), user_id=user.id, default_timezone=d.defaults.timezone)
    await reply(update, t.my_coupons(coupons, sent_at(update)))


@use_case(CouponTexts)
async def coupon_command(call: Call[CouponTexts]) -> None:
    """`/coupon post|grant|end <offer id>` and `/coupon list` (admins); grant in reply to the
    member."""
    update, context = call.update, call.context
    t = await coupon_texts_for(update, context)
    chat = await admin_group(update, context)
    if chat is None:
        return
    args, d = context.args or [], deps(context)
    verb = args[0].lower() if args else ""
    if verb == "list" and len(args) == 1:
        offers = await group_offers(d.uow(), chat_id=chat.id, at=sent_at(update))
        await reply(update, t.offer_list(offers))
        return
    offer_id = parse_id(args[1]) if len(args) == 2 else None
    if offer_id is None or verb not in {"post", "grant", "end"}:
        await reply(update, t.coupon_usage())
        return
    if verb == "grant":
        await _grant(update, context, t, chat, offer_id)
        return
    try:
        if verb == "end":
            ended = await end_offer(d.uow(), chat_id=chat.id, template_id=offer_id)
            await reply(update, t.offer_ended(ended))
            return
        offer = await offer_of(
            d.uow(), chat_id=chat.id, template_id=offer_id, now=sent_at(update),
            update=(context.bot.id, update.update_id),
        )  # fmt: skip
    except UnknownChat:
        await reply(update, t.unknown_offer(offer_id))
        return
    except CouponUnavailable as err:
        await reply(update, t.unknown_offer(offer_id) if err.reason == "unknown" else (
            t.unavailable(err)
        ))  # fmt: skip
        return
    group = await d.settings_of(chat.id)  # the post speaks the group's language, wherever
    g = CouponTexts(group.language)  # the admin sent the command from
    with contextlib.suppress(TelegramError):
        sent = await context.bot.send_message(
            chat.id, g.offer_post(offer, group.timezone), reply_markup=claim_markup(offer, g)
        )
        await remember_buttons(
            d.uow(),
            kind=ButtonKind.COUPON,
            object_id=offer.id,
            chat_id=chat.id,
            message_id=sent.message_id,
            at=sent_at(update),
        )


async def _grant(
    update: Update, context: Context, t: CouponTexts, chat: Chat, offer_id: int
) -> None:
    message = update.effective_message
    assert message is not None
    if not is_group(update.effective_chat):  # in private, a reply is to the admin or to me
        await reply(update, t.grant_in_group())
        return
    target = message.reply_to_message.from_user if message.reply_to_message else None
    if target is None or target.is_bot:
        await reply(update, t.coupon_usage())
        return
    member = person(target)
    try:
        issued = await grant(
            deps(context).uow(),
            bot_id=context.bot.id,
            update_id=update.update_id,
            chat_id=chat.id,
            template_id=offer_id,
            person=member,
            at=sent_at(update),
        )
    except (UnknownChat, CouponUnavailable) as err:
        reason = err.reason if isinstance(err, CouponUnavailable) else "unknown"
        if reason == "unknown":
            await reply(update, t.unknown_offer(offer_id))
        elif reason == "limit":  # it is the member who has it, not the admin
            await reply(update, t.already_has(member.display_name))
        else:
            await reply(update, t.unavailable(CouponUnavailable(reason)))
        return
    await reply(update, t.granted(member.display_name, issued))
    private = CouponTexts(language_for(target.language_code, t.language))
    await send_private(context.bot, deps(context), target.id, private.received(chat.title, issued))
