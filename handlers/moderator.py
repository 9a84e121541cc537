"""The use cases' Moderator, made of Bot API calls: deleteMessage, restrictChatMember,
banChatMember and unbanChatMember, with Telegram's refusals turned into domain errors (a
missing right names the right, so the admins can be told which one to grant)."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Awaitable
from dataclasses import dataclass

from telegram import Bot, ChatPermissions
from telegram.error import BadRequest, Forbidden, TelegramError

from campaigns.moderation import CannotModerate, MissingRight, ModRight, Refusal

log = logging.getLogger(__name__)

# Telegram's descriptions (lower case) and what they mean.
_MISSING = {
    "not enough rights to restrict": ModRight.RESTRICT,
    "message can't be deleted": ModRight.DELETE,
    "chat_admin_required": ModRight.INVITE,  # join requests: the right to invite users
    "not enough rights to delete": ModRight.DELETE,
}
_REFUSED = {
    "user is an administrator": Refusal.ADMIN,
    "can't remove chat owner": Refusal.ADMIN,
    "can't restrict self": Refusal.ADMIN,
    "only for supergroups": Refusal.NOT_SUPERGROUP,
    "message to delete not found": Refusal.GONE,
}


def refusal(error: TelegramError) -> MissingRight | CannotModerate:
    """The domain's reading of a Telegram error on a moderation call."""
    if isinstance(error, BadRequest):
        said = error.message.lower()
        for words, right in _MISSING.items():
            if words in said:
                return MissingRight(right)
        for words, reason in _REFUSED.items():
            if words in said:
                return CannotModerate(reason)
    return CannotModerate(Refusal.ERROR)


@dataclass
class TelegramModerator:
    """campaigns.ports.moderation.Moderator through the Bot API."""

    bot: Bot

    async def _call(self, what: str, chat_id: int, call: Awaitable[object]) -> None:
        try:
            await call
        except TelegramError as error:
            if isinstance(error, Forbidden | BadRequest):
                log.info("%s refused in %s: %s", what, chat_id, error)
            else:
                log.warning("%s failed in %s: %s", what, chat_id, error)
            raise refusal(error) from error

    async def delete(self, chat_id: int, message_id: int) -> None:
        await self._call("deleteMessage", chat_id, self.bot.delete_message(chat_id, message_id))

    async def restrict(self, chat_id: int, user_id: int, until: dt.datetime | None) -> None:
        call = self.bot.restrict_chat_member(
            chat_id, user_id, ChatPermissions.no_permissions(), until_date=until
        )
        await self._call("restrictChatMember", chat_id, call)

    async def unrestrict(self, chat_id: int, user_id: int) -> None:
        """Every permission back: Telegram lifts the restriction (the group's own defaults
        still apply to the member, as to everyone)."""
        call = self.bot.restrict_chat_member(chat_id, user_id, ChatPermissions.all_permissions())
        await self._call("restrictChatMember", chat_id, call)

    async def ban(self, chat_id: int, user_id: int, until: dt.datetime | None) -> None:
        call = self.bot.ban_chat_member(chat_id, user_id, until_date=until)
        await self._call("banChatMember", chat_id, call)

    async def unban(self, chat_id: int, user_id: int) -> None:
        call = self.bot.unban_chat_member(chat_id, user_id, only_if_banned=True)
        await self._call("unbanChatMember", chat_id, call)

    async def approve_request(self, chat_id: int, user_id: int) -> None:
        call = self.bot.approve_chat_join_request(chat_id, user_id)
        await self._call("approveChatJoinRequest", chat_id, call)

    async def decline_request(self, chat_id: int, user_id: int) -> None:
        call = self.bot.decline_chat_join_request(chat_id, user_id)
        await self._call("declineChatJoinRequest", chat_id, call)
