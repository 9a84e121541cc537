"""Birthdays (生日券): a member's month and day as typed, when their coupon starts to count,
and whether a local date is their birthday.

A birthday is stored as "MM-DD" once per user (one birthday across groups) with the first
year it counts. A date entered within 30 days before it waits until the next year: the
rule loyalty programs use so that nobody types today's date to collect a coupon now. A
29 February birthday falls on 28 February in years without one.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass
from enum import StrEnum

from campaigns.errors import DomainError
from campaigns.numbers import typed_digits

WAIT_DAYS = 30  # a birthday entered this many days or fewer before it waits a year
LEAP = 2000  # a leap year: every MM-DD that exists in some year exists in it

# "03-05", "3/5", "3.5", "03 05", "1990-03-05" (the year is not kept), "3月5日", "3月5号".
_DASHED = re.compile(r"(?:(\d{4})\s*[-/.年]\s*)?(\d{1,2})\s*[-/.\s月]\s*(\d{1,2})\s*[日号號]?")


class BirthdayProblem(StrEnum):
    NOT_A_DATE = "not_a_date"  # unreadable, or no such day (02-30)
    ALREADY_SET = "already_set"  # `value`: the stored "MM-DD"; only an admin clears it
    NOT_SET = "not_set"  # clearing a birthday nobody set
    IN_PRIVATE = "in_private"  # a birthday typed in the group: it is sent privately
    REPLY_TO_CLEAR = "reply_to_clear"  # `/birthday clear` must reply to the member's message


@dataclass
class BirthdayRefused(DomainError):
    problem: BirthdayProblem
    value: str = ""

    def __str__(self) -> str:
        return f"{self.problem}: {self.value}"


def parse_birthday(raw: str) -> str:
    """A birthday as typed, as "MM-DD"; BirthdayRefused (NOT_A_DATE) for anything else."""
    refused = BirthdayRefused(BirthdayProblem.NOT_A_DATE, raw[:20])
    if not typed_digits(raw):  # other scripts' digits, superscripts
        raise refused
    text = unicodedata.normalize("NFKC", raw).strip()
    match = _DASHED.fullmatch(text)
    if match is None or not match.group(2).isascii() or not match.group(3).isascii():
        raise refused
    month, day = int(match.group(2)), int(match.group(3))
    try:
        dt.date(LEAP, month, day)
    except ValueError:
        raise refused from None
    return f"{month:02d}-{day:02d}"


def _month_day(birthday: str) -> tuple[int, int]:
    month, day = birthday.split("-")
    return int(month), int(day)


def birthday_in(birthday: str, year: int) -> dt.date:
    """The date the birthday falls on in `year` (29 February: the 28th when there is none)."""
    month, day = _month_day(birthday)
    try:
        return dt.date(year, month, day)
    except ValueError:  # 02-29 in a common year
        return dt.date(year, month, day - 1)


def first_year(birthday: str, today: dt.date) -> int:
    """The first year whose birthday earns the coupon, for a birthday entered on `today`:
    the next birthday on or after today, unless it is within WAIT_DAYS, then the one after."""
    upcoming = birthday_in(birthday, today.year)
    if upcoming < today:
        upcoming = birthday_in(birthday, today.year + 1)
    if (upcoming - today).days <= WAIT_DAYS:
        return upcoming.year + 1
    return upcoming.year


def waits(birthday: str, today: dt.date) -> bool:
    """Whether a birthday entered on `today` skips its next occurrence (the 30-day rule)."""
    upcoming = birthday_in(birthday, today.year)
    if upcoming < today:
        upcoming = birthday_in(birthday, today.year + 1)
    return first_year(birthday, today) > upcoming.year


def stored_on(day: dt.date) -> list[str]:
    """The stored birthdays that fall on `day`: its own "MM-DD", and on 28 February of a
    common year also "02-29"."""
    days = [f"{day.month:02d}-{day.day:02d}"]
    if (day.month, day.day) == (2, 28) and birthday_in("02-29", day.year) == day:
        days.append("02-29")
    return days


def is_birthday(birthday: str | None, counts_from: int | None, day: dt.date) -> bool:
    """Whether the local date `day` is the member's birthday in a year that counts."""
    if birthday is None:
        return False
    return birthday_in(birthday, day.year) == day and (counts_from or 0) <= day.year
