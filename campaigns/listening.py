"""What the bot listens for in a group's messages: its watch words (舆情) and FAQ questions
(客服话术), with the settings that switch them, as one book read once and kept in memory.

Every member message in a group is checked against the book, so an ordinary message costs
one normalisation and a few substring tests, and no database statement (the book is cached
by the handlers and dropped whenever a word, a question or a setting changes).

Who is heard (decided here once, for both): people, not bots, channels or the anonymous
admin; not the group's admins (their messages are the answers, and need no alert); not
commands or edits (an edit is mostly a typo fix of a message already heard, and hearing it
again would answer twice). A forwarded message may alert (a forwarded scam warning is
worth a look) but is not answered (it is not the member's own question).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

from campaigns.errors import InvalidSetting
from campaigns.faq import COOLDOWN_MINUTES, FaqRefused, Question, parse_question
from campaigns.keywords import Keyword, longest_found, normalize
from campaigns.numbers import read_int

COOLDOWN_MAX = 24 * 60
ON = {"on", "yes", "true", "1", "开", "开启", "打开", "是"}
OFF = {"off", "no", "false", "0", "关", "关闭", "否"}
EXAMPLES = {"watch_alerts": "on", "faq_replies": "on", "faq_cooldown": str(COOLDOWN_MINUTES)}


@dataclass(frozen=True)
class ListenSettings:
    """The group's switches: `/set watch_alerts on|off`, `/set faq_replies on|off`,
    `/set faq_cooldown <minutes>` (1–1440)."""

    watch_alerts: bool = True
    faq_replies: bool = True
    faq_cooldown: int = COOLDOWN_MINUTES  # minutes between two answers to one question

    @property
    def cooldown(self) -> dt.timedelta:
        return dt.timedelta(minutes=self.faq_cooldown)

    def pairs(self) -> list[tuple[str, str]]:
        """As typed in `/set`."""
        return [
            ("watch_alerts", "on" if self.watch_alerts else "off"),
            ("faq_replies", "on" if self.faq_replies else "off"),
            ("faq_cooldown", str(self.faq_cooldown)),
        ]

    def to_json(self) -> dict[str, Any]:
        return {"watch": self.watch_alerts, "faq": self.faq_replies, "cooldown": self.faq_cooldown}

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> ListenSettings:
        """Stored settings; anything unreadable is the default (never raised on a message)."""
        data = data or {}
        cooldown = data.get("cooldown", COOLDOWN_MINUTES)
        if not isinstance(cooldown, int) or not 1 <= cooldown <= COOLDOWN_MAX:
            cooldown = COOLDOWN_MINUTES
        return cls(data.get("watch") is not False, data.get("faq") is not False, cooldown)


def apply_listen_setting(settings: ListenSettings, key: str, raw: str) -> ListenSettings:
    """One of EXAMPLES' keys set from `/set`; InvalidSetting names what is wrong."""
    if key not in EXAMPLES:
        raise InvalidSetting(key, "unknown_key", ", ".join(EXAMPLES))
    if key == "faq_cooldown":
        try:
            minutes = read_int(raw)
        except ValueError:
            raise InvalidSetting(key, "not_a_number", EXAMPLES[key]) from None
        if not 1 <= minutes <= COOLDOWN_MAX:
            raise InvalidSetting(key, "out_of_range", EXAMPLES[key])
        return replace(settings, faq_cooldown=minutes)
    word = raw.strip().casefold()
    if word not in ON | OFF:
        raise InvalidSetting(key, "on_or_off", EXAMPLES[key])
    name = "watch_alerts" if key == "watch_alerts" else "faq_replies"
    return replace(settings, **{name: word in ON})


@dataclass(frozen=True)
class Faq:
    """A saved question and answer, as the book holds it."""

    id: int
    question: str  # as the admin typed it
    answer: str  # Telegram HTML
    keywords: Question


@dataclass(frozen=True)
class Heard:
    """What a message asks for: an alert about `word`, an answer `faq` (either may be None)."""

    word: Keyword | None
    faq: Faq | None


