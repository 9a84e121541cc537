"""Broadcasts to members or groups, and who receives them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from campaigns.audience import Audience
from campaigns.content import PostContent
from campaigns.experiments import LABELS
from campaigns.outbox import BroadcastStatus


@dataclass(frozen=True)
class BroadcastRecord:
    id: int
    chat_pk: int | None
    target: str  # members, groups
    content: PostContent
    audience: Audience
    status: BroadcastStatus
    total: int
    created_by: int | None
    progress: tuple[int, int] | None  # (chat id, message id) of the admin's progress message
    created_at: dt.datetime
    started_at: dt.datetime | None
    finished_at: dt.datetime | None
    variants: tuple[PostContent, ...] | None = None  # an A/B test's variants, A first
    holdout: int = 0  # percent of the audience held out

    @property
    def variant_count(self) -> int:
        """The variants of its test (1: one message for all)."""
        return len(self.variants) if self.variants else 1

    def message_for(self, arm: str) -> PostContent:
        """The message of a variant's arm (A, B, …)."""
        if not self.variants:
            return self.content
        return self.variants[LABELS.index(arm)]


class Broadcasts(Protocol):
    async def add(
        self,
        chat_pk: int | None,
        target: str,
        content: PostContent,
        audience: Audience,
        *,
        created_by: int | None,
        at: dt.datetime,
        variants: Sequence[PostContent] = (),
        holdout: int = 0,
    ) -> int:
        """A draft; with two or more `variants` (A first) or a `holdout`, an A/B test."""

    async def get(self, broadcast_id: int) -> BroadcastRecord | None: ...

    async def recipients(self, chat_pk: int, audience: Audience, now: dt.datetime) -> list[int]:
        """Present members who can be messaged privately and match the audience."""

    async def set_status(
        self,
        broadcast_id: int,
        *,
        old: Sequence[BroadcastStatus],
        new: BroadcastStatus,
        at: dt.datetime,
    ) -> bool: ...

    async def set_total(self, broadcast_id: int, total: int) -> None: ...

    async def set_progress(self, broadcast_id: int, chat_id: int, message_id: int) -> None: ...

    async def finished(self, at: dt.datetime) -> list[int]:
        """Sending broadcasts with nothing left to send: marked done, each returned once."""

    async def active(self) -> list[int]:
        """Broadcasts sending or paused (their progress is shown)."""
