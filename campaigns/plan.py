"""A campaign plan (群SOP): phases of posts at dates, at offsets from the campaign start, or
recurring. Read from a calendar file, validated whole before anything is stored."""

from __future__ import annotations

import datetime as dt
import re
from typing import Self
from zoneinfo import ZoneInfo, available_timezones

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from campaigns.content import Button, PostContent
from campaigns.schedule import ScheduleError, When, check_cron, friendly_cron, parse_when

CLOCK = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


class PlanPost(BaseModel):
    """One post: `day` (+ `time`) after the start, an absolute `at`, or a recurring `cron`."""

    model_config = ConfigDict(extra="forbid")

    day: int | None = Field(default=None, ge=0, le=365)
    time: str | None = None
    at: dt.datetime | None = None
    cron: str | None = None
    text: str
    photo: str | None = None
    buttons: list[Button] = Field(default_factory=list)
    pin: bool = False
    silent: bool = False
    replace: bool = False
    paused: bool = False  # imported paused (an export keeps a paused post paused)

    @field_validator("cron")
    @classmethod
    def _cron(cls, value: str | None) -> str | None:
        """Checked here, not only when resolved, so a file's every bad schedule is listed."""
        if value is not None and friendly_cron(value) is None:
            check_cron(" ".join(value.lower().split()))  # ScheduleError names the field
        return value

    @field_validator("time")
    @classmethod
    def _clock(cls, value: str | None) -> str | None:
        if value is not None and not CLOCK.match(value):
            raise ValueError("time must be HH:MM, e.g. 09:00")
        return value

    @model_validator(mode="after")
    def _one_when(self) -> Self:
        given = [k for k in ("day", "at", "cron") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of day, at or cron")
        if self.time is not None and self.day is None:
            raise ValueError("time goes with day")
        try:
            self.content()
        except ValidationError as error:
            raise ValueError(str(error.errors()[0]["msg"]).removeprefix("Value error, ")) from None
        return self

    def content(self) -> PostContent:
        return PostContent(
            text=self.text,
            photo=self.photo,
            buttons=self.buttons,
            pin=self.pin,
            silent=self.silent,
            replace_previous=self.replace,
        )


class PlanPhase(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=64)
    posts: list[PlanPost] = Field(min_length=1)


class Plan(BaseModel):
    """A calendar file's document. `start` is local time in `timezone` (or the group's)."""

    model_config = ConfigDict(extra="forbid")

    campaign: str | None = Field(default=None, min_length=1, max_length=64)
    chat: int | None = None
    timezone: str | None = None
    start: dt.datetime | None = None
    phases: list[PlanPhase] = Field(min_length=1)

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str | None) -> str | None:
        if value is not None and value not in available_timezones():
            raise ValueError(f"unknown timezone {value!r}, e.g. Asia/Shanghai")
        return value

    @model_validator(mode="after")
    def _start_for_days(self) -> Self:
        if self.start is None and any(p.day is not None for ph in self.phases for p in ph.posts):
            raise ValueError("posts given by day need the campaign's start")
        return self


class PlanError(ValueError):
    """A post that cannot be scheduled; `loc` points into the document, `cause` is the
    schedule's own error if that was the reason. Raised for the first bad post, with every
    bad post of the plan in `problems`."""

    def __init__(
        self, loc: tuple[str | int, ...], message: str, cause: ScheduleError | None = None
    ) -> None:
        super().__init__(message)
        self.loc = loc
        self.message = message
        self.cause = cause
        self.problems: list[PlanError] = [self]


def paused_posts(plan: Plan) -> list[bool]:
    """Whether each post of `resolve(plan)` is to be imported paused, in the same order."""
    return [post.paused for phase in plan.phases for post in phase.posts]


def resolve(plan: Plan, timezone: str, now: dt.datetime) -> list[tuple[str, When, PostContent]]:
    """(phase, schedule, content) for every post, or PlanError naming every bad one."""
    tz = ZoneInfo(plan.timezone or timezone)
    zone = plan.timezone or timezone
    out: list[tuple[str, When, PostContent]] = []
    problems: list[PlanError] = []
    for i, phase in enumerate(plan.phases):
        for j, post in enumerate(phase.posts):
            loc: tuple[str | int, ...] = ("phases", i, "posts", j)
            try:
                out.append(_resolve_post(plan, post, phase.name, loc, zone, tz, now))
            except PlanError as error:
                problems.append(error)
    if problems:
        problems[0].problems = problems
        raise problems[0]
    return out


def _resolve_post(
    plan: Plan,
    post: PlanPost,
    phase_name: str,
    loc: tuple[str | int, ...],
    zone: str,
    tz: ZoneInfo,
    now: dt.datetime,
) -> tuple[str, When, PostContent]:
    """One post's schedule and content; its errors become a PlanError pointing at it."""
    try:
        if post.cron is not None:
            when = parse_when(post.cron, zone, now)
            if not when.recurring:
                raise PlanError((*loc, "cron"), "cron must repeat; use at for one time")
        else:
            if post.at is not None:
                at, key = post.at, "at"
            else:
                assert plan.start is not None and post.day is not None
                start = plan.start
                clock = post.time or start.strftime("%H:%M")
                hour, minute = map(int, clock.split(":"))
                day = start.date() + dt.timedelta(days=post.day)
                at, key = dt.datetime.combine(day, dt.time(hour, minute)), "day"
            if at.tzinfo is None:
                at = at.replace(tzinfo=tz)
            if at <= now:
                local = at.astimezone(tz).strftime("%Y-%m-%d %H:%M")
                raise PlanError((*loc, key), f"{local} is already in the past")
            when = When(timezone=zone, at=at.astimezone(dt.UTC))
        return phase_name, when, post.content()
    except ScheduleError as error:
        raise PlanError((*loc, "cron"), str(error), error) from None
    except OverflowError:  # a day or an offset that takes the time past the year 9999
        raise PlanError(loc, "the time is out of range") from None
    except ValueError as error:
        if isinstance(error, PlanError):
            raise
        raise PlanError(loc, str(error)) from None
