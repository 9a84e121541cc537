"""Scheduled posts, day-N sequence steps and uploaded media."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from campaigns.content import PostContent
from campaigns.schedule import PostStatus, StepStatus, When


@dataclass(frozen=True)
class PostRecord:
    """A scheduled post; `chat_id` is the group's Telegram id."""

    id: int
    chat_pk: int
    chat_id: int
    content: PostContent
    when: When
    status: PostStatus
    next_run_at: dt.datetime | None
    last_message_id: int | None
    campaign: str | None = None
    phase: str | None = None
    last_outcome: tuple[str, dt.datetime] | None = None  # status and due time of the last run
    created_by: int | None = None  # the admin who scheduled it (told when a run is skipped)


@dataclass(frozen=True)
class StepRecord:
    id: int
    chat_pk: int
    day: int
    content: PostContent
    private: bool
    status: StepStatus


class Calendar(Protocol):
    async def add_post(
        self,
        chat_pk: int,
        content: PostContent,
        when: When,
        *,
        status: PostStatus,
        next_run_at: dt.datetime | None,
        created_by: int | None,
        at: dt.datetime,
        campaign: str | None = None,
        phase: str | None = None,
    ) -> int: ...

    async def post(self, post_id: int) -> PostRecord | None: ...

    async def posts(self, chat_pk: int, statuses: Sequence[PostStatus]) -> list[PostRecord]:
        """The group's posts in these states, by next run."""

    async def recurring(self, statuses: Sequence[PostStatus]) -> list[PostRecord]:
        """Every group's recurring posts in these states."""

    async def set_status(
        self,
        post_id: int,
        *,
        old: Sequence[PostStatus],
        new: PostStatus,
        next_run_at: dt.datetime | None,
    ) -> bool:
        """Change the state only from one of `old` (a conditional UPDATE)."""

    async def due(self, now: dt.datetime, limit: int) -> list[PostRecord]:
        """Active posts whose next run is at or before `now`."""

    async def advance(self, post_id: int, *, old: dt.datetime, new: dt.datetime | None) -> bool:
        """Move the next run on, only if nobody else did (two processes race here)."""

    async def set_last_message(self, post_id: int, message_id: int) -> None: ...

    async def add_step(
        self, chat_pk: int, day: int, content: PostContent, *, private: bool, at: dt.datetime
    ) -> int: ...

    async def steps(self, chat_pk: int) -> list[StepRecord]: ...

    async def set_step_status(self, step_id: int, chat_pk: int, status: StepStatus) -> bool: ...

    async def due_enrolments(
        self, now: dt.datetime, limit: int
    ) -> list[tuple[StepRecord, int, int, dt.datetime]]:
        """(step, member, target chat, due time) for members whose day N has come and who
        joined after the step was made, without a delivery yet."""

    async def add_media(self, name: str, data: bytes, at: dt.datetime) -> int: ...

    async def media(self, media_id: int) -> tuple[str, bytes, str | None] | None:
        """(file name, bytes, Telegram's file id once uploaded)."""

    async def set_media_file(self, media_id: int, file_id: str) -> None: ...
