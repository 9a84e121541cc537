"""Channels (渠道): a group's named invite links, their costs, and the rows their figures
read (what counts is campaigns/channels.py's)."""

from __future__ import annotations

import datetime as dt
from typing import Protocol

from campaigns.channels import Channel, ChannelFacts


class Channels(Protocol):
    async def of_group(self, chat_pk: int) -> list[Channel]:
        """The group's channels, oldest first (revoked ones too: their joins count)."""
        ...

    async def by_name(self, chat_pk: int, name: str) -> Channel | None: ...

    async def get(self, chat_pk: int, link_id: int) -> Channel | None:
        """The group's channel of that link id (another group's is None)."""
        ...

    async def set_cost(self, link_id: int, cost: int | None) -> None: ...

    async def revoke(self, link_id: int, at: dt.datetime) -> bool:
        """Mark it revoked; False when it was already (racing admins: one revokes)."""
        ...

    async def rename(self, chat_pk: int, link_id: int, name: str) -> bool:
        """False when the group has a channel of that name (the unique index decides)."""
        ...

    async def facts(self, chat_pk: int) -> ChannelFacts:
        """Every join through any of the group's channel links, and the joiners' membership
        and every order of theirs in the group."""
        ...
