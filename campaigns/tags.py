"""Member tags: names an admin puts on members (/tag), and the ones orders put on buyers.

A tag is one word the audience language can name (`tag=vip-prospect`): letters of any
script (中文 too), digits, `_ : . -`, at most `MAX_TAG` characters, stored lowercased so that
`tag=VIP` and `tag=vip` are one tag (and full-width `ＶＩＰ` too: compatibility forms are folded,
`audience_expr.fold_tag`). Rule tags come from orders: each item becomes
`bought:<item>` and the category `category:<category>`, made into a valid tag (spaces become
`-`, other characters are dropped, cut to length); the database's unique key keeps a tag
once per member however often an order is replayed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from enum import StrEnum

from campaigns.audience_expr import TAG, fold_tag
from campaigns.errors import DomainError

MAX_TAG = 32
MAX_INPUT = 200  # longer input is refused before any work is done on it
_DROP = re.compile(r"[^\w:.\-]")


class TagSource(StrEnum):
    ADMIN = "admin"  # /tag
    RULE = "rule"  # from an order's items and category


class TagProblem(StrEnum):
    EMPTY = "empty"
    TOO_LONG = "too_long"
    BAD_CHARACTERS = "bad_characters"


class TagError(DomainError, ValueError):
    """A tag name that cannot be one; `text` is (the start of) what was typed."""

    def __init__(self, problem: TagProblem, text: str = "") -> None:
        super().__init__(problem, text)
        self.problem, self.text = problem, text[:40]


def parse_tag(text: str) -> str:
    """A typed tag name, lowercased; TagError for anything else (never another error)."""
    if len(text) > MAX_INPUT:
        raise TagError(TagProblem.TOO_LONG, text)
    name = fold_tag(text.strip())
    if not name:
        raise TagError(TagProblem.EMPTY)
    if len(name) > MAX_TAG:
        raise TagError(TagProblem.TOO_LONG, name)
    if TAG.fullmatch(name) is None:
        raise TagError(TagProblem.BAD_CHARACTERS, name)
    return name


def slug(prefix: str, text: str) -> str | None:
    """`prefix` + `text` made into a valid tag (None when nothing of `text` is left)."""
    words = "-".join(fold_tag(text).split())
    kept = re.sub(r"-{2,}", "-", _DROP.sub("", words)).strip("-.:")
    if not kept:
        return None
    name = f"{prefix}:{kept}"[:MAX_TAG].rstrip("-.:")
    return name if TAG.fullmatch(name) else None


def order_tags(items: Iterable[str], category: str | None) -> list[str]:
    """The rule tags an order gives its buyer: `bought:<item>` each, `category:<category>`."""
    names = [slug("bought", item) for item in items]
    if category:
        names.append(slug("category", category))
    return sorted({name for name in names if name is not None})


class TagUsage(DomainError):
    """/tag, /untag or /tags typed in a way that names no member and tag."""


MAX_USER_ID = 2**63 - 1


def parse_tag_command(
    words: list[str], *, replying: bool, tag: bool = True
) -> tuple[int | None, str]:
    """`/tag <name>` in reply (user None: the replied-to member) or `/tag <user id> <name>`;
    with `tag=False` (/tags) only the optional user id. TagUsage for anything else. A name
    of several words is returned whole: parse_tag then says a tag has no spaces, which is
    what `/tag big spender` needs to hear, rather than the usage."""
    if words and words[0].isascii() and words[0].isdigit() and len(words) >= 1 + tag:
        user_id = int(words[0])
        if not 0 < user_id <= MAX_USER_ID or (not tag and len(words) > 1):
            raise TagUsage
        return user_id, " ".join(words[1:])
    if replying and len(words) >= 1 and tag:
        return None, " ".join(words)
    if replying and not words and not tag:
        return None, ""
    raise TagUsage
