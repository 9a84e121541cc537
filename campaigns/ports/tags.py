"""Member tags: one row per (group, member, tag), set by an admin or by a rule."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from campaigns.tags import TagSource


@dataclass(frozen=True)
class TagRecord:
    tag: str
    source: TagSource


class Tags(Protocol):
    async def add(
        self,
        chat_pk: int,
        user_id: int,
        tags: Sequence[str],
        *,
        source: TagSource,
        by: int | None,
        at: dt.datetime,
    ) -> int:
        """Tag the member; a tag they have already is kept as it is. How many were new."""

    async def remove(self, chat_pk: int, user_id: int, tag: str) -> bool:
        """False when the member did not have the tag."""

    async def of(self, chat_pk: int, user_id: int) -> list[TagRecord]:
        """The member's tags in the group, by name."""

    async def of_group(self, chat_pk: int) -> dict[int, list[str]]:
        """Every tagged member's tags in the group, by name (for `export members`)."""
