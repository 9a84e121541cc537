"""Feedback surveys (用户反馈): one question rated by buttons, CSAT on 1-5 or NPS on 0-10,
asked in the group or privately to a saved audience; or a native Telegram poll in the group.

Each member's answer is one row per survey (a second tap or vote changes it; a poll's
retracted vote removes it). What the answers mean is said here once:

- **CSAT** = the share of answers that are 4 or 5 (satisfied), in percent;
- **NPS** = % promoters (9-10) − % detractors (0-6), from −100 to 100; 7-8 are passives;
- a **poll** has no score: its result is the votes per option.

With no answers there is no score (None), never 0. Several surveys of a kind together (a
campaign's) score their answers pooled: every answer counts once, whichever survey it is to.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from campaigns.access import parse_id
from campaigns.audiences import AudienceRefused, parse_name
from campaigns.errors import DomainError

# Telegram's limits, counted as it counts them (UTF-16 code units): a poll's question 1-300,
# an option 1-100, and 1-12 options (a poll asks to choose, so 2 at least here).
QUESTION_MAX = 300  # also a rating question's, which leaves room for the hint in its post
OPTION_MAX = 100
OPTIONS = range(2, 13)
TREND = 5  # the latest surveys of each kind shown under /survey results, oldest first
LISTED = 20  # /survey list
NPS_RANGE = range(-100, 101)  # what an NPS can be (and so a campaign's NPS target)
BARS = ("|", "｜")  # between a poll's question and its options (the full-width one too)


class SurveyKind(StrEnum):
    CSAT = "csat"
    NPS = "nps"
    POLL = "poll"  # a native Telegram poll: one option per member, no score


RATED = (SurveyKind.CSAT, SurveyKind.NPS)  # the kinds with a score (and a trend)
SCALE: dict[SurveyKind, range] = {SurveyKind.CSAT: range(1, 6), SurveyKind.NPS: range(0, 11)}


class SurveyVerb(StrEnum):
    NEW = "new"  # `/survey csat|nps <question>`
    RESULTS = "results"
    LIST = "list"
    CLOSE = "close"


class SurveyProblem(StrEnum):
    USAGE = "usage"  # none of the forms
    QUESTION = "question"  # empty, too long, or control characters
    ID = "id"  # not a survey id
    AUDIENCE = "audience"  # `@name` that no saved audience can be called
    POLL_AUDIENCE = "poll_audience"  # `/survey poll @audience`: a poll is the group's
    OPTIONS = "options"  # a poll with fewer than 2 or more than 12 options
    OPTION = "option"  # an option empty, too long, or with control characters
    DUPLICATE = "duplicate"  # two options that read the same


@dataclass
class SurveyInputError(DomainError):
    problem: SurveyProblem
    value: str = ""


class SurveyRefusal(StrEnum):
    UNKNOWN = "unknown"  # no such survey in this group
    CLOSED = "closed"  # closed: answers are no longer taken
    OUT_OF_RANGE = "out_of_range"  # a value not on the survey's scale, or not one option
    NOBODY = "nobody"  # the audience selects nobody the bot may write to privately


@dataclass
class SurveyRefused(DomainError):
    reason: SurveyRefusal
    survey_id: int = 0
    audience: str = ""  # NOBODY: the audience's name


@dataclass(frozen=True)
class SurveyCommand:
    verb: SurveyVerb
    kind: SurveyKind | None = None
    question: str | None = None
    survey_id: int | None = None
    options: tuple[str, ...] = ()  # a poll's
    audience: str | None = None  # a saved audience's name: asked privately


def parse_survey_command(words: Sequence[str]) -> SurveyCommand:
    """`csat|nps [@audience] <question>`, `poll <question> | <option> | <option> …`,
    `results [id]`, `list`, `close <id>`; SurveyInputError for anything else, and nothing
    else is raised."""
    first = words[0].strip().casefold() if words else ""
    rest = list(words[1:])
    if first in RATED:
        audience = None
        if rest and rest[0].startswith("@"):
            audience, rest = audience_name(rest[0]), rest[1:]
        return SurveyCommand(
            SurveyVerb.NEW, SurveyKind(first), question(" ".join(rest)), audience=audience
        )
    if first == SurveyKind.POLL:
        if rest and rest[0].startswith("@"):
            raise SurveyInputError(SurveyProblem.POLL_AUDIENCE, rest[0][:40])
        asked, options = poll(" ".join(rest))
        return SurveyCommand(SurveyVerb.NEW, SurveyKind.POLL, asked, options=options)
    if first == SurveyVerb.LIST and not rest:
        return SurveyCommand(SurveyVerb.LIST)
    if first == SurveyVerb.RESULTS and not rest:
        return SurveyCommand(SurveyVerb.RESULTS)
    if first in (SurveyVerb.RESULTS, SurveyVerb.CLOSE) and len(rest) == 1:
        survey_id = parse_id(rest[0])
        if survey_id is None:
            raise SurveyInputError(SurveyProblem.ID, rest[0][:20])
        return SurveyCommand(SurveyVerb(first), survey_id=survey_id)
    raise SurveyInputError(SurveyProblem.USAGE, first[:20])


def audience_name(word: str) -> str:
    """`@vip`: a saved audience's name as stored (lowercased), or SurveyInputError."""
    try:
        return parse_name(word.removeprefix("@")) if len(word) > 1 else parse_name("")
    except AudienceRefused:
        raise SurveyInputError(SurveyProblem.AUDIENCE, word[:40]) from None


