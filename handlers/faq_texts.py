"""What /faq says, and how a saved answer (客服话术) shows in the group."""

from __future__ import annotations

import html

from campaigns.faq import (
    ALTERNATIVES_MAX,
    ANSWER_MAX,
    MAX_FAQS,
    PARTS_MAX,
    FaqProblem,
    FaqRefused,
    plain,
)
from campaigns.listening import ListenSettings
from campaigns.ports.faq import FaqRecord
from campaigns.services.faq import SavedFaq
from handlers.calendar_texts import CalendarTexts
from handlers.watch_texts import keyword_problem
from handlers.words import Words

PREVIEW = 60  # characters of an answer shown in /faq list


def _short(text: str, limit: int = PREVIEW) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


class FaqTexts:
    """FAQ texts in one language."""

    def __init__(self, language: str) -> None:
        self.words = Words(language)
        self.language, self._, self._n = language, self.words._, self.words._n

    def refusal(self, error: Exception) -> str | None:
        if isinstance(error, FaqRefused):
            return self.refused(error)
        return self.words.refusal(error)

    def usage(self) -> str:
        return self._(
            "💬 FAQ auto-replies (客服话术): a member's message that asks a saved question gets "
            "its answer, at most once per question every few minutes.\n"
            "<code>/faq add 发货 | 下单后 48 小时内发货</code> — save a question and its answer "
            "(or send <code>/faq add 发货</code> in reply to the answer)\n"
            "<code>/faq add 发货/快递/物流 | …</code> — any of these words asks it; "
            "<code>怎么+退款</code> — both words must be in the message\n"
            "<code>/faq remove 3</code> or <code>/faq remove 发货</code> — remove one\n"
            "<code>/faq list</code> — the questions\n"
            "<code>/set faq_cooldown 5</code> — minutes between two answers to one question; "
            "<code>/set faq_replies off</code> pauses them."
        )

    def refused(self, err: FaqRefused) -> str:
        return "❌ " + self._problem(err)

    def _problem(self, err: FaqRefused) -> str:
        p = err.problem
        if p is FaqProblem.BAD_KEYWORD and err.keyword is not None:
            return keyword_problem(self.words, err.keyword)
        if p is FaqProblem.BAD_HTML:
            why = "; ".join(CalendarTexts(self.language).html_problem(h) for h in err.html)
            return self._(
                "Telegram can't read the answer's formatting ({why}).",
                why=html.escape(why, quote=False),
            )
        if p is FaqProblem.UNKNOWN:
            return self._(
                "This group has no FAQ {faq}. /faq list shows its questions.",
                faq=f"<code>{html.escape(err.value)}</code>",
            )
        limit = err.limit
        return {
            FaqProblem.NO_ANSWER: self._(
                "What is the answer? Put it after a |, e.g. "
                "<code>/faq add 发货 | 下单后 48 小时内发货</code>, or reply to the answer with "
                "<code>/faq add 发货</code>."
            ),
            FaqProblem.NO_QUESTION: self._(
                "What is the question? e.g. <code>/faq add 发货 | 下单后 48 小时内发货</code>."
            ),
            FaqProblem.QUESTION_TOO_LONG: self._(
                "The question is too long ({size} characters, at most {limit}): a few keywords "
                "are enough.",
                size=err.size,
                limit=limit,
            ),
            FaqProblem.TOO_MANY_KEYWORDS: self._(
                "Too many keywords: at most {alternatives} separated by / and {parts} joined by +.",
                alternatives=ALTERNATIVES_MAX,
                parts=PARTS_MAX,
            ),
            FaqProblem.ANSWER_EMPTY: self._("The answer is empty."),
            FaqProblem.ANSWER_TOO_LONG: self._(
                "The answer is too long ({size} characters, at most {limit}).",
                size=err.size,
                limit=ANSWER_MAX,
            ),
            FaqProblem.TOO_MANY: self._(
                "A group can have at most {limit} FAQs. /faq list shows them; remove some first.",
                limit=MAX_FAQS,
            ),
            FaqProblem.NO_REFERENCE: self._(
                "Which one? e.g. <code>/faq remove 3</code> or <code>/faq remove 发货</code>."
            ),
            FaqProblem.BAD_KEYWORD: self._("The question has no keyword to look for."),
            FaqProblem.BAD_HTML: "",
            FaqProblem.UNKNOWN: "",
        }[p]

    def saved(self, saved: SavedFaq) -> str:
        question = f"<code>{html.escape(saved.question)}</code>"
        if saved.created:
            return self._(
                "💬 FAQ #{id} saved: a member asking {question} gets the answer.",
                id=saved.id,
                question=question,
            )
        return self._(
            "💬 FAQ #{id} {question}: its answer is replaced.", id=saved.id, question=question
        )

    def removed(self, faq: FaqRecord) -> str:
        return self._(
            "🗑 FAQ #{id} {question} is removed.",
            id=faq.id,
            question=f"<code>{html.escape(faq.question)}</code>",
        )

    def listing(self, faqs: list[FaqRecord], settings: ListenSettings) -> str:
        if not faqs:
            return self._(
                "No FAQs yet. <code>/faq add 发货 | 下单后 48 小时内发货</code> saves one."
            )
        head = [
            self._(
                "💬 FAQs ({n}); one answer per question every {minutes} min:",
                n=len(faqs),
                minutes=settings.faq_cooldown,
            )
        ]
        items = []
        for f in faqs:
            answered = self._n("answered {n} time", "answered {n} times", f.answered)
            items.append(
                f"#{f.id} <code>{html.escape(f.question)}</code> → "
                f"{html.escape(_short(plain(f.answer)), quote=False)} "
                f"<i>{self.words.paren(answered)}</i>"
            )
        tail = []
        if not settings.faq_replies:
            tail.append(self._("⏸ Answers are paused: <code>/set faq_replies on</code>."))
        return self.words.fit(head, items, tail)

    def line(self, name: str, question: str, answer: str) -> str:
        """The answer among others in one group message, during a rush."""
        return self._(
            "💬 {name}, about {question}: {answer}",
            name=self.words.name(name),
            question=html.escape(question, quote=False),
            answer=answer,
        )
