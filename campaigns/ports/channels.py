"""Channels (渠道): a group's named invite links and the members who joined through them."""

from __future__ import annotations

from typing import Protocol

from campaigns.channels import Joiner
from campaigns.ports.referral import LinkRecord


class Channels(Protocol):
    async def of_group(self, chat_pk: int) -> list[LinkRecord]:
        """The group's channel links, oldest first (revoked ones too: their joins count)."""
        ...

    async def by_name(self, chat_pk: int, name: str) -> LinkRecord | None: ...

    async def joiners(self, chat_pk: int, link_ids: list[int]) -> dict[int, list[Joiner]]:
        """Link id -> each join through it, with the member's presence, last activity and
        first order in the group."""
        ...