def _utf16(text: str) -> int:
    """A length as Telegram counts it: an emoji outside the BMP is two."""
    return len(text.encode("utf-16-le")) // 2


def _clean(raw: str, most: int) -> str | None:
    """Spaces collapsed (line breaks kept; full-width punctuation too, so no NFKC), 1 to
    `most` long, no control or format characters; None otherwise."""
    lines = [" ".join(line.split()) for line in raw.splitlines()]
    text = "\n".join(line for line in lines if line)
    if not 1 <= _utf16(text) <= most or any(
        unicodedata.category(ch).startswith("C") and ch != "\n" for ch in text
    ):
        return None
    return text


def question(raw: str) -> str:
    """The question as posted: 1-300 characters, no control or format characters."""
    text = _clean(raw, QUESTION_MAX)
    if text is None:
        raise SurveyInputError(SurveyProblem.QUESTION, raw[:40])
    return text


def poll(raw: str) -> tuple[str, tuple[str, ...]]:
    """`<question> | <option> | <option> …`: the question and 2-12 distinct options of
    1-100 characters each, as Telegram takes them."""
    for bar in BARS[1:]:
        raw = raw.replace(bar, BARS[0])
    asked, *parts = raw.split(BARS[0])
    text = question(asked)
    if len(parts) not in OPTIONS:
        raise SurveyInputError(SurveyProblem.OPTIONS, str(len(parts)))
    options: list[str] = []
    for part in parts:
        option = _clean(part, OPTION_MAX)
        if option is None or "\n" in option:
            raise SurveyInputError(SurveyProblem.OPTION, part.strip()[:40])
        if option.casefold() in (o.casefold() for o in options):
            raise SurveyInputError(SurveyProblem.DUPLICATE, option[:40])
        options.append(option)
    return text, tuple(options)


def on_scale(kind: SurveyKind, value: int) -> bool:
    """Whether `value` is an answer a rated survey of this kind takes."""
    return value in SCALE.get(kind, range(0))


@dataclass(frozen=True)
class Survey:
    id: int
    chat_pk: int
    kind: SurveyKind
    question: str
    created_at: dt.datetime
    closed_at: dt.datetime | None
    options: tuple[str, ...] = ()  # a poll's, in Telegram's order (option id = index)
    audience: str | None = None  # asked privately to this saved audience's members

    @property
    def open(self) -> bool:
        return self.closed_at is None

    @property
    def scale(self) -> range:
        """The answers it takes: a rating's values, or a poll's option ids."""
        if self.kind is SurveyKind.POLL:
            return range(len(self.options))
        return SCALE[self.kind]


