"""Journeys: each member's steps, recorded once, and what the reports read back."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Protocol

from campaigns.audience_expr import Expr
from campaigns.journeys import Journey, RunStatus


@dataclass(frozen=True)
class Candidate:
    """A member a journey's step is due for, with what names the episode."""

    user_id: int
    episode: str


@dataclass(frozen=True)
class RunRecord:
    """One recorded step, as the reports read it."""

    user_id: int
    episode: str
    step: int
    status: RunStatus
    at: dt.datetime
    coupon_code: str | None
    first_active: dt.datetime | None = None  # the member's first message or check-in after
    delivered: bool = False  # its message reached the member (the outbox sent it)


@dataclass(frozen=True)
class Outcomes:
    """What the members of some runs did afterwards: their orders (when, amount in minor
    units) and which coupon codes were redeemed."""

    orders: dict[int, list[tuple[dt.datetime, int]]]
    redeemed: set[str]


class Journeys(Protocol):
    async def start(
        self,
        chat_pk: int,
        user_id: int,
        journey: Journey,
        episode: str,
        step: int,
        status: RunStatus,
        at: dt.datetime,
    ) -> int | None:
        """Record the step; its id, or None when it was recorded already (a rerun, another
        process): the caller then does nothing more."""

    async def set_coupon(self, run_id: int, code: str) -> None: ...

    async def set_status(self, run_id: int, status: RunStatus) -> None: ...

    async def subscribe(self, user_id: int, on: bool) -> bool:
        """Journey messages on or off for the member, in every group; False when they were
        so already (or the bot never met them)."""

    async def winback(
        self,
        chat_pk: int,
        expr: Expr,
        now: dt.datetime,
        idle: tuple[dt.datetime, dt.datetime],
        limit: int,
    ) -> list[Candidate]:
        """Reachable present members matching `expr` whose last activity (or join) is within
        `idle` (from, before): read from the activity itself, not the hourly stage, so one
        who just came back is not "missed". None with a first step since that activity."""

    async def winback_second(
        self, chat_pk: int, sent_before: dt.datetime, sent_after: dt.datetime, limit: int
    ) -> list[Candidate]:
        """Members messaged by a win-back's first step between the two instants, still
        present and reachable, not active since, and without a second step in that episode."""

    async def first_orders(
        self, chat_pk: int, placed_from: dt.datetime, now: dt.datetime, limit: int
    ) -> list[Candidate]:
        """Reachable present members whose first order in the group was placed between the
        two instants, not yet welcomed (episode "first")."""

    async def repurchases(
        self, chat_pk: int, ordered_from: dt.datetime, ordered_to: dt.datetime, limit: int
    ) -> list[Candidate]:
        """Reachable present members whose latest order falls in (from, to], not yet
        reminded of that order (the episode names it)."""

    async def newcomers(
        self, chat_pk: int, joined_from: dt.datetime, joined_to: dt.datetime, limit: int
    ) -> list[Candidate]:
        """Reachable present members who joined in (from, to] and never checked in, not yet
        nudged."""

    async def invited_friends(
        self, chat_pk: int, confirmed_from: dt.datetime, limit: int
    ) -> list[Candidate]:
        """Reachable present members whose invitation by a member was confirmed after
        `confirmed_from`, without their welcome coupon yet."""

    async def birthdays(
        self,
        chat_pk: int,
        month_days: list[str],
        year: int,
        limit: int,
        *,
        joined_before: dt.datetime,
    ) -> list[Candidate]:
        """Reachable present members whose birthday ("MM-DD") is one of `month_days` and
        counts from `year` or before, who joined before `joined_before` (or were there before
        the bot), without a birthday step for `year` (the episode)."""

    async def members_without(
        self,
        chat_pk: int,
        journey: Journey,
        episode: str,
        limit: int,
        *,
        joined_before: dt.datetime,
        min_tier: int = 0,
    ) -> list[Candidate]:
        """Reachable present members at tier `min_tier` or above who joined before
        `joined_before` (or were there before the bot), without a step of `journey` in
        `episode` (a member day's coupons), by user id."""

    async def runs(self, chat_pk: int, journey: Journey, since: dt.datetime) -> list[RunRecord]:
        """The journey's steps recorded since `since`, oldest first, each with the member's
        first activity after it and whether its message was delivered."""

    async def outcomes(
        self, chat_pk: int, user_ids: list[int], since: dt.datetime, codes: list[str]
    ) -> Outcomes:
        """The members' orders since `since`, and which of `codes` are used."""
