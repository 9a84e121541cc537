"""Order keeping: Telegram's moderation calls (the Moderator gateway) and the mod log.

The Moderator is Telegram as the use cases see it (handlers/moderator.py makes the calls);
Moderation is the mod log in storage: one row per thing done to a member, once per update
and kind (a unique key), so a redelivered update acts once.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Protocol

from campaigns.moderation import ActionKind, Rule


class Moderator(Protocol):
    """Telegram's moderation calls. Each raises MissingRight when the bot lacks the right
    (Telegram's 400), CannotModerate for any other refusal."""

    async def delete(self, chat_id: int, message_id: int) -> None:
        """Delete a member's message."""
        ...

    async def restrict(self, chat_id: int, user_id: int, until: dt.datetime | None) -> None:
        """Mute: the member may read but not send anything, until `until` (None: until
        lifted)."""
        ...

    async def unrestrict(self, chat_id: int, user_id: int) -> None:
        """Lift a mute."""
        ...

    async def ban(self, chat_id: int, user_id: int, until: dt.datetime | None) -> None:
        """Remove the member; they cannot come back until `until` (None: until unbanned)."""
        ...

    async def unban(self, chat_id: int, user_id: int) -> None:
        """Let a banned member join again (a member who is not banned is left alone)."""
        ...

    async def approve_request(self, chat_id: int, user_id: int) -> None:
        """Let a user who asked to join in (MissingRight INVITE without the right)."""
        ...

    async def decline_request(self, chat_id: int, user_id: int) -> None:
        """Turn a join request down (they may ask again)."""
        ...


@dataclass(frozen=True)
class NewAction:
    """A row for the mod log. `by` is the admin's user id, or the bot's for the rules';
    `failed` says why Telegram did not do it (a missing right's name, or a Refusal)."""

    chat_pk: int
    user_id: int
    kind: ActionKind
    rule: Rule
    by: int
    at: dt.datetime
    update_id: int
    reason: str | None = None
    until: dt.datetime | None = None
    failed: str | None = None


@dataclass(frozen=True)
class ModAction:
    """A row of the mod log, as /modlog and the undo button read it."""

    id: int
    chat_pk: int
    user_id: int
    kind: ActionKind
    rule: Rule
    by: int
    at: dt.datetime
    reason: str | None
    until: dt.datetime | None
    undone_at: dt.datetime | None
    failed: str | None
    display_name: str = ""  # the member's name as last seen


class Moderation(Protocol):
    async def record(self, action: NewAction) -> int | None:
        """Append the action once per (group, update, kind): its id, or None when this
        update already recorded an action of this kind."""
        ...

    async def fail(self, action_id: int, why: str) -> None:
        """Telegram did not do the action: say why on its row."""
        ...

    async def get(self, action_id: int) -> ModAction | None: ...

    async def latest(self, chat_pk: int, limit: int) -> list[ModAction]:
        """The group's newest actions, newest first."""
        ...

    async def warnings(self, chat_pk: int, user_id: int, since: dt.datetime) -> list[ModAction]:
        """The member's active warnings, oldest first: not undone, given after `since` (the
        expiry) and after the latest warning-limit mute or ban still standing (reaching the
        limit spends the warnings that led to it)."""
        ...

    async def undo(self, action_id: int, at: dt.datetime) -> bool:
        """Mark the action undone, once: False when it already was (a conditional
        UPDATE, so of two admins tapping at once one wins)."""
        ...

    async def messages_before(self, chat_id: int, user_id: int) -> int:
        """The member's messages stored in the group (Telegram id), 0 if never seen: how
        anti-spam tells a newcomer."""
        ...

    async def counts(self, chat_pk: int, since: dt.datetime) -> dict[ActionKind, int]:
        """Actions done (not failed) since `since`, by kind, counted from the activity
        store's moderation events: what analytics reads as spam removed."""
        ...
