"""When a scheduled post runs: a one-off time, a cron expression or a friendly form.

Times are wall-clock times in the group's timezone. Cron means standard cron: in the
day-of-week field 0 and 7 are Sunday, 1 is Monday (`weekdays()` reads the field; the engine
translates it to its own numbering). The cron arithmetic is a port: the
composition root installs APScheduler's CronTrigger (bot/wiring.py), so a daily 09:00 stays
at 09:00 local across DST changes. A time that does not exist on a spring-forward day runs
once, right after the jump; a fixed time that occurs twice on a fall-back night runs once.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol
from zoneinfo import ZoneInfo

from campaigns.errors import DomainError

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
FRIENDLY = re.compile(
    r"^(?P<days>daily|weekdays|weekends|(?:mon|tue|wed|thu|fri|sat|sun)"
    r"(?:\s*[,-]\s*(?:mon|tue|wed|thu|fri|sat|sun))*)\s+(?P<h>\d{1,2}):(?P<m>\d{2})$"
)
ONE_OFF = re.compile(r"^\d{4}-\d{2}-\d{2}[ t]\d{1,2}:\d{2}(:\d{2})?([+-]\d{2}:?\d{2}|z)?$")
DAY_SETS = {"daily": "*", "weekdays": "mon-fri", "weekends": "sat,sun"}
LOOKAHEAD = 1000  # occurrences examined when catching up after downtime
MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
MONTH_DAYS = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)  # 29 Feb comes round eventually
CRON_PART = re.compile(r"(?P<first>\*|\w+)(?:-(?P<last>\w+))?(?:/(?P<step>\d+))?", re.ASCII)
WEEKDAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")  # standard cron: Sunday is 0 (and 7)


class CronField(StrEnum):
    """The five fields of a cron expression, in order."""

    MINUTE = "minute"
    HOUR = "hour"
    DAY = "day"
    MONTH = "month"
    WEEKDAY = "weekday"


# (low, high, names) of each field; a weekday's high is 7 (Sunday again).
FIELD_RANGES: dict[CronField, tuple[int, int, tuple[str, ...]]] = {
    CronField.MINUTE: (0, 59, ()),
    CronField.HOUR: (0, 23, ()),
    CronField.DAY: (1, 31, ()),
    CronField.MONTH: (1, 12, MONTHS),
    CronField.WEEKDAY: (0, 7, WEEKDAYS),
}


class WhenError(StrEnum):
    """Why a schedule was refused; handlers turn these into the member's language."""

    EMPTY = "empty"
    BAD_TIME = "bad_time"  # 25:00, 09:75
    BAD_CRON = "bad_cron"
    PAST = "past"
    NEVER = "never"  # a cron that never fires (30 Feb)
    UNKNOWN = "unknown"  # neither a time, a friendly form nor a cron


class ScheduleError(DomainError, ValueError):
    """`detail` is the offending text; `field` the cron field it was found in, if any."""

    def __init__(self, reason: WhenError, detail: str = "", field: CronField | None = None) -> None:
        super().__init__(f"{reason}: {detail}" if detail else str(reason))
        self.reason = reason
        self.detail = detail
        self.field = field


class PostStatus(StrEnum):
    DRAFT = "draft"  # previewed, not yet saved
    ACTIVE = "active"
    PAUSED = "paused"
    DONE = "done"  # a one-off that ran, or a cron with no more runs
    DELETED = "deleted"


LIVE = (PostStatus.ACTIVE, PostStatus.PAUSED)  # running or paused: listed, exported, replaced


class StepStatus(StrEnum):
    """A welcome sequence step's state."""

    ACTIVE = "active"
    PAUSED = "paused"
    DELETED = "deleted"


class CronEngine(Protocol):
    def next_fire(self, expr: str, tz: ZoneInfo, after: dt.datetime) -> dt.datetime | None:
        """The first fire time at or after `after` (local, aware); ValueError if invalid."""


_engines: list[CronEngine] = []


def use_cron(engine: CronEngine) -> None:
    """Called at start by the composition root (bot.wiring.install)."""
    _engines[:] = [engine]


def cron_engine() -> CronEngine:
    if not _engines:
        raise RuntimeError("no cron engine installed: call bot.wiring.install() at start")
    return _engines[0]


