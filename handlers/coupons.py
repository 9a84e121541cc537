"""Coupons in chat: the claim button, /redeem (核销) for admins, /mycoupons, /coupon post."""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterator
from typing import Any

from telegram import InlineKeyboardMarkup, MaybeInaccessibleMessage, Message, Update, User
from telegram.error import TelegramError
from telegram.warnings import PTBUserWarning

from campaigns.access import ButtonKind
from campaigns.coupon_variants import parse_new_offer
from campaigns.coupons import (
    CouponCommand,
    CouponUsage,
    OfferVerb,
    parse_audience_grant,
    parse_offer_command,
    parse_redeem,
)
from campaigns.errors import UnknownChat
from campaigns.ports.coupons import TemplateRecord
from campaigns.services.access import remember_buttons
from campaigns.services.coupon_variants import new_offer, offer_report
from campaigns.services.coupons import (
    CouponUnavailable,
    Unavailable,
    claim,
    end_offer,
    grant,
    grant_to_audience,
    group_offers,
    my_coupons,
    offer_of,
    redeem,
)
from campaigns.settings import language_for
from handlers.callbacks import ClaimButton, callback_button, tapped
from handlers.coupon_texts import CouponTexts
from handlers.extract import is_group, person, replied_person
from handlers.notify import send_private, send_tier_changes
from handlers.reports import figures_privately
from handlers.use_case import Call, use_case


def claim_markup(offer: TemplateRecord, t: CouponTexts) -> InlineKeyboardMarkup:
    """The button under a coupon post."""
    return InlineKeyboardMarkup([[callback_button(t.claim_button(), ClaimButton(offer.id))]])


@use_case(CouponTexts)
async def on_claim(call: Call[CouponTexts]) -> None:
    """A tap on 🎟 Claim: issue a coupon within stock and the member's limit."""
    button, member, d = tapped(call.update, ClaimButton), call.person, call.deps
    if button is None or member is None:
        return
    try:
        issued = await claim(
            d.uow(), gate=d.gate(call.context.bot), bot_id=call.key[0], update_id=call.key[1],
            template_id=button.offer_id, person=member, tap=call.tap, at=call.at,
        )  # fmt: skip
    except CouponUnavailable as err:  # kept here: a sold-out or ended offer loses its button
        await answer_claim(call, call.t.unavailable(err), gone=err.gone)
        return
    await answer_claim(call, call.t.claimed(issued), gone=issued.last)


async def answer_claim(call: Call[CouponTexts], text: str, *, gone: bool) -> None:
    """The tapper's alert; then, when nothing is left to claim (this claim took the last one,
    or the offer sold out or ended), the post they tapped loses its button."""
    await call.alert(text)
    if gone:
        await drop_claim_button(call)


async def drop_claim_button(call: Call[CouponTexts]) -> None:
    """Take the tapped claim button off its message, keeping the others (a post's join or
    link buttons still work). Best effort. Through do_api_request: PTB adds the default
    parse_mode to editMessageReplyMarkup, a parameter it does not have."""
    query = call.update.callback_query
    kept = _without(query.message, query.data) if query is not None else None
    if kept is None:
        return  # no keyboard, or the button is already gone (a late tap)
    params: dict[str, Any] = {"chat_id": call.tap.chat_id, "message_id": call.tap.message_id}
    if kept:
        params["reply_markup"] = {"inline_keyboard": kept}
    with contextlib.suppress(TelegramError), warnings.catch_warnings():
        warnings.simplefilter("ignore", PTBUserWarning)  # "use Bot.editMessageReplyMarkup"
        await call.context.bot.do_api_request("editMessageReplyMarkup", api_kwargs=params)


def _without(
    message: MaybeInaccessibleMessage | None, data: str | None
) -> list[list[dict[str, Any]]] | None:
    """The message's keyboard rows without the button that sends `data`; None when there is
    nothing to take off (Telegram would say "message is not modified")."""
    markup = message.reply_markup if isinstance(message, Message) else None
    if markup is None:
        return None
    rows = [[b.to_dict() for b in row if b.callback_data != data] for row in markup.inline_keyboard]
    kept = [row for row in rows if row]
    return None if sum(map(len, kept)) == sum(map(len, markup.inline_keyboard)) else kept


@use_case(CouponTexts, admin=True)
async def redeem_command(call: Call[CouponTexts]) -> None:
    """`/redeem <code> <order amount>`: admins mark a member's coupon used at checkout."""
    assert call.user_id is not None  # an admin was recognised
    code, order, currency = parse_redeem(call.context.args or [])  # any line: PTB's words
    done = await redeem(
        call.deps.uow(), bot_id=call.key[0], update_id=call.key[1], chat_id=call.group_id,
        typed_code=code, order=order, staff_id=call.user_id, at=call.at, currency=currency,
    )  # fmt: skip
    await call.reply(call.t.redeemed(done))
    if done.promotion is not None:
        await send_tier_changes(call.context.bot, call.deps, [done.promotion])


@use_case(CouponTexts)
async def mycoupons_command(call: Call[CouponTexts]) -> None:
    """A member's coupons, in a private chat (codes are not shown in the group)."""
    if call.user_id is None or call.update.effective_chat is None:
        return
    if is_group(call.update.effective_chat):
        await call.reply(call.t.mycoupons_in_private())
        return
    d = call.deps
    coupons = await my_coupons(d.uow(), user_id=call.user_id, default_timezone=d.defaults.timezone)
    await call.reply(call.t.my_coupons(coupons, call.at))


