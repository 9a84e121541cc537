"""Watch words (舆情): a group's words, and the once-an-hour record of alerts per member."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Protocol


class WatchWords(Protocol):
    async def words(self, chat_pk: int) -> list[str]:
        """The group's words (normalised), alphabetically."""

    async def add(
        self, chat_pk: int, words: Sequence[str], *, by: int | None, at: dt.datetime
    ) -> list[str]:
        """Add the words the group lacks (one row per group and word); those added."""

    async def remove(self, chat_pk: int, words: Sequence[str]) -> list[str]:
        """Remove the group's words among `words`; those removed."""

    async def claim_alert(
        self, chat_pk: int, user_id: int, at: dt.datetime, since: dt.datetime
    ) -> bool:
        """Record an alert about the member at `at` unless one was recorded after `since`:
        True when this call recorded it (one row per group and member, so of two processes
        one gets True)."""