@dataclass(frozen=True)
class ReplyBook:
    """A group's watch words and FAQs, ready to match (pk None: a group not registered)."""

    chat_pk: int | None = None
    language: str = "en"
    settings: ListenSettings = ListenSettings()
    words: tuple[Keyword, ...] = ()  # longest first
    faqs: tuple[Faq, ...] = ()  # oldest first
    # Every keyword's text (words' and questions' alike) by its first character: a message
    # none of whose characters starts one is refused after one set operation, and otherwise
    # only the keywords starting with its characters are looked for. Almost every message
    # is refused here, before any rule is asked.
    _starts: dict[str, tuple[str, ...]] = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        texts = {w.text for w in self.words}
        texts |= {k.text for f in self.faqs for alt in f.keywords.alternatives for k in alt}
        starts: dict[str, list[str]] = {}
        for text in sorted(texts):
            starts.setdefault(text[0], []).append(text)
        object.__setattr__(self, "_starts", {c: tuple(t) for c, t in starts.items()})

    def _may_have(self, normalized: str) -> bool:
        starts = self._starts
        return any(t in normalized for c in starts.keys() & set(normalized) for t in starts[c])

    @property
    def empty(self) -> bool:
        """Nothing to listen for: the message is not even normalised."""
        watching = self.settings.watch_alerts and self.words
        answering = self.settings.faq_replies and self.faqs
        return self.chat_pk is None or not (watching or answering)

    def hear(self, text: str, *, forwarded: bool = False) -> Heard | None:
        """The watch word (the longest) and the FAQ (the most specific) a message's text
        has, if switched on; None when it has neither."""
        if self.empty:
            return None
        normalized = normalize(text)
        if not self._may_have(normalized):
            return None
        word = longest_found(self.words, normalized) if self.settings.watch_alerts else None
        faq = None
        if self.settings.faq_replies and not forwarded:
            faq = best_faq(self.faqs, normalized)
        return Heard(word, faq) if word is not None or faq is not None else None


def best_faq(faqs: tuple[Faq, ...], normalized: str) -> Faq | None:
    """The most specific question the message asks: most characters, then most parts;
    on a tie the oldest (`faqs` is oldest first)."""
    best: tuple[tuple[int, int], Faq] | None = None
    for faq in faqs:
        score = faq.keywords.score(normalized)
        if score is not None and (best is None or score > best[0]):
            best = (score, faq)
    return best[1] if best is not None else None


def stored_faqs(rows: list[tuple[int, str, str]]) -> tuple[Faq, ...]:
    """(id, question, answer) rows as the book's FAQs, oldest first; a stored question
    today's rules refuse is skipped, never raised on a message."""
    faqs = []
    for faq_id, question, answer in sorted(rows):
        try:
            faqs.append(Faq(faq_id, question, answer, parse_question(question)))
        except FaqRefused:
            continue
    return tuple(faqs)


class Verb(StrEnum):
    """What `/watch` and `/faq` are asked to do."""

    ADD = "add"
    REMOVE = "remove"
    LIST = "list"
    HELP = "help"


_VERBS = {
    "add": Verb.ADD, "添加": Verb.ADD, "新增": Verb.ADD, "加": Verb.ADD,
    "remove": Verb.REMOVE, "rm": Verb.REMOVE, "delete": Verb.REMOVE, "del": Verb.REMOVE,
    "删除": Verb.REMOVE, "移除": Verb.REMOVE,
    "list": Verb.LIST, "ls": Verb.LIST, "列表": Verb.LIST, "查看": Verb.LIST,
}  # fmt: skip


def parse_verb(text: str) -> tuple[Verb, str]:
    """`/watch add 投诉, 退款` -> (ADD, "投诉, 退款"): the command's verb and everything after
    it, line breaks kept (a list may go one word a line). No verb: LIST; an unknown one:
    HELP."""
    parts = text.split(None, 2)
    if len(parts) < 2:
        return Verb.LIST, ""
    verb = _VERBS.get(parts[1].casefold(), Verb.HELP)
    return verb, parts[2] if len(parts) > 2 else ""
