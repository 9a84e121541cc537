"""Groups the bot is in, their settings, and the group an admin manages from private."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Protocol

from campaigns.members import ChatInfo
from campaigns.settings import ChatSettings


@dataclass(frozen=True)
class ChatRecord:
    """A registered group: its internal key survives a supergroup migration."""

    pk: int
    chat_id: int
    title: str | None
    active: bool
    settings: ChatSettings
    rfm_from: dt.date | None = None  # the first month in the group's RFM window, once set
    username: str | None = None  # a public group's @name: t.me/<username> opens it


class Chats(Protocol):
    async def get(self, chat_id: int) -> ChatRecord | None: ...

    async def by_pk(self, pk: int) -> ChatRecord | None: ...

    async def locked(self, pk: int) -> ChatRecord:
        """The group as stored now, its row locked until the transaction ends: a change of
        settings reads, changes and writes the whole of them, so two at once must queue."""

    async def of_member(self, user_id: int) -> list[ChatRecord]:
        """Active groups where the user is present."""

    async def active(self) -> list[ChatRecord]:
        """Every group the bot is in now."""

    async def register(
        self, chat: ChatInfo, *, active: bool, bot_status: str | None, defaults: ChatSettings
    ) -> ChatRecord:
        """Create the group or refresh its title and activity."""

    async def save_settings(self, pk: int, settings: ChatSettings) -> None: ...

    async def migrate(self, old_chat_id: int, new_chat_id: int) -> bool:
        """Move a group to its new supergroup id, keeping its data."""

    async def focus_of(self, user_id: int) -> ChatRecord | None:
        """The group an admin last picked to manage from a private chat."""

    async def set_focus(self, user_id: int, chat_pk: int, at: dt.datetime) -> None: ...
