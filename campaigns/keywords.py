"""Keywords found in members' messages: one matching rule for watch words (舆情) and FAQ
questions (客服话术), so an admin learns it once.

- Case and width do not matter: text and keyword are NFKC-normalised and casefolded, so
  ＲＥＦＵＮＤ, Refund and refund are one word; a run of whitespace counts as one space.
- Chinese (and any script written without spaces) is matched as a substring: 退款 is
  found in 我要退款了. A keyword needs at least one letter or digit.
- A keyword that starts (or ends) with an ASCII letter or digit must start (or end) on a
  word boundary, i.e. not next to another ASCII letter or digit: `refund` matches "Refund
  please" and "退款refund", `scam` does not match "scampi", `618` not "6180".

Messages are normalised in memory only; nothing here keeps them.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from enum import StrEnum

from campaigns.errors import DomainError

KEYWORD_MAX = 32  # characters of a normalised keyword
# Sentence punctuation around a keyword is no part of it: `怎么退款？` is the keyword 怎么退款.
_EDGE_PUNCTUATION = "?!.,;:~…。？！，；：～、\"'“”‘’「」『』()（）[]【】"
_WORD_CHAR = "0-9a-z"


# Control characters (NUL above all: PostgreSQL text cannot hold it) and UTF-16 halves that
# are not a pair (UTF-8 cannot encode them) may come in a forged update.
_UNSTORABLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")


def storable(text: str) -> str:
    """What an admin typed, as it can be stored and sent: the unstorable is U+FFFD."""
    return _UNSTORABLE.sub("\ufffd", text)


def normalize(text: str) -> str:
    """What matching compares: NFKC, casefolded (NFKC again, as Unicode's caseless matching
    does), whitespace runs as one space. ASCII text, most chatter, takes the quick way."""
    if text.isascii():
        return " ".join(text.lower().split())
    compatible = unicodedata.normalize("NFKC", text)
    folded = compatible.casefold()
    if folded != compatible:  # Chinese has no case: most messages skip the second pass
        folded = unicodedata.normalize("NFKC", folded)
    return " ".join(folded.split())


def _ascii_word_char(char: str) -> bool:
    return char.isascii() and char.isalnum()


class KeywordProblem(StrEnum):
    EMPTY = "empty"  # nothing left after the punctuation around it, or no letter or digit
    TOO_LONG = "too_long"  # over KEYWORD_MAX characters once normalised


@dataclass
class KeywordRefused(DomainError):
    """A keyword that cannot be matched as typed; `value` is what was typed."""

    problem: KeywordProblem
    value: str = ""
    limit: int = KEYWORD_MAX


@dataclass(frozen=True)
class Keyword:
    """A normalised keyword and the word boundaries it needs (see the module's rules)."""

    text: str
    left: bool = False  # starts with an ASCII letter or digit: a boundary before it
    right: bool = False  # ends with one: a boundary after it
    _pattern: re.Pattern[str] | None = field(default=None, compare=False, repr=False)

    @classmethod
    def of(cls, normalized: str) -> Keyword:
        """The keyword for an already normalised, non-empty text."""
        left, right = _ascii_word_char(normalized[0]), _ascii_word_char(normalized[-1])
        pattern = None
        if left or right:
            before = f"(?<![{_WORD_CHAR}])" if left else ""
            after = f"(?![{_WORD_CHAR}])" if right else ""
            pattern = re.compile(before + re.escape(normalized) + after)
        return cls(normalized, left, right, pattern)

    def found_in(self, normalized: str) -> bool:
        """Whether a normalised message contains the keyword. The substring test first: it
        answers no for almost every message, and costs little."""
        if self.text not in normalized:
            return False
        return self._pattern is None or self._pattern.search(normalized) is not None


def parse_keyword(raw: str, limit: int = KEYWORD_MAX) -> Keyword:
    """One keyword as an admin typed it; KeywordRefused when it cannot be one."""
    text = normalize(storable(raw)).strip(_EDGE_PUNCTUATION + " ")
    if not text or not any(char.isalnum() for char in text):
        raise KeywordRefused(KeywordProblem.EMPTY, raw[:64])
    if len(text) > limit:
        raise KeywordRefused(KeywordProblem.TOO_LONG, raw[:64], limit)
    return Keyword.of(text)


def longest_found(keywords: tuple[Keyword, ...], normalized: str) -> Keyword | None:
    """The longest keyword the message contains (`keywords` longest first), if any."""
    return next((k for k in keywords if k.found_in(normalized)), None)
