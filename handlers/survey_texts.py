"""What /survey says: the question post and its rating buttons, the tapper's alert, the
results with the trend, the list, and refusals."""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Sequence
from zoneinfo import ZoneInfo

from campaigns.services.surveys import Answered
from campaigns.surveys import (
    QUESTION_MAX,
    Score,
    Survey,
    SurveyInputError,
    SurveyKind,
    SurveyProblem,
    SurveyRefusal,
    SurveyRefused,
    SurveyReport,
    SurveyResult,
)
from handlers.words import Words

BAR = 10  # characters of the widest bar in a distribution


def _esc(text: str) -> str:
    return html.escape(text, quote=False)


class SurveyTexts:
    """/survey texts in one language."""

    def __init__(self, language: str) -> None:
        self.words = Words(language)
        self.language, self._ = language, self.words._

    def refusal(self, error: Exception) -> str | None:
        if isinstance(error, SurveyInputError):
            if error.problem is SurveyProblem.QUESTION:
                return self._("A question is 1 to {max} characters.", max=QUESTION_MAX)
            if error.problem is SurveyProblem.AUDIENCE:
                return self._(
                    "Surveys are asked in the group for now; sending one privately to an "
                    "audience ({audience}) is not available yet.",
                    audience=_esc(error.value),
                )
            return self.usage()
        if isinstance(error, SurveyRefused):
            return {
                SurveyRefusal.UNKNOWN: self._("There is no survey #{id} in this group.",
                                              id=error.survey_id),
                SurveyRefusal.CLOSED: self._("This survey is closed: answers are no longer "
                                             "taken."),
                SurveyRefusal.OUT_OF_RANGE: self._("That is not an answer to this survey."),
            }[error.reason]  # fmt: skip
        return self.words.refusal(error)

    def usage(self) -> str:
        return self._(
            "<b>Feedback surveys (用户反馈)</b>\n"
            "<code>/survey csat &lt;question&gt;</code> asks for a rating of 1 to 5\n"
            "<code>/survey nps &lt;question&gt;</code> asks how likely, 0 to 10, members "
            "would recommend us\n"
            "<code>/survey results [id]</code> the answers, CSAT and NPS over time\n"
            "<code>/survey list</code>, <code>/survey close &lt;id&gt;</code>"
        )

    def question(self, survey: Survey) -> str:
        if survey.kind is SurveyKind.CSAT:
            hint = self._("Tap a rating: 1 = very unsatisfied, 5 = very satisfied.")
        else:
            hint = self._("Tap a number: 0 = not at all likely, 10 = extremely likely.")
        return f"📋 <b>{_esc(survey.question)}</b>\n\n{hint}"

    @staticmethod
    def button(kind: SurveyKind, value: int) -> str:
        return f"{value}⭐" if kind is SurveyKind.CSAT else str(value)

    def posted(self, survey: Survey) -> str:
        return self._(
            "Survey #{id} is posted. <code>/survey results {id}</code> shows the answers; "
            "<code>/survey close {id}</code> stops them.",
            id=survey.id,
        )

    def answered(self, done: Answered) -> str:
        value = self.button(done.survey.kind, done.value)
        if done.previous is None:
            return self._("Thank you! Your answer: {value}", value=value)
        if done.previous == done.value:
            return self._("Your answer is already {value}.", value=value)
        return self._("Your answer is changed to {value}.", value=value)

    def closed(self, survey: Survey) -> str:
        return self._("Survey #{id} is closed: its buttons take no more answers.", id=survey.id)

    def sent_privately(self) -> str:
        return self._("📬 I sent you the survey results privately.")

    def _date(self, at: dt.datetime, timezone: str) -> str:
        return at.astimezone(ZoneInfo(timezone)).strftime("%Y-%m-%d")

    def _score(self, score: Score) -> str:
        if score.value is None:
            return self._("no answers yet")
        if score.kind is SurveyKind.CSAT:
            return self._(
                "CSAT {value:.0f}% ({good} of {answers} satisfied)",
                value=score.value, good=score.good, answers=score.answers,
            )  # fmt: skip
        return self._(
            "NPS {value:+.0f} ({good} promoters, {bad} detractors of {answers})",
            value=score.value, good=score.good, bad=score.bad, answers=score.answers,
        )  # fmt: skip

    def _head(self, result: SurveyResult, timezone: str) -> str:
        s = result.survey
        state = self._("open") if s.open else self._("closed")
        return f"#{s.id} {s.kind.upper()} · {self._date(s.created_at, timezone)} · {state}"

    def report(self, report: SurveyReport, timezone: str) -> str:
        if report.focus is None:
            return self._("No surveys yet.") + "\n\n" + self.usage()
        focus = report.focus
        widest = max((n for _, n in focus.distribution), default=0) or 1
        lines = [
            self._("<b>Survey results</b>"),
            self._head(focus, timezone),
            _esc(focus.survey.question),
            "",
        ]
        for value, count in focus.distribution:
            bar = "█" * round(BAR * count / widest)
            lines.append(f"<code>{value:>2}</code> {bar} {count}")
        lines += ["", self._score(focus.score)]
        for kind, results in report.trend.items():
            lines += ["", self._("<b>{kind} over time</b>", kind=kind.upper())]
            lines += [
                f"{self._date(r.survey.created_at, timezone)} #{r.survey.id} · "
                f"{self._score(r.score)}"
                for r in results
            ]
        return "\n".join(lines)

    def listing(self, results: Sequence[SurveyResult], timezone: str) -> str:
        if not results:
            return self._("No surveys yet.") + "\n\n" + self.usage()
        lines = [self._("<b>Surveys</b>")]
        for r in results:
            lines.append(
                f"{self._head(r, timezone)} · {self._score(r.score)}\n{_esc(r.survey.question)}"
            )
        return "\n".join(lines)
