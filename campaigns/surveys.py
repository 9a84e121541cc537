"""Feedback surveys (用户反馈): one question rated by buttons, CSAT on 1-5 or NPS on 0-10.

Each member's answer is one row per survey (a second tap changes it). What the answers mean
is said here once:

- **CSAT** = the share of answers that are 4 or 5 (satisfied), in percent;
- **NPS** = % promoters (9-10) − % detractors (0-6), from −100 to 100; 7-8 are passives.

With no answers there is no score (None), never 0.
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum

from campaigns.access import parse_id
from campaigns.errors import DomainError

QUESTION_MAX = 300  # characters: the question is the post's text, with room for the hint
TREND = 5  # the latest surveys of each kind shown under /survey results, oldest first
LISTED = 20  # /survey list


class SurveyKind(StrEnum):
    CSAT = "csat"
    NPS = "nps"


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
    AUDIENCE = "audience"  # `@audience`: sending privately is not built yet


@dataclass
class SurveyInputError(DomainError):
    problem: SurveyProblem
    value: str = ""


class SurveyRefusal(StrEnum):
    UNKNOWN = "unknown"  # no such survey in this group
    CLOSED = "closed"  # closed: answers are no longer taken
    OUT_OF_RANGE = "out_of_range"  # a value not on the survey's scale


@dataclass
class SurveyRefused(DomainError):
    reason: SurveyRefusal
    survey_id: int = 0


@dataclass(frozen=True)
class SurveyCommand:
    verb: SurveyVerb
    kind: SurveyKind | None = None
    question: str | None = None
    survey_id: int | None = None


def parse_survey_command(words: Sequence[str]) -> SurveyCommand:
    """`csat|nps <question>`, `results [id]`, `list`, `close <id>`; SurveyInputError for
    anything else, and nothing else is raised."""
    first = words[0].strip().casefold() if words else ""
    rest = list(words[1:])
    if first in (SurveyKind.CSAT, SurveyKind.NPS):
        if rest and rest[-1].startswith("@") and len(rest[-1]) > 1:
            raise SurveyInputError(SurveyProblem.AUDIENCE, rest[-1][:40])
        return SurveyCommand(SurveyVerb.NEW, SurveyKind(first), question(" ".join(rest)))
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


def question(raw: str) -> str:
    """The question as posted: spaces collapsed (line breaks kept; full-width punctuation too,
    so no NFKC), 1-300 characters, no control or format characters."""
    lines = [" ".join(line.split()) for line in raw.splitlines()]
    text = "\n".join(line for line in lines if line)
    if not 1 <= len(text) <= QUESTION_MAX or any(
        unicodedata.category(ch).startswith("C") and ch != "\n" for ch in text
    ):
        raise SurveyInputError(SurveyProblem.QUESTION, raw[:40])
    return text


def on_scale(kind: SurveyKind, value: int) -> bool:
    """Whether `value` is an answer a survey of this kind takes."""
    return value in SCALE[kind]


@dataclass(frozen=True)
class Survey:
    id: int
    chat_pk: int
    kind: SurveyKind
    question: str
    created_at: dt.datetime
    closed_at: dt.datetime | None

    @property
    def open(self) -> bool:
        return self.closed_at is None


@dataclass(frozen=True)
class Score:
    """A survey's answers and its figure: CSAT's satisfied (4-5), or NPS's promoters (9-10)
    and detractors (0-6)."""

    kind: SurveyKind
    answers: int
    good: int  # CSAT: 4-5; NPS: promoters
    bad: int  # CSAT: 1-3; NPS: detractors
    value: float | None  # CSAT: percent satisfied; NPS: −100..100; None without answers


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
    return csat(distribution) if kind is SurveyKind.CSAT else nps(distribution)


@dataclass(frozen=True)
class SurveyResult:
    survey: Survey
    distribution: tuple[tuple[int, int], ...]  # every value of the scale with its count
    score: Score


def survey_result(survey: Survey, distribution: Mapping[int, int]) -> SurveyResult:
    """The survey's answers per value of its scale (zeros included) and its score."""
    spread = tuple((v, distribution.get(v, 0)) for v in SCALE[survey.kind])
    return SurveyResult(survey, spread, score(survey.kind, distribution))


@dataclass(frozen=True)
class SurveyReport:
    """/survey results: one survey in full, and the latest of each kind for the trend."""

    focus: SurveyResult | None
    trend: dict[SurveyKind, list[SurveyResult]]  # oldest first, at most TREND each
