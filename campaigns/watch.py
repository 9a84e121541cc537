"""Watch words (舆情): words like 投诉, 退款, refund or scam in a member's message alert the
group's admins privately, with a link to the message.

- A group has at most MAX_WORDS words of at most KEYWORD_MAX characters, matched as
  campaigns/keywords.py says (case-insensitive, substring for Chinese, word boundaries for
  ASCII words). Words are typed separated by commas (`,` `，` `、`) or new lines, so a word
  may have a space in it (`scam alert`).
- At most one alert per member and group in any hour (ALERT_WINDOW, rolling), whichever
  word and whichever process: storage holds it with one row per member that is claimed
  before the alert is sent.
- The alert quotes a short excerpt of the message, made in memory: message text is never
  stored.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from enum import StrEnum

from campaigns.errors import DomainError
from campaigns.keywords import Keyword, KeywordRefused, parse_keyword

MAX_WORDS = 50
ALERT_WINDOW = dt.timedelta(hours=1)
EXCERPT = 120  # characters of the message quoted in the alert
_SEPARATORS = re.compile(r"[,，、;；\n]+")
_SUPERGROUP = 10**12  # a supergroup's id is -100 followed by its internal id


class WatchProblem(StrEnum):
    NO_WORDS = "no_words"  # nothing to add or remove
    TOO_MANY = "too_many"  # the group would have more than MAX_WORDS
    BAD_WORD = "bad_word"  # a word refused by the keyword rules (`keyword` says why)


@dataclass
class WatchRefused(DomainError):
    problem: WatchProblem
    limit: int = MAX_WORDS
    keyword: KeywordRefused | None = None


def parse_words(raw: str) -> tuple[Keyword, ...]:
    """The words of `/watch add|remove …`, in order, each once; WatchRefused names the first
    that cannot be a watch word (none is added then)."""
    words: dict[str, Keyword] = {}
    for part in _SEPARATORS.split(raw):
        if not part.strip():
            continue
        try:
            word = parse_keyword(part)
        except KeywordRefused as error:
            raise WatchRefused(WatchProblem.BAD_WORD, keyword=error) from None
        words.setdefault(word.text, word)
        if len(words) > MAX_WORDS:
            raise WatchRefused(WatchProblem.TOO_MANY)
    if not words:
        raise WatchRefused(WatchProblem.NO_WORDS)
    return tuple(words.values())


def stored_words(texts: list[str]) -> tuple[Keyword, ...]:
    """Stored (normalised) words as keywords, longest first so an alert names the most
    specific; a stored word today's rules refuse is skipped, never raised on a message."""
    words = []
    for text in texts:
        try:
            words.append(parse_keyword(text))
        except KeywordRefused:
            continue
    return tuple(sorted(words, key=lambda w: (-len(w.text), w.text)))


def message_link(chat_id: int, message_id: int, username: str | None = None) -> str | None:
    """A link that opens the message: the public group's t.me/<username>/<id>, else a
    supergroup's t.me/c/<internal id>/<id> (opens for its members, admins included). A
    basic group's messages have no link."""
    if username:
        return f"https://t.me/{username}/{message_id}"
    if chat_id < -_SUPERGROUP:
        return f"https://t.me/c/{-chat_id - _SUPERGROUP}/{message_id}"
    return None


def excerpt(text: str, limit: int = EXCERPT) -> str:
    """The start of a message, on one line, for the alert (plain text: the caller escapes)."""
    flat = " ".join(text.split())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"
