"""Weekly retention cohorts: do the members who joined in a week keep coming back?

A member belongs to the cohort of the local week (Monday to Sunday, the group's timezone)
in which the bot first saw them join (`memberships.joined_at`; members who were there before
the bot have no cohort). Their retention in week k is whether they were active (a
`member_days` row: a message, a check-in or a tap) in the k-th week after the joining week;
week 0 is the joining week itself. A cohort's retention in week k is the share of its members
active then. Weeks that have not begun yet have no value (None), so a young cohort is never
read as a cohort that fell away; the current week counts, although it is not over.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from campaigns.checkin import local_day
from campaigns.errors import DomainError

MIN_WEEKS, MAX_WEEKS, DEFAULT_WEEKS = 2, 12, 8


def week_start(day: dt.date) -> dt.date:
    """The Monday of the week `day` is in."""
    return day - dt.timedelta(days=day.weekday())


@dataclass(frozen=True)
class CohortTable:
    """Cohorts by joining week, oldest first: their sizes and members active per week after.

    `active[i][k]` members of cohort i were active in week k after joining (None: that week
    has not begun).
    """

    weeks: tuple[dt.date, ...]  # each cohort's Monday
    sizes: tuple[int, ...]
    active: tuple[tuple[int | None, ...], ...]

    def rate(self, cohort: int, week: int) -> float | None:
        """The share of cohort `cohort` active in week `week` after joining (None: no value)."""
        n = self.active[cohort][week]
        size = self.sizes[cohort]
        return None if n is None or size == 0 else n / size

    @property
    def members(self) -> int:
        return sum(self.sizes)

    def average(self, week: int) -> float | None:
        """Week k's retention over every cohort that has reached it, weighted by size."""
        reached = [
            (n, size)
            for row, size in zip(self.active, self.sizes, strict=True)
            if (n := row[week]) is not None and size
        ]
        total = sum(size for _, size in reached)
        return sum(n for n, _ in reached) / total if total else None


def first_cohort(now: dt.datetime, timezone: str, weeks: int) -> dt.date:
    """The Monday of the oldest of the last `weeks` cohorts (this week's is the newest)."""
    return week_start(local_day(now, timezone)) - dt.timedelta(weeks=weeks - 1)


def cohort_table(
    joins: Mapping[int, dt.datetime],
    active_weeks: Iterable[tuple[int, dt.date]],
    *,
    timezone: str,
    weeks: int,
    now: dt.datetime,
) -> CohortTable:
    """The last `weeks` cohorts up to `now`'s week. `joins`: each member's first join;
    `active_weeks`: (member, Monday of a week they were active in), repeats allowed."""
    newest = week_start(local_day(now, timezone))
    mondays = tuple(newest - dt.timedelta(weeks=weeks - 1 - i) for i in range(weeks))
    cohort_of: dict[int, dt.date] = {}
    for user_id, at in joins.items():
        monday = week_start(local_day(at, timezone))
        if mondays[0] <= monday <= newest:
            cohort_of[user_id] = monday
    seen: set[tuple[int, int]] = set()  # (member, weeks after joining)
    for user_id, monday in active_weeks:
        joined = cohort_of.get(user_id)
        if joined is not None and monday >= joined:
            seen.add((user_id, (monday - joined).days // 7))
    sizes = [0] * weeks
    counts = [[0] * weeks for _ in range(weeks)]
    for monday in cohort_of.values():
        sizes[mondays.index(monday)] += 1
    for user_id, k in seen:
        i = mondays.index(cohort_of[user_id])
        if k < weeks:
            counts[i][k] += 1
    active = tuple(
        tuple(counts[i][k] if mondays[i] + dt.timedelta(weeks=k) <= newest else None
              for k in range(weeks))
        for i in range(weeks)
    )  # fmt: skip
    return CohortTable(mondays, tuple(sizes), active)


def parse_weeks(words: list[str]) -> int:
    """`/cohorts [weeks]`: how many cohorts to show (2-12, 8 when not given); anything else
    is WeeksRefused."""
    if not words:
        return DEFAULT_WEEKS
    word = words[0]
    fits = len(words) == 1 and word.isascii() and word.isdigit() and len(word) <= 3
    if fits and MIN_WEEKS <= int(word) <= MAX_WEEKS:
        return int(word)
    raise WeeksRefused(" ".join(words)[:32])


class WeeksRefused(DomainError, ValueError):
    """Not a number of weeks the cohort table can show."""

    def __init__(self, value: str) -> None:
        super().__init__(value)
        self.value = value