@dataclass(frozen=True)
class When:
    """A post's schedule: exactly one of `cron` (recurring) or `at` (one-off, UTC).

    `label` is the friendly form the operator wrote (`daily 09:00`), shown back instead of
    the cron expression it stands for."""

    timezone: str
    cron: str | None = None
    at: dt.datetime | None = None
    label: str | None = None

    @property
    def recurring(self) -> bool:
        return self.cron is not None

    def next_after(self, after: dt.datetime) -> dt.datetime | None:
        """The first run strictly after `after` (UTC), or None once a one-off has passed."""
        if self.at is not None:
            return self.at if self.at > after else None
        assert self.cron is not None
        tz = ZoneInfo(self.timezone)
        fixed_hours = not re.search(r"[*/]", self.cron.split()[1])
        at = after
        while True:
            local = (at + dt.timedelta(microseconds=1)).astimezone(tz)
            nxt = cron_engine().next_fire(self.cron, tz, local)
            if nxt is None:
                return None
            utc = nxt.astimezone(dt.UTC)
            first = nxt.replace(tzinfo=None).replace(tzinfo=tz, fold=0).astimezone(dt.UTC)
            if fixed_hours and first < utc:
                at = utc  # the repeated hour of a fall-back night: this time already ran
                continue
            return utc

    def upcoming(self, after: dt.datetime, n: int) -> list[dt.datetime]:
        out: list[dt.datetime] = []
        at: dt.datetime | None = after
        while at is not None and len(out) < n:
            at = self.next_after(at)
            if at is not None:
                out.append(at)
        return out

    def latest_due(self, due: dt.datetime, now: dt.datetime) -> tuple[dt.datetime, int]:
        """The last run at or before `now`, starting from the stored `due`; and how many
        runs before it were passed over (the bot was down through them)."""
        latest, passed = due, 0
        for _ in range(LOOKAHEAD):
            nxt = self.next_after(latest)
            if nxt is None or nxt > now:
                break
            latest, passed = nxt, passed + 1
        return latest, passed

    def describe(self) -> str:
        """As the operator wrote it: the friendly form, the cron expression or the local
        one-off time."""
        if self.cron is not None:
            return self.label or self.cron
        assert self.at is not None
        return self.at.astimezone(ZoneInfo(self.timezone)).strftime("%Y-%m-%d %H:%M")


def _values(field: str, low: int, high: int, names: tuple[str, ...] = ()) -> set[int] | None:
    """The values a cron field names, or None when it is not plain enough to tell."""
    out: set[int] = set()
    for part in field.lower().split(","):
        match = CRON_PART.fullmatch(part)
        if match is None or (match["step"] is not None and int(match["step"]) == 0):
            return None
        ends: list[int | None] = []
        for token in (match["first"], match["last"] or match["first"]):
            if token == "*":
                ends.append(None)
            elif token.isdigit() and len(token) <= 2:
                ends.append(int(token))
            elif token in names:
                ends.append(names.index(token) + low)
            else:
                return None
        first = low if ends[0] is None else ends[0]
        last = high if ends[1] is None or (match["step"] and not match["last"]) else ends[1]
        out.update(range(first, min(last, high) + 1, int(match["step"] or 1)))
    return out


def may_fire(expr: str) -> bool:
    """False when no month in the expression has any of its days (`0 9 31 4 *`, 30 Feb).

    Searching for the next run of such an expression walks to the year 9999 first, which
    holds up the event loop; when a field is not plain enough to tell, the answer is True.
    """
    fields = expr.split()
    if len(fields) != 5:
        return True
    days, months = _values(fields[2], 1, 31), _values(fields[3], 1, 12, MONTHS)
    if days is None or months is None:
        return True
    return any(day <= MONTH_DAYS[month - 1] for month in months for day in days)


def _clock(h: str, m: str) -> tuple[int, int]:
    hour, minute = int(h), int(m)
    if not (0 <= hour <= 23 and 0 <= minute <= 59):
        raise ScheduleError(WhenError.BAD_TIME, f"{h}:{m}")
    return hour, minute


def _field_values(field: CronField, text: str) -> set[int]:
    """The values one field of a standard cron expression names; ScheduleError naming the
    field when a part is out of range or unreadable."""
    low, high, names = FIELD_RANGES[field]
    out: set[int] = set()
    for part in text.lower().split(","):
        match = CRON_PART.fullmatch(part)
        if match is None:
            raise ScheduleError(WhenError.BAD_CRON, part, field)
        ends: list[int] = []
        for i, token in enumerate((match["first"], match["last"])):
            if token is None:
                continue
            if token == "*" and i == 0 and match["last"] is None:
                ends += [low, high if field is not CronField.WEEKDAY else 6]
            elif token.isdigit() and len(token) <= 2 and low <= int(token) <= high:
                ends.append(int(token))
            elif token in names:
                value = names.index(token) + (low if field is CronField.MONTH else 0)
                # `fri-sun`: Sunday closing a range is the 7 after Saturday
                ends.append(7 if field is CronField.WEEKDAY and i == 1 and value == 0 else value)
            else:
                raise ScheduleError(WhenError.BAD_CRON, part, field)
        step = int(match["step"]) if match["step"] is not None else 1
        if step == 0:
            raise ScheduleError(WhenError.BAD_CRON, part, field)
        if len(ends) == 1:  # `5/15` runs from 5 to the field's end
            ends.append(ends[0] if match["step"] is None else high)
        first, last = ends[0], ends[1]
        if first > last:
            raise ScheduleError(WhenError.BAD_CRON, part, field)
        out.update(range(first, last + 1, step))
    return out