def poll_choice(survey: Survey, option_ids: Sequence[int]) -> int | None:
    """A poll answer's one option (None: the vote was retracted); SurveyRefused when it is
    not exactly one of the poll's options (a poll here takes one answer per member)."""
    if not option_ids:
        return None
    if len(option_ids) != 1 or option_ids[0] not in survey.scale:
        raise SurveyRefused(SurveyRefusal.OUT_OF_RANGE, survey.id)
    return option_ids[0]


@dataclass(frozen=True)
class Score:
    """A survey's answers and its figure: CSAT's satisfied (4-5), or NPS's promoters (9-10)
    and detractors (0-6)."""

    kind: SurveyKind
    answers: int
    good: int  # CSAT: 4-5; NPS: promoters
    bad: int  # CSAT: 1-3; NPS: detractors
    value: float | None  # CSAT: percent satisfied; NPS: −100..100; None without answers
    # (and always None for a poll, whose `answers` are its votes)


def csat(distribution: Mapping[int, int]) -> Score:
    """CSAT = answers of 4 or 5 / answers, in percent (values off the 1-5 scale ignored)."""
    counts = {v: n for v, n in distribution.items() if v in SCALE[SurveyKind.CSAT]}
    answers = sum(counts.values())
    good = sum(n for v, n in counts.items() if v >= 4)
    value = 100 * good / answers if answers else None
    return Score(SurveyKind.CSAT, answers, good, answers - good, value)


def nps(distribution: Mapping[int, int]) -> Score:
    """NPS = % promoters (9-10) − % detractors (0-6) (values off the 0-10 scale ignored)."""
    counts = {v: n for v, n in distribution.items() if v in SCALE[SurveyKind.NPS]}
    answers = sum(counts.values())
    promoters = sum(n for v, n in counts.items() if v >= 9)
    detractors = sum(n for v, n in counts.items() if v <= 6)
    value = 100 * (promoters - detractors) / answers if answers else None
    return Score(SurveyKind.NPS, answers, promoters, detractors, value)


def score(kind: SurveyKind, distribution: Mapping[int, int]) -> Score:
    if kind is SurveyKind.POLL:
        return Score(kind, sum(distribution.values()), 0, 0, None)
    return csat(distribution) if kind is SurveyKind.CSAT else nps(distribution)


def pooled(kind: SurveyKind, distributions: Iterable[Mapping[int, int]]) -> Score:
    """Several surveys of one kind scored together: their answers added up, each once."""
    total: dict[int, int] = {}
    for distribution in distributions:
        for value, n in distribution.items():
            total[value] = total.get(value, 0) + n
    return score(kind, total)


def change(before: Score, after: Score) -> float | None:
    """How far the score moved from one survey to the next (CSAT in percentage points,
    NPS in points); None unless both have a score."""
    if before.value is None or after.value is None:
        return None
    return after.value - before.value


@dataclass(frozen=True)
class SurveyResult:
    survey: Survey
    distribution: tuple[tuple[int, int], ...]  # every value of the scale with its count
    score: Score


def survey_result(survey: Survey, distribution: Mapping[int, int]) -> SurveyResult:
    """The survey's answers per value of its scale, or per option of a poll (zeros
    included), and its score (values off the scale are not counted)."""
    spread = tuple((v, distribution.get(v, 0)) for v in survey.scale)
    return SurveyResult(survey, spread, score(survey.kind, dict(spread)))


@dataclass(frozen=True)
class SurveyReport:
    """/survey results: one survey in full, and the latest of each kind for the trend."""

    focus: SurveyResult | None
    trend: dict[SurveyKind, list[SurveyResult]]  # CSAT and NPS: oldest first, TREND each
    sent: int | None = None  # asked privately: the focus's messages delivered so far
    queued: int | None = None  # ... of how many
