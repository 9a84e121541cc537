"""Domain errors. They carry data; handlers turn them into words."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


class DomainError(Exception):
    """Base for rule violations a member or admin can cause."""


class DuplicateUpdate(DomainError):
    """This Telegram update was already processed; its effects must not repeat."""


@dataclass
class AlreadyCheckedIn(DomainError):
    """The member checked in on this local day already."""

    day: dt.date
    next_reset: dt.datetime
    timezone: str
    streak: int
    balance: int


@dataclass
class UnknownChat(DomainError):
    """The group is not registered (the bot was never added, or was removed)."""

    chat_id: int


@dataclass
class InvalidSetting(DomainError):
    """A /set value failed validation; `reason` is a machine code, `example` a valid value."""

    key: str
    reason: str
    example: str
