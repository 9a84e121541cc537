"""Processed update ids: the record that makes a redelivered update harmless."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Protocol


class UpdateLog(Protocol):
    async def claim(
        self, bot_id: int, update_id: int, at: dt.datetime, scope: str = "handler"
    ) -> bool:
        """Record the update as processed in `scope`; False if it already was."""

    async def claim_many(
        self, bot_id: int, update_ids: Sequence[int], at: dt.datetime, scope: str = "handler"
    ) -> set[int]:
        """Record many; returns the ids that were new."""

    async def prune(self, before: dt.datetime) -> int:
        """Forget records older than `before` (Telegram keeps updates for 24 hours)."""
