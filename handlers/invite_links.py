"""How friends arrive: `?start=ref_` deep links, join requests, the link a join came through."""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
from dataclasses import dataclass

from telegram import Bot, ChatInviteLink, ChatJoinRequest, Update
from telegram.error import BadRequest, Forbidden, TelegramError

from campaigns.errors import DuplicateUpdate
from campaigns.members import Person
from campaigns.referral import code_from_start
from campaigns.services.invite_links import (
    LinkRefused,
    join_requested,
    mark_reachable,
    welcome_visitor,
)
from campaigns.services.referral import LinkSeen
from campaigns.settings import language_for
from handlers.captcha import check_request
from handlers.deps import Context, deps
from handlers.extract import chat_info, person, reader_language, reply, sent_at
from handlers.referral_texts import ReferralTexts

log = logging.getLogger(__name__)


def link_seen(link: ChatInviteLink | None, bot_id: int) -> LinkSeen | None:
    """The link a join came through, in the rules' terms."""
    if link is None:
        return None
    return LinkSeen(url=link.invite_link, name=link.name, by_bot=link.creator.id == bot_id)


@dataclass
class TelegramLinks:
    """The use cases' LinkIssuer, made and revoked through the Bot API.

    `refused` are the errors that mean Telegram will not make the link: for /invite a
    refusal (the bot lacks the right; anything else goes to the error handler), for a
    deep-link visitor any failure (they are told to try again later)."""

    bot: Bot
    refused: tuple[type[TelegramError], ...] = (BadRequest, Forbidden)

    async def create(
        self,
        chat_id: int,
        *,
        name: str,
        join_request: bool | None = None,
        member_limit: int | None = None,
        expires: dt.datetime | None = None,
    ) -> tuple[str, str] | None:
        try:
            link = await self.bot.create_chat_invite_link(
                chat_id, name=name, creates_join_request=join_request,
                member_limit=member_limit, expire_date=expires,
            )  # fmt: skip
        except self.refused as error:
            log.info("cannot create an invite link in %s: %s", chat_id, error)
            return None
        return link.invite_link, link.name or ""

    async def revoke(self, chat_id: int, url: str) -> None:
        with contextlib.suppress(TelegramError):
            await self.bot.revoke_chat_invite_link(chat_id, url)

    async def retire(self, chat_id: int, url: str) -> bool:
        """Revoke on an admin's word: False when the bot lacks the right (Forbidden, or a
        Bad Request about rights); a link Telegram no longer knows is retired already."""
        try:
            await self.bot.revoke_chat_invite_link(chat_id, url)
        except Forbidden as error:
            log.info("cannot revoke an invite link in %s: %s", chat_id, error)
            return False
        except BadRequest as error:
            log.info("revoking an invite link in %s: %s", chat_id, error)
            said = error.message.lower()
            return "right" not in said and "admin" not in said
        return True

    async def rename(self, chat_id: int, url: str, name: str) -> bool:
        """The live link's new name; False when Telegram refused."""
        try:
            await self.bot.edit_chat_invite_link(chat_id, url, name=name)
        except (BadRequest, Forbidden) as error:
            log.info("cannot rename an invite link in %s: %s", chat_id, error)
            return False
        return True


async def start_referral(update: Update, context: Context, payload: str) -> bool:
    """`/start ref_<code>`: hand the visitor a one-use join link credited to their friend.

    Returns False if the payload is not a referral code.
    """
    code, user = code_from_start(payload), update.effective_user
    if code is None or user is None:
        return False
    with contextlib.suppress(DuplicateUpdate):  # a redelivery: the first delivery answered
        await reply(update, await _welcome(update, context, code, person(user)))
    return True


async def _welcome(update: Update, context: Context, code: str, visitor: Person) -> str:
    """What the visitor is told: who invited them and their join link, or why there is none."""
    t, d = ReferralTexts(await reader_language(update, context)), deps(context)
    try:
        seen = await welcome_visitor(
            d.uow, TelegramLinks(context.bot, refused=(TelegramError,)),
            update=(context.bot.id, update.update_id), code=code, visitor=visitor,
            at=sent_at(update),
        )  # fmt: skip
    except LinkRefused:
        return t.visit_failed()
    return t.visit(seen)


async def on_join_request(update: Update, context: Context) -> None:
    """A request through a member's link: credit it, approve it, greet the requester."""
    request, d = update.chat_join_request, deps(context)
    if request is None:
        return
    try:
        inviter = await join_requested(
            d.uow(), bot_id=context.bot.id, update_id=update.update_id,
            chat=chat_info(request.chat), person=person(request.from_user),
            link=link_seen(request.invite_link, context.bot.id),
            at=request.date.astimezone(dt.UTC), defaults=d.defaults,
        )  # fmt: skip
    except DuplicateUpdate:
        return
    if await check_request(context.bot, d, request):
        return  # asked privately (approved when solved), or held for the admins in a raid
    if inviter is not None:  # else not one of our member links: the admins decide
        await approve(context, request, inviter)


async def approve(context: Context, request: ChatJoinRequest, inviter: str) -> None:
    """Let the requester in and tell them who invited them, in their own language."""
    try:
        await request.approve()
    except TelegramError as error:
        log.warning("could not approve a join request in %s: %s", request.chat.id, error)
        return
    language = language_for(request.from_user.language_code, deps(context).defaults.language)
    with contextlib.suppress(TelegramError):
        await context.bot.send_message(
            request.user_chat_id,
            ReferralTexts(language).request_approved(request.chat.title, inviter),
        )


async def track_private(update: Update, context: Context) -> None:
    """Any private message means the user has started the bot, so notices may reach them."""
    user, d = update.effective_user, deps(context)
    if user is not None and not user.is_bot and user.id not in d.reachable:
        await mark_reachable(d.uow(), user.id, True, person(user))
        d.reachable.add(user.id)