def weekdays(text: str) -> frozenset[int]:
    """The days a standard cron day-of-week field names, Sunday = 0 (7 is Sunday too)."""
    return frozenset(day % 7 for day in _field_values(CronField.WEEKDAY, text))


def check_cron(expr: str) -> None:
    """ScheduleError naming the first field of a five-field cron expression that is not
    standard cron (`last` day of the month is allowed too)."""
    parts = expr.split()
    if len(parts) != len(CronField):
        raise ScheduleError(WhenError.UNKNOWN, expr)
    for field, text in zip(CronField, parts, strict=True):
        if field is CronField.DAY and text.lower() == "last":
            continue
        _field_values(field, text)


ZH_DAY = re.compile(r"(?:每)?(?:周|星期|礼拜)([一二三四五六日天])")
ZH_DAYS = {"一": "mon", "二": "tue", "三": "wed", "四": "thu", "五": "fri", "六": "sat",
           "日": "sun", "天": "sun"}  # fmt: skip
ZH_WORDS = (("每天", "daily"), ("每日", "daily"), ("工作日", "weekdays"), ("周末", "weekends"))
ZH_MARKS = str.maketrans({"：": ":", "、": ",", "，": ",", "和": ",", "至": "-", "到": "-",
                          "~": "-", "～": "-"})  # fmt: skip


def english_days(text: str) -> str:
    """The friendly form written in Chinese, in the English words the parser reads:
    `每天 9:00` -> `daily 9:00`, `每周一、周四 20：00` -> `mon,thu 20:00`, `周一至周五 8:30`
    -> `mon-fri 8:30`, `工作日` / `周末` -> `weekdays` / `weekends`. Anything else is left
    as it was (and refused as it would have been)."""
    out = text
    for word, english in ZH_WORDS:
        out = out.replace(word, f" {english} ")
    out = ZH_DAY.sub(lambda m: ZH_DAYS[m.group(1)], out).translate(ZH_MARKS)
    out = re.sub(r"(?<=[a-z])(?=\d)", " ", out)  # 每天09:00: no space after the day
    out = re.sub(r"\s*([,-])\s*", r"\1", out)
    return " ".join(out.split())


def friendly_cron(text: str) -> str | None:
    """The cron expression a friendly form stands for (`daily 09:00` -> `0 9 * * *`; the
    same in Chinese: `每天 09:00`)."""
    friendly = FRIENDLY.match(english_days(" ".join(text.strip().lower().split())))
    if friendly is None:
        return None
    hour, minute = _clock(friendly["h"], friendly["m"])
    days = DAY_SETS.get(friendly["days"], re.sub(r"\s+", "", friendly["days"]))
    return f"{minute} {hour} * * {days}"


def stored_when(timezone: str, schedule: str | None, at: dt.datetime | None) -> When:
    """A schedule as it was stored: a friendly form or a cron expression, or a time."""
    if schedule is None:
        return When(timezone=timezone, at=at)
    cron = friendly_cron(schedule)
    return When(timezone=timezone, cron=cron or schedule, label=schedule if cron else None)


def parse_when(text: str, timezone: str, now: dt.datetime) -> When:
    """`daily 09:00`, `mon,thu 20:00`, `weekdays 8:30` (or in Chinese: `每天 09:00`,
    `每周一、周四 20:00`, `工作日 8:30`), `2026-12-01 09:00` (local, or with an offset), or a
    five-field cron expression such as `0 9 * * 1-5`."""
    raw = " ".join(text.strip().lower().split())
    if not raw:
        raise ScheduleError(WhenError.EMPTY)
    tz = ZoneInfo(timezone)
    cron = friendly_cron(raw)
    if cron is not None:
        return _cron(cron, timezone, now, label=raw)
    if ONE_OFF.match(raw):
        try:
            at = dt.datetime.fromisoformat(raw.replace(" ", "T").upper())
        except ValueError:  # 30 February
            raise ScheduleError(WhenError.BAD_TIME, raw) from None
        if at.tzinfo is None:
            at = at.replace(tzinfo=tz)
        try:
            at = at.astimezone(dt.UTC)
            at.astimezone(tz)  # it is shown back in the group's timezone
        except OverflowError:  # past the year 9999 in UTC or in the group's timezone
            raise ScheduleError(WhenError.BAD_TIME, raw) from None
        if at <= now:
            raise ScheduleError(WhenError.PAST, raw)
        return When(timezone=timezone, at=at)
    if len(raw.split()) == 5:
        return _cron(raw, timezone, now)
    raise ScheduleError(WhenError.UNKNOWN, raw)


def _cron(expr: str, timezone: str, now: dt.datetime, label: str | None = None) -> When:
    check_cron(expr)
    when = When(timezone=timezone, cron=expr, label=label)
    try:
        nxt = when.next_after(now)
    except ValueError:  # the engine's own words are not shown: the expression is
        raise ScheduleError(WhenError.BAD_CRON, expr) from None
    if nxt is None:
        raise ScheduleError(WhenError.NEVER, expr)
    return when
