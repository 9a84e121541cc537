"""FAQ auto-replies (客服话术): answers admins saved to common questions, given to a member
whose message asks one.

`/faq add 发货 | 下单后 48 小时内发货` saves the question 发货 with its answer (`|` or `｜`
separates them; the answer may run over several lines, or be the message the command
replies to). The question is a set of keywords matched as campaigns/keywords.py says:

- `发货/快递/物流` (or `,` `，` `、`): any one of them asks the question;
- `怎么+退款`: every part must be in the message (in any order).

A message gets one answer: of the questions it asks, the most specific (the most characters
matched, then the most parts, then the oldest question). The same question is answered at
most once per cooldown (minutes, a group setting) in a group, so thirty members asking at
once get one answer, not thirty.

The answer is Telegram HTML (the admin's bold and links kept), checked as a post is
(campaigns/content.py) so Telegram never refuses it later; at most ANSWER_MAX characters.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from enum import StrEnum

from campaigns.content import HtmlProblem, html_problems, visible_length
from campaigns.errors import DomainError
from campaigns.keywords import Keyword, KeywordRefused, normalize, parse_keyword, storable

MAX_FAQS = 50
QUESTION_MAX = 100  # characters of the question as typed (tags aside)
KEY_MAX = 255  # characters of its normalised keywords (the stored unique key)
ALTERNATIVES_MAX = 10
PARTS_MAX = 4  # keywords joined with +
ANSWER_MAX = 1000  # characters as the member sees them
COOLDOWN_MINUTES = 5
_ALTERNATIVES = re.compile(r"[/,、;]+")  # after normalisation: ／ ， ； are / , ;
_TAG = re.compile(r"<[^>]*>")


class FaqProblem(StrEnum):
    NO_ANSWER = "no_answer"  # no | and no replied-to message
    NO_QUESTION = "no_question"
    QUESTION_TOO_LONG = "question_too_long"
    TOO_MANY_KEYWORDS = "too_many_keywords"  # alternatives, or parts of one
    BAD_KEYWORD = "bad_keyword"  # `keyword` says why
    ANSWER_EMPTY = "answer_empty"
    ANSWER_TOO_LONG = "answer_too_long"  # `size` over `limit`
    BAD_HTML = "bad_html"  # `html` lists what Telegram would refuse
    TOO_MANY = "too_many"  # the group has MAX_FAQS already
    UNKNOWN = "unknown"  # no such question in this group (`value`: what was asked for)
    NO_REFERENCE = "no_reference"  # /faq remove without an id or question


@dataclass
class FaqRefused(DomainError):
    problem: FaqProblem
    value: str = ""
    size: int = 0
    limit: int = 0
    keyword: KeywordRefused | None = None
    html: tuple[HtmlProblem, ...] = ()


Alternative = tuple[Keyword, ...]  # every part must be found


@dataclass(frozen=True)
class Question:
    """A question's keywords: any alternative asks it."""

    alternatives: tuple[Alternative, ...]

    @property
    def key(self) -> str:
        """One spelling per question (order of alternatives and of parts aside): the same
        question added again replaces its answer."""
        parts = sorted("+".join(sorted(k.text for k in alt)) for alt in self.alternatives)
        return "/".join(parts)

    def score(self, normalized: str) -> tuple[int, int] | None:
        """How specifically the message asks it: (characters, parts) of the best alternative
        found; None if it does not."""
        best: tuple[int, int] | None = None
        for alt in self.alternatives:
            if all(k.found_in(normalized) for k in alt):
                found = (sum(len(k.text) for k in alt), len(alt))
                best = found if best is None or found > best else best
        return best


def parse_question(raw: str) -> Question:
    """Keywords as typed after `/faq add`, plain text; FaqRefused if they cannot be used."""
    if len(raw.strip()) > QUESTION_MAX:
        raise FaqRefused(FaqProblem.QUESTION_TOO_LONG, size=len(raw.strip()), limit=QUESTION_MAX)
    alternatives: dict[str, Alternative] = {}
    for text in _ALTERNATIVES.split(normalize(raw)):
        pieces = [p for p in text.split("+") if p.strip()]
        if not pieces:
            continue
        if len(pieces) > PARTS_MAX:
            raise FaqRefused(FaqProblem.TOO_MANY_KEYWORDS, limit=PARTS_MAX)
        try:
            parts = tuple(dict.fromkeys(parse_keyword(p) for p in pieces))
        except KeywordRefused as error:
            raise FaqRefused(FaqProblem.BAD_KEYWORD, keyword=error) from None
        alternatives.setdefault("+".join(sorted(k.text for k in parts)), parts)
        if len(alternatives) > ALTERNATIVES_MAX:
            raise FaqRefused(FaqProblem.TOO_MANY_KEYWORDS, limit=ALTERNATIVES_MAX)
    if not alternatives:
        raise FaqRefused(FaqProblem.NO_QUESTION)
    question = Question(tuple(alternatives.values()))
    if len(question.key) > KEY_MAX:
        raise FaqRefused(FaqProblem.QUESTION_TOO_LONG, size=len(question.key), limit=KEY_MAX)
    return question


@dataclass(frozen=True)
class FaqDraft:
    """A question and its answer, checked, as `/faq add` saves them."""

    question: str  # as typed (plain text, one line)
    key: str  # Question.key
    answer: str  # Telegram HTML


def split_faq(body: str) -> tuple[str, str | None]:
    """The question and the answer of `发货 | 下单后…` (HTML): split at the first | or ｜
    outside a tag (a link's address may hold one). No separator: (body, None)."""
    depth = 0
    for i, char in enumerate(body):
        if char == "<":
            depth += 1
        elif char == ">" and depth:
            depth -= 1
        elif char in "|｜" and not depth:
            return body[:i], body[i + 1 :]
    return body, None


def plain(fragment: str) -> str:
    """An HTML fragment as the text it shows, on one line."""
    return " ".join(html.unescape(_TAG.sub("", fragment)).split())


def read_faq(body: str, replied: str | None = None) -> FaqDraft:
    """`/faq add <question> | <answer>` (the HTML after `add`), or `/faq add <question>` in
    reply to the answer (`replied`, its HTML). FaqRefused names the first problem."""
    asked, answer = split_faq(storable(body))
    if answer is None and replied is not None:
        answer = storable(replied)
    question_text = plain(asked)
    if answer is None:
        if not question_text:
            raise FaqRefused(FaqProblem.NO_QUESTION)
        raise FaqRefused(FaqProblem.NO_ANSWER)
    question = parse_question(question_text)
    return FaqDraft(question_text, question.key, check_answer(answer))


def check_answer(answer: str) -> str:
    """The answer as it will be sent, or FaqRefused: Telegram's HTML, not empty, not long."""
    answer = answer.strip()
    problems = html_problems(answer)
    if problems:
        raise FaqRefused(FaqProblem.BAD_HTML, html=tuple(problems))
    size = visible_length(answer, "HTML")
    if not plain(answer):
        raise FaqRefused(FaqProblem.ANSWER_EMPTY)
    if size > ANSWER_MAX:
        raise FaqRefused(FaqProblem.ANSWER_TOO_LONG, size=size, limit=ANSWER_MAX)
    return answer


def parse_reference(raw: str) -> int | str:
    """`/faq remove 3` (an id) or `/faq remove 发货` (a question); FaqRefused if empty."""
    text = raw.strip().lstrip("#")
    if text.isascii() and text.isdigit() and len(text) < 19:
        return int(text)
    if not plain(raw):
        raise FaqRefused(FaqProblem.NO_REFERENCE)
    return plain(raw)
