"""/birthday: a member sets their birthday once, privately; a group's admin clears it.

One birthday per user across groups (users.birthday); the coupon is each group's, sent by
the birthday journey (campaigns/services/journey_dates.py) where it is on.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from campaigns.birthdays import (
    BirthdayProblem,
    BirthdayRefused,
    first_year,
    parse_birthday,
    waits,
)
from campaigns.checkin import local_day
from campaigns.members import Person
from campaigns.ports import UnitOfWork
from campaigns.services.chats import claim_update


@dataclass(frozen=True)
class Birthday:
    """A stored birthday: "MM-DD" and the first year its coupon counts."""

    month_day: str
    counts_from: int
    waited: bool = False  # entered within 30 days before it: this year's does not count


async def my_birthday(uow: UnitOfWork, *, user_id: int) -> Birthday | None:
    async with uow:
        stored = await uow.users.birthday(user_id)
    return Birthday(*stored) if stored is not None else None


async def set_birthday(
    uow: UnitOfWork,
    *,
    update: tuple[int, int],
    person: Person,
    raw: str,
    at: dt.datetime,
    timezone: str,
) -> Birthday:
    """Store the birthday typed (once: a second one is refused, showing the first). It
    counts from the first year the 30-day rule allows, by the date of `at` in `timezone`."""
    async with uow:
        await claim_update(uow, update[0], update[1], at)
        stored = await uow.users.birthday(person.user_id)
        if stored is not None:
            raise BirthdayRefused(BirthdayProblem.ALREADY_SET, stored[0])
        month_day = parse_birthday(raw)
        today = local_day(at, timezone)
        counts_from = first_year(month_day, today)
        await uow.users.upsert([person])
        await uow.users.set_birthday(person.user_id, month_day, counts_from)
        await uow.commit()
    return Birthday(month_day, counts_from, waited=waits(month_day, today))


async def clear_birthday(
    uow: UnitOfWork, *, update: tuple[int, int], user_id: int, at: dt.datetime
) -> Birthday:
    """An admin clears a member's birthday (the member may then set it again): the one
    cleared, or BirthdayRefused (NOT_SET)."""
    async with uow:
        await claim_update(uow, update[0], update[1], at)
        stored = await uow.users.birthday(user_id)
        if stored is None:
            raise BirthdayRefused(BirthdayProblem.NOT_SET)
        await uow.users.set_birthday(user_id, None, None)
        await uow.commit()
    return Birthday(*stored)
