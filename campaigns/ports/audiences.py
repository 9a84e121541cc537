"""Saved audiences, and the members an audience expression selects (compiled to SQL)."""

from __future__ import annotations

import datetime as dt
from typing import Protocol

from campaigns.audience_expr import Expr
from campaigns.audiences import AudienceMember, SavedAudience
from campaigns.dashboard import COUNT_CAP, MemberSort
from campaigns.tiers import TierLadder


class Audiences(Protocol):
    async def save(
        self, chat_pk: int, name: str, rule: str, *, by: int | None, at: dt.datetime
    ) -> bool:
        """Create or replace the group's audience by that name; True when it is new."""

    async def get(self, chat_pk: int, name: str) -> SavedAudience | None: ...

    async def all(self, chat_pk: int) -> list[SavedAudience]:
        """The group's saved audiences, by name."""

    async def delete(self, chat_pk: int, name: str) -> bool: ...

    async def ladder(self, chat_pk: int) -> TierLadder:
        """The group's tier ladder (the default one when the group has none)."""

    async def members(
        self, chat_pk: int, expr: Expr, now: dt.datetime, *, limit: int | None = None
    ) -> list[int]:
        """User ids of the group's members the expression (tiers resolved) selects, in
        order; the same members as `audience_expr.matches` (a storage test holds it)."""

    async def count(self, chat_pk: int, expr: Expr, now: dt.datetime) -> int: ...

    async def names(self, user_ids: list[int]) -> dict[int, str]:
        """Display names of these users."""

    async def export(
        self, chat_pk: int, expr: Expr, now: dt.datetime, ladder: TierLadder
    ) -> list[AudienceMember]:
        """The selected members with what the CSV export shows of each."""

    async def browse(
        self,
        chat_pk: int,
        expr: Expr | None,
        now: dt.datetime,
        ladder: TierLadder,
        *,
        search: str,
        sort: MemberSort,
        descending: bool,
        offset: int,
        limit: int,
        count_cap: int = COUNT_CAP,
    ) -> tuple[int, list[AudienceMember]]:
        """One page of the group's present members (those `expr` selects, when given) whose
        name or @username contains `search` (or whose id it is), sorted; and how many match,
        counted up to `count_cap + 1` (more than the cap: "more than count_cap")."""
