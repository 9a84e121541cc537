"""Who a broadcast goes to: simple rules over what is stored about each member.

`joined<7d` joined within 7 days, `joined>30d` over 30 days ago, `active<7d` / `active>30d`
for the last message or check-in, `points>=100`, `checkin<1d` checked in within a day,
`checkin>7d` not within 7 days (or never). Rules combine with AND. A saved audience
(campaigns/audiences.py) is named `@winback` or `audience=winback`: its rule is read when
the broadcast is previewed and again when it is sent, so the recipients are who it selects
then; with other rules beside it, a member must meet those too. `holdout=10` among the rules
of /broadcast holds that percent of the audience out, to measure the broadcast against
(campaigns/broadcast_variants.py).
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import TypeVar

from pydantic import BaseModel, Field

from campaigns.errors import DomainError
from campaigns.experiments import MAX_HOLDOUT

RULE = re.compile(
    r"^(?P<field>joined|active|checkin|points)(?P<op><=|>=|<|>|=)(?P<value>\d{1,18})d?$",
    re.ASCII,  # `٣` is not a number an operator types
)
SAVED = re.compile(r"^(?:@|audience=)(?P<name>[\w\-]{1,32})$", re.I)
HOLDOUT = re.compile(r"^holdout=(?P<percent>\d{1,18})%?$", re.I | re.ASCII)
MAX_DAYS = 3650
When = TypeVar("When", dt.datetime, dt.date)


class AudienceError(DomainError, ValueError):
    """A rule that could not be read; `token` is what the operator typed."""

    def __init__(self, token: str) -> None:
        super().__init__(token)
        self.token = token


class ExactPoints(AudienceError):
    """`points=100`, refused rather than read as "at least": a saved audience reads it as
    exactly 100, and one token must never mean two things to an operator. `points` is what
    the operator meant at least of, most likely (`points>=100`)."""

    def __init__(self, token: str, points: int) -> None:
        super().__init__(token)
        self.points = points


class HoldoutError(AudienceError):
    """`holdout=N` out of 0..MAX_HOLDOUT percent, or given twice."""

    limit = MAX_HOLDOUT


@dataclass(frozen=True)
class MemberFacts:
    """What the audience rules read about one member of the group."""

    joined_at: dt.datetime | None  # None: there before the bot, so joined long ago
    last_active_at: dt.datetime | None
    last_checkin_day: dt.date | None
    points: int
    present: bool
    reachable: bool  # can receive the bot's private messages


class Audience(BaseModel):
    """Filters over a group's present members who can receive private messages."""

    joined_within: int | None = Field(default=None, ge=0, le=MAX_DAYS)
    joined_over: int | None = Field(default=None, ge=0, le=MAX_DAYS)
    active_within: int | None = Field(default=None, ge=0, le=MAX_DAYS)
    active_over: int | None = Field(default=None, ge=0, le=MAX_DAYS)
    checkin_within: int | None = Field(default=None, ge=0, le=MAX_DAYS)
    checkin_over: int | None = Field(default=None, ge=0, le=MAX_DAYS)
    points_min: int | None = Field(default=None, ge=0)
    saved: str | None = Field(default=None, min_length=1, max_length=32)  # a saved audience

    def describe(self) -> str:
        """The rules as they are typed, `all` when there are none."""
        parts = [f"@{self.saved}"] if self.saved else []
        parts += [
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

    @property
    def rules(self) -> Audience:
        """The rules beside the saved audience (all of them when none is named)."""
        return self.model_copy(update={"saved": None})

    @property
    def has_rules(self) -> bool:
        return self.rules != Audience()

    def cutoff(self, days: int | None, now: dt.datetime) -> dt.datetime | None:
        return None if days is None else now - dt.timedelta(days=days)

    def matches(self, member: MemberFacts, now: dt.datetime) -> bool:
        """The one audience rule: a present, reachable member who meets every rule set.

        `<Nd` includes the cutoff instant (or day), `>Nd` is strictly before it; a missing
        date is never within N days and always over N days. The SQL in storage only
        pre-filters for this (`audience_prefilter`).
        """
        if not (member.present and member.reachable):
            return False
        checks = (
            (self.joined_within, member.joined_at, True),
            (self.joined_over, member.joined_at, False),
            (self.active_within, member.last_active_at, True),
            (self.active_over, member.last_active_at, False),
        )
        for days, at, within in checks:
            if (cut := self.cutoff(days, now)) is not None and not _on_side(at, cut, within):
                return False
        for days, within in ((self.checkin_within, True), (self.checkin_over, False)):
            if (cut := self.cutoff(days, now)) is not None and not _on_side(
                member.last_checkin_day, cut.date(), within
            ):
                return False
        return self.points_min is None or member.points >= self.points_min


def _on_side(value: When | None, cut: When, within: bool) -> bool:
    """Within: at or after the cut (never when unknown); over: before it (or unknown)."""
    if value is None:
        return not within
    return value >= cut if within else value < cut


def is_rule(token: str) -> bool:
    return RULE.match(token.lower()) is not None or SAVED.match(token) is not None


def split_command(tokens: list[str], has_body: bool) -> tuple[Audience, str]:
    """`/broadcast [rules…] [text…]`: the leading rules (or `all`), then the text typed on the
    command's line ("" when none). Text on the line and a body below it is ambiguous: the
    first word that is not a rule is refused, as is any rule after the text began."""
    rules = [x for x in tokens if is_rule(x) or x.lower() == "all"]
    words = tokens[len(rules) :] if tokens[: len(rules)] == rules else None
    if words is None or (words and has_body):
        raise AudienceError(next((x for x in tokens if not is_rule(x)), tokens[0]))
    return parse_audience(" ".join(rules)), " ".join(words)


def split_broadcast(tokens: list[str], has_body: bool) -> tuple[Audience, int, str]:
    """split_command, with `holdout=10` (the percent held out, 0–50, at most once) among
    the leading rules: the audience, the holdout (0 without one) and the text."""
    lead = 0
    while lead < len(tokens) and (
        is_rule(tokens[lead]) or tokens[lead].lower() == "all" or HOLDOUT.match(tokens[lead])
    ):
        lead += 1
    held = [x for x in tokens[:lead] if HOLDOUT.match(x)]
    if len(held) > 1:
        raise HoldoutError(held[1])
    percent = 0
    if held:
        m = HOLDOUT.match(held[0])
        assert m is not None
        percent = int(m["percent"])
        if percent > MAX_HOLDOUT:
            raise HoldoutError(held[0])
    rest = [x for x in tokens[:lead] if not HOLDOUT.match(x)] + tokens[lead:]
    audience, text = split_command(rest, has_body)
    return audience, percent, text


def parse_audience(text: str) -> Audience:
    """`joined<7d points>=100` -> Audience; commas or spaces separate rules."""
    values: dict[str, int | str] = {}
    for token in re.split(r"[\s,，]+", text.strip()):
        if not token or token.lower() == "all":
            continue
        if saved := SAVED.match(token):
            if "saved" in values:  # one saved audience at a time
                raise AudienceError(token)
            values["saved"] = saved["name"].lower()
            continue
        m = RULE.match(token.lower())
        if m is None:
            raise AudienceError(token)
        field, op, value = m["field"], m["op"], int(m["value"])
        if field == "points":
            if op == "=":
                raise ExactPoints(token, value)
            if op not in {">=", ">"}:
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
