"""What /survey says: the question post and its rating buttons (in the group, or privately
naming the group), the tapper's alert, the results per value or poll option with CSAT and
NPS over time, the list, and refusals."""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Sequence
from zoneinfo import ZoneInfo

from campaigns.audience_expr import AudienceExprError
from campaigns.audiences import AudienceRefusal, AudienceRefused
from campaigns.services.surveys import Answered, Asked
from campaigns.surveys import (
    OPTION_MAX,
    OPTIONS,
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
    change,
)
from handlers.audience_texts import AudienceTexts
from handlers.words import Words

BAR = 10  # characters of the widest bar in a distribution


def _esc(text: str) -> str:
    return html.escape(text, quote=False)


LISTED_QUESTION = 120  # characters of a question in /survey list (/survey results shows it all)


def _short(text: str, limit: int = LISTED_QUESTION) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _code(text: str) -> str:
    return f"<code>{_esc(text)}</code>"


class SurveyTexts:
    """/survey texts in one language."""

    def __init__(self, language: str) -> None:
        self.words = Words(language)
        self.language, self._, self._n = language, self.words._, self.words._n

    def refusal(self, error: Exception) -> str | None:
        match error:
            case SurveyInputError():
                return self.problem(error)
            case SurveyRefused():
                return self.refused(error)
            case AudienceRefused() | AudienceExprError():  # the audience named by @name
                return AudienceTexts(self.language).refusal(error)
        return self.words.refusal(error)

    def problem(self, error: SurveyInputError) -> str:
        value = _code(error.value)
        match error.problem:
            case SurveyProblem.QUESTION:
                return self._("A question is 1 to {max} characters.", max=QUESTION_MAX)
            case SurveyProblem.AUDIENCE:
                refused = AudienceRefused(AudienceRefusal.BAD_NAME, error.value)
                return AudienceTexts(self.language).audience_refused(refused)
            case SurveyProblem.POLL_AUDIENCE:
                return self._(
                    "A poll is posted in the group only. To ask an audience privately, send "
                    "<code>/survey csat @audience …</code> or <code>/survey nps @audience …</code>."
                )
            case SurveyProblem.OPTIONS:
                return self._(
                    "A poll has {low} to {high} options, each after a <code>|</code>, e.g. "
                    "<code>/survey poll Which flavour next? | Mango | Lychee</code>",
                    low=OPTIONS.start, high=OPTIONS.stop - 1,
                )  # fmt: skip
            case SurveyProblem.OPTION:
                return self._("An option is 1 to {max} characters on one line: {option}",
                              max=OPTION_MAX, option=value)  # fmt: skip
            case SurveyProblem.DUPLICATE:
                return self._("The option {option} is given twice.", option=value)
        return self.usage()

    def refused(self, error: SurveyRefused) -> str:
        return {
            SurveyRefusal.UNKNOWN: self._("There is no survey #{id} in this group.",
                                          id=error.survey_id),
            SurveyRefusal.CLOSED: self._("This survey is closed: answers are no longer taken."),
            SurveyRefusal.OUT_OF_RANGE: self._("That is not an answer to this survey."),
            SurveyRefusal.NOBODY: self._(
                "Nobody {audience} selects has started me, so nobody can be asked privately. "
                "Nothing was sent.", audience=_code("@" + error.audience),
            ),
        }[error.reason]  # fmt: skip

    def usage(self) -> str:
        return self._(
            "<b>Feedback surveys (用户反馈)</b>\n"
            "<code>/survey csat &lt;question&gt;</code> asks the group for a rating of 1 to 5\n"
            "<code>/survey nps &lt;question&gt;</code> asks how likely, 0 to 10, members "
            "would recommend us\n"
            "<code>/survey csat @audience &lt;question&gt;</code> (or nps) asks a saved "
            "audience's members privately, those who started me\n"
            "<code>/survey poll &lt;question&gt; | &lt;option&gt; | &lt;option&gt; …</code> a "
            "poll in the group, 2 to 12 options\n"
            "<code>/survey results [id]</code> the answers, CSAT and NPS over time\n"
            "<code>/survey list</code>, <code>/survey close &lt;id&gt;</code>"
        )

    def hint(self, kind: SurveyKind) -> str:
        if kind is SurveyKind.CSAT:
            return self._("Tap a rating: 1 = very unsatisfied, 5 = very satisfied.")
        return self._("Tap a number: 0 = not at all likely, 10 = extremely likely.")

    def question(self, survey: Survey) -> str:
        return f"📋 <b>{_esc(survey.question)}</b>\n\n{self.hint(survey.kind)}"

    def private_question(self, kind: SurveyKind, question: str, group: str | None) -> str:
        """A question sent privately: it names the group asking, since the chat does not."""
        asks = self._("📋 <b>{group}</b> asks for your feedback:", group=_esc(group or ""))
        return f"{asks}\n<b>{_esc(question)}</b>\n\n{self.hint(kind)}"

    @staticmethod
    def button(kind: SurveyKind, value: int) -> str:
        return f"{value}⭐" if kind is SurveyKind.CSAT else str(value)

    def kind(self, kind: SurveyKind) -> str:
        return self._("Poll") if kind is SurveyKind.POLL else kind.upper()

    def posted(self, survey: Survey) -> str:
        return self._(
            "Survey #{id} is posted. <code>/survey results {id}</code> shows the answers; "
            "<code>/survey close {id}</code> stops them.",
            id=survey.id,
        )

    def asked(self, asked: Asked) -> str:
        return self._n(
            "📬 Survey #{id} goes privately to {n} member of {audience} who started me, at "
            "Telegram's pace. <code>/survey results {id}</code> shows the answers; "
            "<code>/survey close {id}</code> stops them.",
            "📬 Survey #{id} goes privately to {n} members of {audience} who started me, at "
            "Telegram's pace. <code>/survey results {id}</code> shows the answers; "
            "<code>/survey close {id}</code> stops them.",
            asked.members, id=asked.survey.id, audience=_code("@" + (asked.survey.audience or "")),
        )  # fmt: skip

    def answered(self, done: Answered) -> str:
        value = self.button(done.survey.kind, done.value)
        if done.previous is None:
            return self._("Thank you! Your answer: {value}", value=value)
        if done.previous == done.value:
            return self._("Your answer is already {value}.", value=value)
        return self._("Your answer is changed to {value}.", value=value)

    def closed(self, survey: Survey) -> str:
        if survey.kind is SurveyKind.POLL:
            return self._("Poll #{id} is closed and stopped: it takes no more votes.",
                          id=survey.id)  # fmt: skip
        return self._("Survey #{id} is closed: its buttons take no more answers.", id=survey.id)

    def poll_refused(self, reason: str) -> str:
        return self._(
            "⚠️ Telegram refused the poll, so nothing was posted and no survey was made: {reason}",
            reason=_esc(reason),
        )

    def sent_privately(self) -> str:
        return self._("📬 I sent you the survey results privately.")

    def _date(self, at: dt.datetime, timezone: str) -> str:
        return at.astimezone(ZoneInfo(timezone)).strftime("%Y-%m-%d")

    def score(self, score: Score) -> str:
        """A survey's score as the results show it (the campaign report shows it too)."""
        if score.kind is SurveyKind.POLL:
            if not score.answers:
                return self._("no votes yet")
            return self._n("{n} vote", "{n} votes", score.answers)
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

    def head(self, survey: Survey, timezone: str) -> str:
        """`#5 CSAT · 2026-11-30 · open` (and who was asked privately)."""
        state = self._("open") if survey.open else self._("closed")
        parts = [f"#{survey.id} {self.kind(survey.kind)}", self._date(survey.created_at, timezone),
                 state]  # fmt: skip
        if survey.audience is not None:
            parts.append(self._("privately to {audience}", audience=_code("@" + survey.audience)))
        return " · ".join(parts)

    def _spread(self, result: SurveyResult) -> list[str]:
        """One bar per value (a poll: per option, with its share of the votes)."""
        widest = max((n for _, n in result.distribution), default=0) or 1
        total = result.score.answers
        lines = []
        for value, count in result.distribution:
            bar = "█" * round(BAR * count / widest)
            if result.survey.kind is SurveyKind.POLL:
                share = f" ({100 * count / total:.0f}%)" if total else ""
                option = _esc(result.survey.options[value])
                lines.append(f"<code>{value + 1:>2}</code> {option} {bar} {count}{share}")
            else:
                lines.append(f"<code>{value:>2}</code> {bar} {count}")
        return lines

    def _trend(self, results: Sequence[SurveyResult], timezone: str) -> list[str]:
        """Oldest first; each with the change since the one before (↑ ↓ →)."""
        lines: list[str] = []
        before: Score | None = None
        for r in results:
            day = self._date(r.survey.created_at, timezone)
            line = f"{day} #{r.survey.id} · {self.score(r.score)}"
            moved = change(before, r.score) if before is not None else None
            if moved is not None:
                shown = round(moved)
                arrow = "↑" if shown > 0 else "↓" if shown < 0 else "→"
                line += f" {arrow} {shown:+d}"
            lines.append(line)
            before = r.score if r.score.value is not None else before
        return lines

    def report(self, report: SurveyReport, timezone: str) -> str:
        if report.focus is None:
            return self._("No surveys yet.") + "\n\n" + self.usage()
        focus = report.focus
        lines = [self._("<b>Survey results</b>"), self.head(focus.survey, timezone),
                 _esc(focus.survey.question)]  # fmt: skip
        if report.queued is not None and report.sent is not None:
            lines.append(self._n("Sent privately to {sent} of {n} member so far.",
                                 "Sent privately to {sent} of {n} members so far.",
                                 report.queued, sent=report.sent))  # fmt: skip
        lines += ["", *self._spread(focus), "", self.score(focus.score)]
        for kind, results in report.trend.items():
            lines += ["", self._("<b>{kind} over time</b>", kind=kind.upper())]
            lines += self._trend(results, timezone)
        if report.trend:
            lines += ["", self._("<i>Oldest first; ↑ ↓ the change since the survey before "
                                 "(CSAT in percentage points).</i>")]  # fmt: skip
        return "\n".join(lines)

    def listing(self, results: Sequence[SurveyResult], timezone: str) -> str:
        if not results:
            return self._("No surveys yet.") + "\n\n" + self.usage()
        items = [
            f"{self.head(r.survey, timezone)} · {self.score(r.score)}\n"
            f"{_esc(_short(r.survey.question))}"
            for r in results
        ]
        return self.words.fit([self._("<b>Surveys</b>")], items)
