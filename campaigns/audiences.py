"""Saved audiences: a group's named rules in the audience language (`/audience save winback
stage=dormant and spend>0`), used by /broadcast (`@winback`), the CLI and automations.

Only the canonical text of the rule is stored (audience_expr.describe), so what /audience
show prints is what is evaluated. Tier names stay names in the stored text and are resolved
through the group's ladder each time the audience is used: renaming a tier makes a rule
that names it fail loudly rather than quietly select someone else.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from enum import StrEnum

from campaigns.errors import DomainError

MAX_NAME = 32
MAX_SAVED = 100  # saved audiences per group
SAMPLE = 5  # names a preview shows
NAME = re.compile(r"[\w\-]{1,32}")


class AudienceRefusal(StrEnum):
    BAD_NAME = "bad_name"
    UNKNOWN = "unknown"  # no saved audience by that name in this group
    TOO_MANY = "too_many"


@dataclass
class AudienceRefused(DomainError):
    """A saved-audience command that changed nothing; `name` is what was typed (cut short)."""

    reason: AudienceRefusal
    name: str = ""


def parse_name(text: str) -> str:
    """A saved audience's name, lowercased: letters (中文 too), digits, `_` and `-`."""
    name = text.strip().lstrip("@").lower()
    if len(name) > MAX_NAME or NAME.fullmatch(name) is None:
        raise AudienceRefused(AudienceRefusal.BAD_NAME, text[: MAX_NAME + 8])
    return name


@dataclass(frozen=True)
class SavedAudience:
    name: str
    rule: str  # canonical text (audience_expr.describe)
    by: int | None
    updated_at: dt.datetime


@dataclass(frozen=True)
class Preview:
    """What an audience selects now: how many, and a few of them by name."""

    name: str | None
    rule: str
    count: int
    sample: list[str]  # display names


@dataclass(frozen=True)
class AudienceMember:
    """One selected member, as exported (CSV)."""

    user_id: int
    name: str
    username: str | None
    stage: str | None
    rfm_segment: str | None
    tier: str  # the tier's name in the group's ladder
    tags: tuple[str, ...]
    points: int
    orders: int
    spend: int  # minor units


class AudienceVerb(StrEnum):
    SAVE = "save"
    LIST = "list"
    SHOW = "show"
    DELETE = "delete"


VERBS = {v.value: v for v in AudienceVerb} | {
    "保存": AudienceVerb.SAVE,
    "列表": AudienceVerb.LIST,
    "查看": AudienceVerb.SHOW,
    "删除": AudienceVerb.DELETE,
}


class AudienceUsage(DomainError):
    """/audience typed without a verb it knows, or without the name or rule it needs."""


def parse_audience_command(words: list[str]) -> tuple[AudienceVerb, str, str]:
    """`/audience save <name> <rule…>`, `list`, `show <name>`, `delete <name>`: the verb,
    the name ("" for list) and the rule ("" but for save)."""
    verb = VERBS.get(words[0].lower()) if words else None
    if verb is AudienceVerb.LIST and len(words) == 1:
        return verb, "", ""
    if verb is AudienceVerb.SAVE and len(words) >= 3:
        return verb, words[1], " ".join(words[2:])
    if verb in (AudienceVerb.SHOW, AudienceVerb.DELETE) and len(words) == 2:
        return verb, words[1], ""
    raise AudienceUsage
