"""Feedback surveys (用户反馈): the surveys of a group and each member's one answer."""

from __future__ import annotations

import datetime as dt
from typing import Protocol

from campaigns.surveys import Survey, SurveyKind


class Surveys(Protocol):
    async def add(
        self, chat_pk: int, kind: SurveyKind, question: str, by: int, at: dt.datetime
    ) -> Survey: ...

    async def get(self, survey_id: int) -> Survey | None: ...

    async def of_group(
        self, chat_pk: int, *, limit: int, kind: SurveyKind | None = None
    ) -> list[Survey]:
        """The group's surveys, newest first."""
        ...

    async def close(self, survey_id: int, at: dt.datetime) -> bool:
        """Stop taking answers; False when it was closed already."""
        ...

    async def answer(self, survey_id: int, user_id: int, value: int, at: dt.datetime) -> None:
        """The member's answer: inserted, or their earlier one replaced (one row per survey
        and member, held by the database, also when two taps race)."""
        ...

    async def answer_of(self, survey_id: int, user_id: int) -> int | None: ...

    async def distributions(self, survey_ids: list[int]) -> dict[int, dict[int, int]]:
        """Survey id -> value -> members who answered it."""
        ...
