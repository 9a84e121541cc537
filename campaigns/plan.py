"""A campaign plan (群SOP): phases of posts at dates, at offsets from the campaign start, or
recurring. Read from a calendar file, validated whole before anything is stored."""

from __future__ import annotations

import datetime as dt
import re
from enum import StrEnum
from typing import Self
from zoneinfo import ZoneInfo

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from campaigns.content import Button, ContentRefused, PostContent, refusal_of
from campaigns.errors import DomainError
from campaigns.schedule import ScheduleError, When, check_cron, friendly_cron, parse_when
from campaigns.settings import known_timezone

CLOCK = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


class PlanProblem(StrEnum):
    """Why a plan or one of its posts was refused; the command line says each one."""

    BAD_CLOCK = "bad_clock"  # `time` is not HH:MM
    ONE_WHEN = "one_when"  # not exactly one of day, at or cron
    TIME_WITHOUT_DAY = "time_without_day"
    UNKNOWN_TIMEZONE = "unknown_timezone"
    NO_START = "no_start"  # posts given by day, and no start to count from
    CRON_ONCE = "cron_once"  # a cron that fires once: `at` says that
    PAST = "past"  # `value` is the local time
    OUT_OF_RANGE = "out_of_range"  # past the year 9999
    SCHEDULE = "schedule"  # `cause` is the ScheduleError
    CONTENT = "content"  # `cause` is the ContentRefused


class PlanError(DomainError, ValueError):
    """A plan or post that cannot be scheduled; `loc` points into the document (empty when
    raised inside validation, where the ValidationError's own loc says where), `value` is the
    offending value and `cause` the schedule's or content's own error if that was the reason.
    Raised for the first bad post, with every bad post of the plan in `problems`."""

    def __init__(
        self,
        loc: tuple[str | int, ...],
        problem: PlanProblem,
        value: str = "",
        cause: ScheduleError | ContentRefused | None = None,
    ) -> None:
        super().__init__(problem)  # the code, never a sentence: texts say it
        self.loc = loc
        self.problem = problem
        self.value = value
        self.cause = cause
        self.problems: list[PlanError] = [self]


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
            raise PlanError((), PlanProblem.BAD_CLOCK, value)
        return value

    @model_validator(mode="after")
    def _one_when(self) -> Self:
        given = [k for k in ("day", "at", "cron") if getattr(self, k) is not None]
        if len(given) != 1:
            raise PlanError((), PlanProblem.ONE_WHEN)
        if self.time is not None and self.day is None:
            raise PlanError((), PlanProblem.TIME_WITHOUT_DAY)
        try:
            self.content()
        except ValidationError as error:
            raise refusal_of(error) from None  # the code travels on, as the cron's does
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
    phases: list[PlanPhase] = Field(default_factory=list)
    # `winback: {on: true, offer: 12}`: the /journey settings, checked as /journey checks them
    journeys: dict[str, dict[str | bool, str | int | float | bool | None]] = Field(
        default_factory=dict
    )

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str | None) -> str | None:
        if value is not None and not known_timezone(value):
            raise PlanError((), PlanProblem.UNKNOWN_TIMEZONE, value)
        return value

    @model_validator(mode="after")
    def _something(self) -> Self:
        if not self.phases and not self.journeys:
            raise ValueError("a calendar document needs phases of posts, journeys, or both")
        return self

    @model_validator(mode="after")
    def _start_for_days(self) -> Self:
        if self.start is None and any(p.day is not None for ph in self.phases for p in ph.posts):
            raise PlanError((), PlanProblem.NO_START)
        return self


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
                raise PlanError((*loc, "cron"), PlanProblem.CRON_ONCE, post.cron)
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
                raise PlanError((*loc, key), PlanProblem.PAST, local)
            when = When(timezone=zone, at=at.astimezone(dt.UTC))
        return phase_name, when, post.content()
    except ScheduleError as error:
        raise PlanError((*loc, "cron"), PlanProblem.SCHEDULE, error.detail, error) from None
    except OverflowError:  # a day or an offset that takes the time past the year 9999
        raise PlanError(loc, PlanProblem.OUT_OF_RANGE) from None
    except PlanError:
        raise
    except ValidationError as error:  # checked when the post was read; kept safe regardless
        raise PlanError(loc, PlanProblem.CONTENT, cause=refusal_of(error)) from None
    except ValueError:  # date arithmetic that leaves the calendar: "year 0 is out of range"
        raise PlanError(loc, PlanProblem.OUT_OF_RANGE) from None
