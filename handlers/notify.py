"""Private messages to members (one rule for blocked bots), referral notices, reminders,
and notes to a group's admins."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

from telegram import Bot, InlineKeyboardMarkup, Message
from telegram.error import Forbidden, TelegramError

from campaigns.ports.members import Contact
from campaigns.services.coupons import Reminder
from campaigns.services.invite_links import mark_reachable
from campaigns.services.members import reachable_contacts
from campaigns.services.referral import Notice
from campaigns.services.shop import ExpiredNotice, ExpiryReminder
from campaigns.services.tiers import TierChange
from campaigns.settings import language_for
from handlers.coupon_texts import CouponTexts
from handlers.deps import Ack, Deps
from handlers.referral_texts import ReferralTexts
from handlers.shop_texts import ShopTexts
from handlers.tier_texts import TierTexts

log = logging.getLogger(__name__)


async def send_private(bot: Bot, d: Deps, user_id: int, text: str) -> bool:
    """Best effort: a member who blocked the bot (403) is marked unreachable, nothing retried."""
    return await send_private_message(bot, d, user_id, text) is not None


async def send_private_message(
    bot: Bot, d: Deps, user_id: int, text: str, markup: InlineKeyboardMarkup | None = None
) -> Message | None:
    """send_private, with buttons; the message sent, or None when it could not be."""
    try:
        return await bot.send_message(user_id, text, reply_markup=markup)
    except Forbidden:
        d.reachable.discard(user_id)
        await mark_reachable(d.uow(), user_id, False)
        return None
    except TelegramError as error:
        log.warning("private message to %s failed: %s", user_id, error)
        return None


async def send_notices(bot: Bot, d: Deps, notices: Sequence[Notice]) -> None:
    """Best effort: a member who blocked the bot is marked unreachable, nothing is retried."""
    for notice in notices:
        inviter = notice.inviter
        if inviter.reachable:
            t = ReferralTexts(language_for(inviter.language_code, notice.group_language))
            text = (
                t.confirmed_notice(notice) if notice.kind == "confirmed" else t.tier_notice(notice)
            )
            await send_private(bot, d, inviter.user_id, text)
        if notice.announce:  # many friends join at once: announcements share group messages
            said = ReferralTexts(notice.group_language).tier_announcement(notice)
            await d.acks.add(notice.chat_id, Ack(inviter.user_id, said, said))
        if notice.promotion is not None:
            await send_tier_changes(bot, d, [notice.promotion])


async def send_coupon_reminders(bot: Bot, d: Deps, reminders: Sequence[Reminder]) -> None:
    """“Your coupon expires in 24 hours”, in the member's own language."""
    for r in reminders:
        t = CouponTexts(language_for(r.owner.language_code, d.defaults.language))
        await send_private(bot, d, r.owner.user_id, t.reminder(r))


async def send_tier_changes(bot: Bot, d: Deps, changes: Sequence[TierChange]) -> None:
    """A member's new tier, privately and in their own language; only to members who
    started the bot (best effort, like every private notice)."""
    for change in changes:
        member = change.member
        if member.reachable:
            t = TierTexts(language_for(member.language_code, change.group_language))
            await send_private(bot, d, member.user_id, t.notice(change))


async def send_points_reminders(bot: Bot, d: Deps, reminders: Sequence[ExpiryReminder]) -> None:
    """“N points are usable until <day>”, privately in the member's own language (best
    effort)."""
    for r in reminders:
        t = ShopTexts(language_for(r.member.language_code, r.group_language))
        await send_private(bot, d, r.member.user_id, t.expiry_reminder(r))


async def send_expiry_notices(bot: Bot, d: Deps, notices: Sequence[ExpiredNotice]) -> None:
    """“N points expired today”, privately in the member's own language (best effort)."""
    for n in notices:
        t = ShopTexts(language_for(n.member.language_code, n.group_language))
        await send_private(bot, d, n.member.user_id, t.expired_notice(n))


async def reachable_admins(bot: Bot, d: Deps, group_id: int) -> list[Contact]:
    """The group's admins who started the bot and have not blocked it."""
    admins = await d.admins.admin_ids(bot, group_id)
    return await reachable_contacts(d.uow(), sorted(admins))


async def tell_admins(bot: Bot, d: Deps, group_id: int, text: Callable[[str], str] | str) -> None:
    """A private note to each admin of the group who started the bot: in their own language
    when `text` renders it in one, else the text as given (a 复盘 or an alert already in the
    group's language); best effort, like every private notice."""
    group_language = (await d.settings_of(group_id)).language
    for admin in await reachable_admins(bot, d, group_id):
        language = language_for(admin.language_code, group_language)
        await send_private(bot, d, admin.user_id, text if isinstance(text, str) else text(language))