@use_case(CouponTexts, admin=True)
async def coupon_command(call: Call[CouponTexts]) -> None:
    """`/coupon post|grant|end|report <offer id>`, `/coupon list` and `/coupon new …`
    (admins); grant in reply to the member, or to a saved audience."""
    words = call.context.args or []
    if words[:1] and words[0].lower() == OfferVerb.NEW:
        await _new_offer(call)
        return
    if (to_audience := parse_audience_grant(words)) is not None:
        await _grant_to_audience(call, *to_audience)
        return
    verb, offer_id = parse_offer_command(words)
    if offer_id is None:  # list
        offers = await group_offers(call.deps.uow(), chat_id=call.group_id, at=call.at)
        await figures_privately(call, call.t.offer_list(offers))
        return
    with naming_the_offer(offer_id):
        await BY_ID[verb](call, offer_id)


async def _new_offer(call: Call[CouponTexts]) -> None:
    """`/coupon new <name> [options]`, a line of terms per variant below it: the offer."""
    message = call.update.effective_message
    lines = (message.text or "").split("\n")[1:] if message is not None else []
    new = parse_new_offer(call.args[1:], lines)
    offer = await new_offer(
        call.deps.uow(), chat_id=call.group_id, new=new, at=call.at, update=call.key
    )
    await call.reply(call.t.offer_created(offer))


async def _report(call: Call[CouponTexts], offer_id: int) -> None:
    """`/coupon report <id>`: the offer's A/B test, arm by arm, and each comparison."""
    offer, report = await offer_report(
        call.deps.uow(), chat_id=call.group_id, template_id=offer_id, now=call.at
    )
    await figures_privately(call, call.t.report(offer, report))


async def _end(call: Call[CouponTexts], offer_id: int) -> None:
    ended = await end_offer(call.deps.uow(), chat_id=call.group_id, template_id=offer_id)
    await call.reply(call.t.offer_ended(ended))


@contextlib.contextmanager
def naming_the_offer(offer_id: int) -> Iterator[None]:
    """A group the bot has no record of has no offer #id either: the admin is told that,
    as for an id that is not the group's, rather than that the group is unknown."""
    try:
        yield
    except UnknownChat:
        raise CouponUnavailable(Unavailable.UNKNOWN, offer_id=offer_id) from None


async def post_offer(call: Call[CouponTexts], offer_id: int) -> None:
    """`/coupon post <id>`: the offer's claim post in the group, in the group's language
    wherever the admin sent the command from; its button is honoured on that message only."""
    offer = await offer_of(
        call.deps.uow(), chat_id=call.group_id, template_id=offer_id, now=call.at, update=call.key
    )
    group = await call.deps.settings_of(call.group_id)
    g = CouponTexts(group.language)
    with contextlib.suppress(TelegramError):  # best effort
        sent = await call.context.bot.send_message(
            call.group_id, g.offer_post(offer, group.timezone), reply_markup=claim_markup(offer, g)
        )
        await remember_buttons(
            call.deps.uow(), kind=ButtonKind.COUPON, object_id=offer.id, chat_id=call.group_id,
            message_id=sent.message_id, at=call.at,
        )  # fmt: skip


async def _grant(call: Call[CouponTexts], offer_id: int) -> None:
    """`/coupon grant <id>` in reply to a member's message: the coupon, and the code privately."""
    member = person(grantee(call.update))
    try:
        issued = await grant(
            call.deps.uow(), bot_id=call.key[0], update_id=call.key[1], chat_id=call.group_id,
            template_id=offer_id, person=member, at=call.at,
        )  # fmt: skip
    except CouponUnavailable as err:  # kept here: the error does not know the member's name
        if err.reason is not Unavailable.LIMIT:
            raise
        await call.reply(call.t.already_has(member.display_name))  # the member has it
        return
    await call.reply(call.t.granted(member.display_name, issued))
    private = CouponTexts(language_for(member.language_code, call.t.language))
    title = call.chat.title if call.chat else None
    await send_private(call.context.bot, call.deps, member.user_id, private.received(title, issued))


async def _grant_to_audience(call: Call[CouponTexts], offer_id: int, audience: str) -> None:
    """`/coupon grant <id> @<audience>`: a coupon for each member the audience selects now."""
    with naming_the_offer(offer_id):
        report = await grant_to_audience(
            call.deps.uow(), bot_id=call.key[0], update_id=call.key[1], chat_id=call.group_id,
            template_id=offer_id, audience=audience, at=call.at,
        )  # fmt: skip
    await call.reply(call.t.granted_to_audience(report))


def grantee(update: Update) -> User:
    """The member whose message `/coupon grant` replies to, in the group (in a private chat a
    reply is to the admin or to the bot)."""
    if not is_group(update.effective_chat):
        raise CouponUsage(CouponCommand.GRANT)
    target = replied_person(update.effective_message)
    if target is None:
        raise CouponUsage(CouponCommand.COUPON)
    return target


BY_ID = {  # the verbs that name an offer
    OfferVerb.POST: post_offer,
    OfferVerb.GRANT: _grant,
    OfferVerb.END: _end,
    OfferVerb.REPORT: _report,
}
