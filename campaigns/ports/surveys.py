"""Feedback surveys (用户反馈): the surveys of a group, each member's one answer, and a
poll's Telegram ids."""

from __future__ import annotations

import datetime as dt
from typing import Protocol

from campaigns.surveys import Survey, SurveyKind


class Surveys(Protocol):
    async def add(
        self,
        chat_pk: int,
        kind: SurveyKind,
        question: str,
        by: int,
        at: dt.datetime,
        *,
        options: tuple[str, ...] = (),
        audience: str | None = None,
    ) -> Survey: ...

    async def get(self, survey_id: int) -> Survey | None: ...

    async def set_poll(self, survey_id: int, poll_id: str, message_id: int) -> None:
        """The poll Telegram made of it: its id (poll answers name it) and its message."""
        ...

    async def discard(self, survey_id: int) -> None:
        """Gone, with its answers: a poll Telegram refused to post was never asked."""
        ...

    async def by_poll(self, poll_id: str) -> Survey | None: ...

    async def poll_message(self, survey_id: int) -> int | None:
        """The poll's message in the group (to stop it); None before it was sent."""
        ...

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

    async def retract(self, survey_id: int, user_id: int) -> bool:
        """The member's answer removed (a poll vote taken back); False when there was none."""
        ...

    async def distributions(self, survey_ids: list[int]) -> dict[int, dict[int, int]]:
        """Survey id -> value -> members who answered it."""
        ...
