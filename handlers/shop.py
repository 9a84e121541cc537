"""/shop (积分兑换) with a Redeem button per item, the admins' /shop add|end|orders, and
/points (the member's statement)."""

from __future__ import annotations

import contextlib
import logging

from telegram import InlineKeyboardMarkup, Update
from telegram.error import TelegramError

from campaigns.members import Person
from campaigns.services.shop import (
    Redeemed,
    add_item,
    end_item,
    my_statements,
    points_statement,
    redeem_item,
    remember_shop,
    shop_items,
    shop_orders,
)
from campaigns.settings import language_for
from campaigns.shop import NewItem, ShopItem, ShopItemKind, ShopVerb, parse_shop_command
from handlers.callbacks import ShopButton, callback_button, tapped
from handlers.deps import Context
from handlers.extract import is_group
from handlers.notify import send_private, tell_admins
from handlers.shop_texts import ShopTexts
from handlers.use_case import Call, use_case

ADMIN_WORDS = {"add", "end", "orders"}

log = logging.getLogger(__name__)


def shop_markup(items: list[ShopItem], t: ShopTexts) -> InlineKeyboardMarkup | None:
    """One Redeem button per item, each on its own row."""
    rows = [[callback_button(t.redeem_button(item), ShopButton(item.id))] for item in items]
    return InlineKeyboardMarkup(rows) if rows else None


async def shop_command(update: Update, context: Context) -> None:
    """`/shop` for everyone; `/shop add|end|orders` go to the admins' handler."""
    first = (context.args or [""])[0].casefold() if context.args else ""
    if first in ADMIN_WORDS:
        await shop_admin(update, context)
    else:
        await shop_member(update, context)


@use_case(ShopTexts, group=True)
async def shop_member(call: Call[ShopTexts]) -> None:
    """The group's items with a Redeem button each (honoured on this message only)."""
    assert call.user_id is not None
    message = call.update.effective_message
    if call.words or message is None:
        await call.reply(call.t.usage())
        return
    view = await shop_items(
        call.deps.uow(), bot_id=call.key[0], update_id=call.key[1], chat_id=call.group_id,
        user_id=call.user_id, at=call.at,
    )  # fmt: skip
    with contextlib.suppress(TelegramError):
        sent = await message.reply_text(
            call.t.shop(view), reply_markup=shop_markup(view.items, call.t)
        )
        await remember_shop(
            call.deps.uow(), chat_id=call.group_id, message_id=sent.message_id, items=view.items,
            at=call.at,
        )  # fmt: skip


@use_case(ShopTexts, admin=True)
async def shop_admin(call: Call[ShopTexts]) -> None:
    """`/shop add coupon|item|makeup …`, `/shop end <id>`, `/shop orders`."""
    verb, value = parse_shop_command(call.words)
    uow, key, group = call.deps.uow, call.key, call.group_id
    if verb is ShopVerb.ORDERS:
        await call.reply(call.t.orders(await shop_orders(uow(), chat_id=group)))
    elif verb is ShopVerb.END and isinstance(value, int):
        ended = await end_item(
            uow(), bot_id=key[0], update_id=key[1], chat_id=group, item_id=value, at=call.at
        )
        await call.reply(call.t.ended(ended))
    elif isinstance(value, NewItem):
        item = await add_item(
            uow(), bot_id=key[0], update_id=key[1], chat_id=group, new=value, at=call.at
        )
        await call.reply(call.t.added(item))


@use_case(ShopTexts)
async def on_redeem(call: Call[ShopTexts]) -> None:
    """A tap on Redeem: the answer in the tapper's alert, and a private record; the
    group's admins hear of a custom item to hand over."""
    button, member, d = tapped(call.update, ShopButton), call.person, call.deps
    if button is None or member is None:
        return
    done = await redeem_item(
        d.uow(), gate=d.gate(call.context.bot), bot_id=call.key[0], update_id=call.key[1],
        item_id=button.item_id, person=member, tap=call.tap, at=call.at,
    )  # fmt: skip
    try:  # the points are spent: the record and the admins' note go out whatever happens here
        await call.alert(call.t.redeemed(done))
    except TelegramError as error:
        log.warning("redeem alert to %s not shown: %s", member.user_id, error)
    await _tell_of_redemption(call, done, member)


async def _tell_of_redemption(call: Call[ShopTexts], done: Redeemed, member: Person) -> None:
    """The member's private record; the group's admins hear of a custom item to hand over."""
    d = call.deps
    private = ShopTexts(language_for(member.language_code, call.t.language))
    await send_private(call.context.bot, d, member.user_id, private.redeemed_private(done))
    if done.item.kind is ShopItemKind.ITEM:

        def note(language: str) -> str:
            return ShopTexts(language).order_note(done, member)

        await tell_admins(call.context.bot, d, done.group_id, note)


async def points_command(update: Update, context: Context) -> None:
    """`/points` in a group (the balance; the statement privately) or in a private chat
    (the statement of every group the member has points in)."""
    if is_group(update.effective_chat):
        await points_in_group(update, context)
    else:
        await points_in_private(update, context)


@use_case(ShopTexts)
async def points_in_private(call: Call[ShopTexts]) -> None:
    """Every group's statement, in the reader's language."""
    if call.person is not None:
        statements = await my_statements(call.deps.uow(), user_id=call.person.user_id)
        for text in call.t.statements(call.person.display_name, statements):
            await call.reply(text)  # a message per group: 20 entries each fit, all may not


@use_case(ShopTexts, group=True)
async def points_in_group(call: Call[ShopTexts]) -> None:
    """The balance here; the statement (last 20 entries) privately where possible."""
    assert call.user_id is not None and call.person is not None
    statement = await points_statement(
        call.deps.uow(), bot_id=call.key[0], update_id=call.key[1], chat_id=call.group_id,
        user_id=call.user_id, at=call.at,
    )  # fmt: skip
    name, d = call.person.display_name, call.deps
    private = ShopTexts(language_for(call.person.language_code, call.t.language))
    sent = await send_private(call.context.bot, d, call.user_id, private.statement(name, statement))
    await call.reply(call.t.statement_short(name, statement, sent=sent))
