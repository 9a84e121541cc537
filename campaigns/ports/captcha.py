"""Join captchas in storage: opened once per join, decided once (a conditional UPDATE)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from campaigns.captcha import CaptchaKind, CaptchaStatus


@dataclass(frozen=True)
class NewCaptcha:
    """A captcha to open for a join (`joined_at` is the join's time: the unique key)."""

    chat_pk: int
    user_id: int
    joined_at: dt.datetime
    kind: CaptchaKind
    question: str
    options: tuple[str, ...]
    salt: str
    answer_hash: str
    deadline: dt.datetime
    via_request: bool = False


@dataclass(frozen=True)
class CaptchaRecord:
    """A stored captcha, as the tap and the sweep read it."""

    id: int
    chat_pk: int
    user_id: int
    joined_at: dt.datetime
    kind: CaptchaKind
    question: str
    options: tuple[str, ...]
    salt: str
    answer_hash: str
    deadline: dt.datetime
    via_request: bool
    status: CaptchaStatus
    prompt_chat_id: int | None
    prompt_message_id: int | None


class Captchas(Protocol):
    async def open(self, captcha: NewCaptcha) -> int | None:
        """Store a pending captcha; None when this join already has one (a redelivery)."""
        ...

    async def get(self, captcha_id: int) -> CaptchaRecord | None: ...

    async def decide(self, captcha_id: int, to_status: CaptchaStatus, at: dt.datetime) -> bool:
        """Move a pending captcha to `to_status`, once: False when it was already decided."""
        ...

    async def pending_among(self, chat_pk: int, user_ids: Sequence[int]) -> set[int]:
        """Of these members, those with a captcha still pending (their invite waits)."""
        ...

    async def due(self, now: dt.datetime, limit: int) -> list[CaptchaRecord]:
        """Pending captchas whose deadline has passed, oldest first."""
        ...

    async def set_prompt(self, captcha_ids: Sequence[int], chat_id: int, message_id: int) -> None:
        """The message that shows these captchas' buttons."""
        ...

    async def open_on_prompt(self, chat_id: int, message_id: int) -> int:
        """How many captchas on this prompt are still pending (0: it can be deleted)."""
        ...

    async def on_prompt(self, chat_id: int, message_id: int) -> list[CaptchaRecord]:
        """The captchas still pending on this prompt message, oldest first."""
        ...

    async def unprompted(self, chat_pk: int, now: dt.datetime, limit: int) -> list[CaptchaRecord]:
        """Pending group captchas (not join requests) no prompt shows yet, oldest first."""
        ...

    async def groups_unprompted(self, now: dt.datetime) -> list[int]:
        """The chat pks with such captchas (the sweep prompts them)."""
        ...
