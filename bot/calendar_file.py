"""Calendar files (YAML): read with the position of every value, so an error names its line;
written back in the same shape, so an export can be edited and imported again."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml
from pydantic import ValidationError
from pydantic_core import ErrorDetails

from campaigns.content import ContentProblem, ContentRefused, HtmlFault, HtmlProblem
from campaigns.plan import Plan, PlanError, PlanProblem
from campaigns.ports.calendar import PostRecord
from campaigns.schedule import CronField, PostStatus, ScheduleError, WhenError

SCHEDULE_FORMS = (
    "`daily 09:00`, `mon,thu 20:00`, `weekdays 8:30` or a five-field cron such as `0 9 * * 1-5`"
)
CRON_FIELDS = {
    CronField.MINUTE: ("minute (1st field)", "0-59", "30 9 * * *"),
    CronField.HOUR: ("hour (2nd field)", "0-23", "0 9 * * *"),
    CronField.DAY: ("day of the month (3rd field)", "1-31", "0 9 1 * *"),
    CronField.MONTH: ("month (4th field)", "1-12 or jan-dec", "0 9 1 1,7 *"),
    CronField.WEEKDAY: (
        "day of the week (5th field)",
        "0-7 (0 and 7 are Sunday, 1 is Monday) or mon-sun",
        "0 9 * * 1-5",
    ),
}
# What each field of a calendar file takes, with an example: said with every error on it.
FIELDS = {
    "campaign": "a name of 1 to 64 characters, e.g. `campaign: 双11`",
    "chat": "the group's id, e.g. `chat: -1001234567890`",
    "timezone": "a time zone name, e.g. `timezone: Asia/Shanghai`",
    "start": "a date and time in the group's time zone, e.g. `start: 2026-12-01 09:00`",
    "phases": "a list of phases, e.g. `phases: [{name: warm-up, posts: [...]}]`",
    "name": "a phase name of 1 to 64 characters, e.g. `name: warm-up`",
    "posts": "a list of posts, each with text and one of day, at or cron",
    "day": "a whole number of days after start, 0 to 365, e.g. `day: 3`",
    "time": 'HH:MM from 00:00 to 23:59, e.g. `time: "20:00"`',
    "at": "a date and time, e.g. `at: 2026-12-01 09:00` (group time) or with an offset",
    "cron": f"{SCHEDULE_FORMS}, e.g. `cron: daily 09:00`",
    "text": 'Telegram HTML, e.g. `text: "<b>Sale</b> starts today"`',
    "photo": "a Telegram file id or an https URL",
    "buttons": "a list like `buttons: [{text: Shop now, url: https://shop.example/}]`",
    "url": "a link starting with https://, http:// or tg://",
    "coupon": "a coupon offer's id, e.g. `coupon: 12`",
    "groupbuy": "a group-buy's id, e.g. `groupbuy: 3`",
    "pin": "true or false",
    "silent": "true or false",
    "replace": "true or false",
    "paused": "true or false",
}


LOOSE = "posts"  # the phase of a document without a campaign: the group's posts in no phase


def phase_of(plan: Plan, name: str) -> str | None:
    """The phase a post is stored with: none for the loose posts an export wrote."""
    return None if plan.campaign is None and name == LOOSE else name


class FileError(ValueError):
    """`file:line:column: where: what`, one line per problem (the first one first)."""

    def __init__(self, path: Path, line: int, column: int, where: str, message: str) -> None:
        super().__init__(f"{path}:{line}:{column}: {where}: {message}")
        self.problems = [self]

    def __str__(self) -> str:
        return "\n".join(str(p.args[0]) for p in self.problems)


def several(errors: list[FileError]) -> FileError:
    """The first error, listing all of them."""
    errors[0].problems = errors
    return errors[0]


def schedule_problem(error: ScheduleError) -> str:
    """A refused schedule, said to an operator: the field, what it takes, an example."""
    detail = error.detail
    if error.reason is WhenError.BAD_CRON and error.field is not None:
        name, allowed, example = CRON_FIELDS[error.field]
        return (
            f"“{detail}” in the {name} is not valid: use {allowed}, with ranges, lists and "
            f"steps too (1-5, 0,6, */2), e.g. `{example}`"
        )
    return {
        WhenError.EMPTY: f"say when, e.g. {SCHEDULE_FORMS}",
        WhenError.BAD_TIME: f"{detail} is not a valid time: use HH:MM from 00:00 to 23:59, "
        "e.g. `daily 09:00` or `2026-12-01 09:00`",
        WhenError.BAD_CRON: f"{detail} is not a valid cron expression: five fields (minute "
        "hour day-of-month month day-of-week), e.g. `0 9 * * 1-5`",
        WhenError.PAST: f"{detail} is already in the past",
        WhenError.NEVER: f"{detail} never happens (no month has that day), e.g. `0 9 28 2 *`",
        WhenError.UNKNOWN: f"can't read “{detail}” as a schedule: use {SCHEDULE_FORMS}",
    }[error.reason]


def html_problem(problem: HtmlProblem) -> str:
    first = problem.names[0] if problem.names else ""
    return {
        HtmlFault.UNESCAPED_AMPERSAND: "unescaped &",
        HtmlFault.UNESCAPED_ANGLE: "unescaped < or >",
        HtmlFault.UNSUPPORTED_TAG: f"unsupported start tag {first!r}",
        HtmlFault.UNMATCHED_END_TAG: f"unmatched end tag {first!r}",
        HtmlFault.UNSUPPORTED_ENTITY: f"unsupported entity &{first};",
        HtmlFault.UNCLOSED_TAGS: f"unclosed tags {list(problem.names)}",
    }[problem.fault]


def content_problem(error: ContentRefused) -> str | None:
    """A refused post, said to an operator; None for a wrong value, which `explain` says
    with what the field takes."""
    problem = error.problem
    if problem in {ContentProblem.TEXT_EMPTY, ContentProblem.TEXT_TOO_LONG}:
        return f"the text has {error.size} characters; {error.low} to {error.limit} allowed"
    if problem is ContentProblem.BUTTON_TEXT_TOO_LONG:
        return f"a button's text has {error.size} characters; 1 to {error.limit} allowed"
    return {
        ContentProblem.BAD_HTML: "HTML Telegram would refuse: "
        + "; ".join(html_problem(p) for p in error.html),
        ContentProblem.TOO_MANY_BUTTONS: f"a post has at most {error.limit} buttons",
        ContentProblem.BUTTON_TEXT_EMPTY: "a button needs a text, e.g. `text: Shop now`",
        ContentProblem.BUTTON_TARGET: "a button needs exactly one of url, coupon or groupbuy",
        ContentProblem.BAD_BUTTON_URL: "a button's url must start with https://, http:// or tg://",
    }.get(problem)


def plan_problem(error: PlanError) -> str:
    """A refused plan or post, said to an operator."""
    if isinstance(error.cause, ScheduleError):
        return schedule_problem(error.cause)
    if isinstance(error.cause, ContentRefused):
        return content_problem(error.cause) or "Telegram would refuse the post: check its text"
    value = error.value
    return {
        PlanProblem.BAD_CLOCK: "time must be HH:MM, e.g. 09:00",
        PlanProblem.ONE_WHEN: "give exactly one of day, at or cron",
        PlanProblem.TIME_WITHOUT_DAY: "time goes with day",
        PlanProblem.UNKNOWN_TIMEZONE: f"unknown timezone {value!r}, e.g. Asia/Shanghai",
        PlanProblem.NO_START: "posts given by day need the campaign's start",
        PlanProblem.CRON_ONCE: "cron must repeat; use at for one time",
        PlanProblem.PAST: f"{value} is already in the past",
        PlanProblem.OUT_OF_RANGE: "the time is out of range",
    }.get(error.problem, "the post can't be scheduled")


LEVELS = {
    "buttons": ("a button", ("text", "url", "coupon", "groupbuy")),
    "posts": ("a post", ("day", "time", "at", "cron", "text", "photo", "buttons", "pin",
                         "silent", "replace", "paused")),
    "phases": ("a phase", ("name", "posts")),
    "": ("a campaign", ("campaign", "chat", "timezone", "start", "phases")),
}  # fmt: skip


def _takes(parents: list[str]) -> str:
    what, keys = LEVELS[next((k for k in reversed(parents) if k in LEVELS), "")]
    return f"{what} takes {', '.join(keys)}"


def explain(error: ErrorDetails) -> str:
    """A validation error said without the validator's own words: what is wrong with the
    field, what it takes and an example."""
    cause = (error.get("ctx") or {}).get("error")
    if isinstance(cause, ScheduleError):
        return schedule_problem(cause)
    if isinstance(cause, PlanError):
        return plan_problem(cause)
    if isinstance(cause, ContentRefused) and (said := content_problem(cause)):
        return said
    keys = [k for k in error["loc"] if isinstance(k, str)]
    takes = FIELDS.get(keys[-1]) if keys else None
    kind = error["type"]
    if kind == "missing":
        what = "Field required"
    elif kind == "extra_forbidden":
        return f"unknown field; {_takes(keys[:-1])}"
    else:
        shown = repr(error.get("input"))
        what = f"{shown if len(shown) <= 40 else shown[:39] + '…'} is not valid"
    return f"{what}: {takes}" if takes else f"{what}: see the example in the README"


def _node_at(node: yaml.Node, loc: tuple[str | int, ...]) -> yaml.Node:
    """The deepest node the path reaches (a missing key points at its parent)."""
    for key in loc:
        if isinstance(node, yaml.MappingNode):
            match = next((v for k, v in node.value if k.value == key), None)
            if match is None:
                return node
            node = match
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int):
            if key >= len(node.value):
                return node
            node = node.value[key]
        else:
            return node
    return node


def where(loc: tuple[str | int, ...]) -> str:
    return ".".join(f"[{k}]" if isinstance(k, int) else str(k) for k in loc).replace(".[", "[")


def error_at(path: Path, root: yaml.Node, loc: tuple[str | int, ...], message: str) -> FileError:
    mark = _node_at(root, loc).start_mark
    return FileError(path, mark.line + 1, mark.column + 1, where(loc) or "-", message)


def load(path: Path) -> list[tuple[Plan, yaml.Node]]:
    """Every document of the file as a Plan, with its node tree for later errors."""
    text = path.read_text(encoding="utf-8")
    try:
        roots = list(yaml.compose_all(text, Loader=yaml.SafeLoader))
        datas = list(yaml.safe_load_all(text))
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (0, 0)
        raise FileError(path, line, column, "-", str(error.problem)) from None
    except yaml.YAMLError as error:  # a control character: the reader has no mark
        raise FileError(path, 1, 1, "-", str(error)) from None
    plans, problems = [], []
    for root, data in zip(roots, datas, strict=True):
        if root is None:
            continue
        try:
            plans.append((Plan.model_validate(data), root))
        except ValidationError as error:
            for each in error.errors():
                loc = tuple(k for k in each["loc"] if isinstance(k, str | int))
                problems.append(error_at(path, root, loc, explain(each)))
    if problems:
        raise several(problems)
    if not plans:
        raise FileError(path, 1, 1, "-", "the file has no campaign")
    return plans


def plan_error(path: Path, root: yaml.Node, error: PlanError) -> FileError:
    """Every bad post of the plan, each at its line."""
    return several([error_at(path, root, e.loc, plan_problem(e)) for e in error.problems])


def dump(
    posts: list[PostRecord], chat_id: int, journeys: dict[str, dict[str, object]] | None = None
) -> str:
    """Live posts as calendar documents, one per campaign, phases in order of first run; the
    group's journeys (`journey_entries`), when it set any, as a document of their own."""
    docs: dict[str | None, dict[str, Any]] = {}
    for p in sorted(posts, key=lambda p: p.id):  # phases in the order they were planned
        doc = docs.setdefault(
            p.campaign,
            {"campaign": p.campaign, "chat": chat_id, "timezone": p.when.timezone, "phases": []},
        )
        phase_name = p.phase or LOOSE
        phase = next((ph for ph in doc["phases"] if ph["name"] == phase_name), None)
        if phase is None:
            phase = {"name": phase_name, "posts": []}
            doc["phases"].append(phase)
        entry: dict[str, Any] = {}
        if p.when.cron is not None:
            entry["cron"] = p.when.describe()  # the friendly form, if that is what was written
        else:
            assert p.when.at is not None
            local = p.when.at.astimezone(ZoneInfo(p.when.timezone))
            entry["at"] = local.strftime("%Y-%m-%d %H:%M:%S" if local.second else "%Y-%m-%d %H:%M")
        entry.update(p.content.model_dump(mode="json", exclude_defaults=True))
        if entry.pop("replace_previous", False):
            entry["replace"] = True
        if p.status == PostStatus.PAUSED:
            entry["paused"] = True
        phase["posts"].append(entry)
    for doc in docs.values():
        if doc["campaign"] is None:
            del doc["campaign"]
    documents = list(docs.values())
    if journeys:
        documents.append({"chat": chat_id, "journeys": journeys})
    return yaml.safe_dump_all(documents, allow_unicode=True, sort_keys=False)
