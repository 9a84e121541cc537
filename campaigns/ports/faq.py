"""FAQ auto-replies (客服话术): a group's saved questions and answers, and when each was
last answered."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class FaqRecord:
    id: int
    question: str  # as typed
    answer: str  # Telegram HTML
    answered: int = 0  # times it was given
    answered_at: dt.datetime | None = None


class Faqs(Protocol):
    async def of_group(self, chat_pk: int) -> list[FaqRecord]:
        """The group's FAQs, oldest first."""

    async def count(self, chat_pk: int) -> int: ...

    async def save(
        self, chat_pk: int, *, key: str, question: str, answer: str, by: int | None, at: dt.datetime
    ) -> tuple[int, bool]:
        """Add the question, or replace the answer of the group's question with the same
        key: (its id, True if it was new)."""

    async def remove(
        self, chat_pk: int, *, faq_id: int | None = None, key: str | None = None
    ) -> FaqRecord | None:
        """Remove the group's FAQ with this id (or key); None when the group has none (an id
        of another group's FAQ is none of this group's)."""

    async def claim_answer(
        self, chat_pk: int, faq_id: int, at: dt.datetime, since: dt.datetime
    ) -> bool:
        """Mark the FAQ answered at `at` unless it was answered after `since`: True when
        this call did (a conditional UPDATE, so of two processes one gets True)."""
