"""Who a broadcast goes to: simple rules over what is stored about each member.

`joined<7d` joined within 7 days, `joined>30d` over 30 days ago, `active<7d` / `active>30d`
for the last message or check-in, `points>=100`, `checkin<1d` checked in within a day,
`checkin>7d` not within 7 days (or never). Rules combine with AND. The segment engine
will plug in here later.
"""

from __future__ import annotations

import datetime as dt
import re

from pydantic import BaseModel, Field

RULE = re.compile(
    r"^(?P<field>joined|active|checkin|points)(?P<op><=|>=|<|>|=)(?P<value>\d{1,18})d?$"
)
MAX_DAYS = 3650


class AudienceError(ValueError):
    """A rule that could not be read; `token` is what the operator typed."""

    def __init__(self, token: str) -> None:
        super().__init__(f"unknown audience rule {token!r}")
        self.token = token


class Audience(BaseModel):
    """Filters over a group's present members who can receive private messages."""

    joined_within: int | None = Field(default=None, ge=0, le=MAX_DAYS)
    joined_over: int | None = Field(default=None, ge=0, le=MAX_DAYS)
    active_within: int | None = Field(default=None, ge=0, le=MAX_DAYS)
    active_over: int | None = Field(default=None, ge=0, le=MAX_DAYS)
    checkin_within: int | None = Field(default=None, ge=0, le=MAX_DAYS)
    checkin_over: int | None = Field(default=None, ge=0, le=MAX_DAYS)
    points_min: int | None = Field(default=None, ge=0)

    def describe(self) -> str:
        """The rules as they are typed, `all` when there are none."""
        parts = [
            f"{name}{op}{value}{unit}"
            for name, op, value, unit in (
                ("joined", "<", self.joined_within, "d"),
                ("joined", ">", self.joined_over, "d"),
                ("active", "<", self.active_within, "d"),
                ("active", ">", self.active_over, "d"),
                ("checkin", "<", self.checkin_within, "d"),
                ("checkin", ">", self.checkin_over, "d"),
                ("points", ">=", self.points_min, ""),
            )
            if value is not None
        ]
        return " ".join(parts) or "all"

    def cutoff(self, days: int | None, now: dt.datetime) -> dt.datetime | None:
        return None if days is None else now - dt.timedelta(days=days)


def is_rule(token: str) -> bool:
    return RULE.match(token.lower()) is not None


def parse_audience(text: str) -> Audience:
    """`joined<7d points>=100` -> Audience; commas or spaces separate rules."""
    values: dict[str, int] = {}
    for token in re.split(r"[\s,，]+", text.strip()):
        if not token or token.lower() == "all":
            continue
        m = RULE.match(token.lower())
        if m is None:
            raise AudienceError(token)
        field, op, value = m["field"], m["op"], int(m["value"])
        if field == "points":
            if op not in {">=", ">", "="}:
                raise AudienceError(token)
            values["points_min"] = value + (op == ">")
        elif op in {"<", "<="}:
            values[f"{field}_within"] = value
        elif op in {">", ">="}:
            values[f"{field}_over"] = value
        else:
            raise AudienceError(token)
    try:
        return Audience(**values)
    except ValueError:
        raise AudienceError(text) from None
