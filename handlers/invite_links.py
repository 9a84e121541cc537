"""How friends arrive: `?start=ref_` deep links, join requests, the link a join came through."""

from __future__ import annotations

import contextlib
import datetime as dt
import logging

from telegram import ChatInviteLink, Update, User
from telegram.error import TelegramError

from campaigns.errors import DuplicateUpdate
from campaigns.referral import code_from_start, link_name
from campaigns.services.invite_links import (
    DEEP_LINK_TTL,
    join_requested,
    mark_reachable,
    save_visitor_link,
    visit,
)
from campaigns.services.referral import LinkSeen
from campaigns.settings import language_for
from handlers.deps import deps
from handlers.extract import (
    Context,
    chat_info,
    person,
    reply,
    sent_at,
)
from handlers.referral_texts import ReferralTexts, referral_texts_for

log = logging.getLogger(__name__)


def link_seen(link: ChatInviteLink | None, bot_id: int) -> LinkSeen | None:
    """The link a join came through, in the rules' terms."""
    if link is None:
        return None
    return LinkSeen(url=link.invite_link, name=link.name, by_bot=link.creator.id == bot_id)


async def start_referral(update: Update, context: Context, payload: str) -> bool:
    """`/start ref_<code>`: hand the visitor a one-use join link credited to their friend.

    Returns False if the payload is not a referral code.
    """
    user = update.effective_user
    code = code_from_start(payload)
    if code is None or user is None:
        return False
    d, t, at = deps(context), await referral_texts_for(update, context), sent_at(update)
    try:
        seen = await visit(
            d.uow(),
            bot_id=context.bot.id,
            update_id=update.update_id,
            code=code,
            visitor=person(user),
            at=at,
        )
    except DuplicateUpdate:
        return True
    url = seen.link.url if seen.link else None
    if seen.outcome == "join" and url is None:
        try:
            created = await context.bot.create_chat_invite_link(
                seen.chat_id,
                name=link_name(seen.inviter_id, f"for {user.id}"),
                member_limit=1,
                expire_date=at + DEEP_LINK_TTL,
            )
        except TelegramError as error:
            log.info("cannot create a deep-link invite in %s: %s", seen.chat_id, error)
            await reply(update, t.visit_failed())
            return True
        stored = await save_visitor_link(
            d.uow(),
            visit=seen,
            visitor_id=user.id,
            url=created.invite_link,
            name=created.name or "",
            at=at,
        )
        url = stored.url
    await reply(update, t.visit(seen, url))
    return True


async def on_join_request(update: Update, context: Context) -> None:
    """A request through a member's link: credit it, approve it, greet the requester."""
    request = update.chat_join_request
    if request is None:
        return
    d = deps(context)
    try:
        inviter = await join_requested(
            d.uow(),
            bot_id=context.bot.id,
            update_id=update.update_id,
            chat=chat_info(request.chat),
            person=person(request.from_user),
            link=link_seen(request.invite_link, context.bot.id),
            at=request.date.astimezone(dt.UTC),
            defaults=d.defaults,
        )
    except DuplicateUpdate:
        return
    if inviter is None:
        return  # not one of our member links: the admins decide
    try:
        await request.approve()
    except TelegramError as error:
        log.warning("could not approve a join request in %s: %s", request.chat.id, error)
        return
    t = ReferralTexts(language_for(request.from_user.language_code, d.defaults.language))
    with contextlib.suppress(TelegramError):
        await context.bot.send_message(
            request.user_chat_id, t.request_approved(request.chat.title, inviter)
        )


async def reachable(context: Context, user: User) -> None:
    """The user wrote to the bot privately, so notices may reach them."""
    d = deps(context)
    if user.id not in d.reachable:
        await mark_reachable(d.uow(), user.id, True, person(user))
        d.reachable.add(user.id)


async def track_private(update: Update, context: Context) -> None:
    """Any private message means the user has started the bot."""
    user = update.effective_user
    if user is not None and not user.is_bot:
        await reachable(context, user)
