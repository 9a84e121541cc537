"""Who may act on a group's objects, and which message a tapped button must be on.

Every id that arrives from outside (callback_data, a deep-link payload, a command argument,
a button line in a post) is resolved to the group that owns the object, and the use case asks
two questions before anything changes: may this person act on that group (a present member
for member actions, an admin of that same group for admin actions), and for a button, was it
tapped on the message the bot sent for that object. Telegram clients can send any
callback_data on any message that has buttons, so the button's text proves nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from campaigns.errors import DomainError


class ButtonKind(StrEnum):
    """What a message with buttons was sent for; stored with the message's chat and id."""

    COUPON = "coupon"  # a claim post (🎟), or a scheduled post / broadcast with a claim button
    DEAL = "deal"  # a group-buy deal post (🚀 / ➕), or a post with a join button
    TEAM = "team"  # a team card (➕ / leave), in the group or sent privately from a share link
    SCHEDULE = "schedule"  # a /schedule preview (✅ / ✖)
    BROADCAST = "broadcast"  # a /broadcast preview, then its progress message
    CHOOSER = "chooser"  # the private "which group?" chooser of /invite and /invites
    SEGMENTS = "segments"  # a /segments report or member list (object: the group's chat id)
    SHOP = "shop"  # a /shop list: one Redeem button per item (object: the item)
    SURVEY = "survey"  # a survey's question with its rating buttons (object: the survey)
    MODLOG = "modlog"  # /modlog: an undo button per action (object: the action)


class Denied(StrEnum):
    NOT_MEMBER = "not_member"  # not a present member of the object's group
    NOT_ADMIN = "not_admin"  # not an admin of the object's group
    WRONG_MESSAGE = "wrong_message"  # the button was not on the message sent for the object
    ADMIN_COMMAND = "admin_command"  # an admin command from someone who is not the group's admin
    GROUP_ONLY = "group_only"  # a group command sent where there is no group to act on
    PICK_A_GROUP = "pick_a_group"  # an admin command in private before /manage picked a group


@dataclass
class AccessDenied(DomainError):
    """The caller may not do this here; nothing was changed."""

    reason: Denied


@dataclass
class ForeignButton(DomainError):
    """A post's button names a coupon offer or deal that is not this group's own live one."""

    kind: ButtonKind
    object_id: int


@dataclass(frozen=True)
class Tap:
    """Where a button was tapped: the chat and message Telegram says it was on."""

    chat_id: int
    message_id: int


class Gate(Protocol):
    """Telegram's word on a person's standing in a group (filled in by the composition root).

    Answers err on the side of refusing: an API failure is a no.
    """

    def is_owner(self, user_id: int) -> bool:
        """One of the bot's owners (BOT_OWNER_IDS), who may manage every group."""

    async def is_admin(self, chat_id: int, user_id: int) -> bool:
        """An admin or the creator of the group, or one of the bot's owners."""

    async def is_member(self, chat_id: int, user_id: int) -> bool:
        """In the group now (member, admin, creator, or restricted but still a member)."""


MAX_ID = 2**63 - 1  # ids are 64-bit in the database


def parse_id(text: str) -> int | None:
    """An object id typed or sent from outside (`12` or `#12`); None for anything else:
    non-ASCII digits such as `²`, signs, or numbers no stored id can have."""
    digits = text.removeprefix("#")
    if not (digits.isascii() and digits.isdigit()) or len(digits) > len(str(MAX_ID)):
        return None
    value = int(digits)
    return value if 0 < value <= MAX_ID else None
