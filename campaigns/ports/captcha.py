"""Join captchas in storage: opened once per join, decided once (a conditional UPDATE)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from campaigns.captcha import CaptchaKind, CaptchaStatus


@dataclass(frozen=True)
class NewCaptcha:
    """A captcha to open for a join (`joined_at` is the join's time: the unique key). A group
    captcha has no `deadline` until a prompt shows it (`shown_at`); a join request's is
    asked at once."""

    chat_pk: int
    user_id: int
    joined_at: dt.datetime
    kind: CaptchaKind
    question: str
    options: tuple[str, ...]
    salt: str
    answer_hash: str
    deadline: dt.datetime | None
    via_request: bool = False
    shown_at: dt.datetime | None = None


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
    deadline: dt.datetime | None  # None: no prompt showed it yet, so it never expires
    via_request: bool
    status: CaptchaStatus
    prompt_chat_id: int | None
    prompt_message_id: int | None
    shown_at: dt.datetime | None  # when a prompt first showed its question


class Captchas(Protocol):
    async def open(self, captcha: NewCaptcha) -> int | None:
        """Store a pending captcha; None when this join already has one (a redelivery)."""
        ...

    async def get(self, captcha_id: int) -> CaptchaRecord | None: ...

    async def decide(
        self, captcha_id: int, to_status: CaptchaStatus, at: dt.datetime, *,
        due_by: dt.datetime | None = None,
    ) -> bool:  # fmt: skip
        """Move a pending captcha to `to_status`, once: False when it was already decided.
        With `due_by` (an expiry) only if it was shown and its deadline is not after it."""
        ...

    async def pending_among(self, chat_pk: int, user_ids: Sequence[int]) -> set[int]:
        """Of these members, those with a captcha still pending (their invite waits)."""
        ...

    async def due(self, now: dt.datetime, limit: int) -> list[CaptchaRecord]:
        """Pending captchas shown and past their deadline, oldest first (one no prompt has
        shown yet is never due)."""
        ...

    async def set_prompt(
        self, captcha_ids: Sequence[int], chat_id: int, message_id: int, *, at: dt.datetime,
        minutes: int,
    ) -> None:  # fmt: skip
        """The message that shows these captchas' buttons; those shown for the first time
        get `shown_at` = `at` and their deadline `minutes` later (a later prompt keeps both)."""
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

    async def waiting(self, chat_pk: int) -> tuple[int, int]:
        """(pending captchas no prompt has shown yet, all pending captchas) of a group."""
        ...

    async def held(
        self, chat_pk: int, user_ids: Sequence[int] | None, limit: int, *, holds_only: bool
    ) -> list[CaptchaRecord]:
        """Pending captchas, oldest first: a raid's holds only (`holds_only`), or any kind
        (an admin letting someone in ends either); of these users (None: all of them)."""
        ...

    async def close_for(self, chat_pk: int, user_id: int, at: dt.datetime) -> list[CaptchaRecord]:
        """The member left: their pending group captchas and holds are closed (LEFT, once),
        returned so their prompts can be shown without them."""
        ...

    async def held_count(self, chat_pk: int, *, holds_only: bool = True) -> int:
        """How many members are held for an admin's approval (`holds_only`), or pending of
        any kind (held, or still to answer the captcha)."""
        ...

    async def request_let_in(
        self, chat_pk: int, user_id: int, since: dt.datetime, at: dt.datetime, *,
        settle_pending: bool,
    ) -> bool:  # fmt: skip
        """Whether the user's join request to this group was solved since `since`, or (with
        `settle_pending`) is still pending: then it is marked passed at `at` (an admin let
        them in through Telegram)."""
        ...


@dataclass(frozen=True)
class RaidRecord:
    """A group's raid mode: on since when (None: off), and its latest join."""

    chat_pk: int
    on_since: dt.datetime | None
    last_join: dt.datetime | None

    @property
    def on(self) -> bool:
        return self.on_since is not None


class Raids(Protocol):
    async def get(self, chat_pk: int) -> RaidRecord | None: ...

    async def joiners_between(self, chat_pk: int, after: dt.datetime, until: dt.datetime) -> int:
        """Different people in the group's join log after `after`, up to `until` (the burst;
        the rule is campaigns.captcha.burst_size)."""
        ...

    async def note_join(self, chat_pk: int, at: dt.datetime) -> None:
        """The group's latest join is at `at` (or later): the calm time counts from it."""
        ...

    async def switch_on(self, chat_pk: int, at: dt.datetime) -> bool:
        """Raid mode on since `at`, once: False when it was on already."""
        ...

    async def switch_off(self, chat_pk: int, on_since: dt.datetime | None) -> bool:
        """Raid mode off, once (only the raid on since `on_since`, when given): False when it
        was off already."""
        ...

    async def on(self) -> list[RaidRecord]:
        """Every group in raid mode (the calm check)."""
        ...

    async def is_on(self, chat_pk: int) -> bool: ...
