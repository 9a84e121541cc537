"""What a scheduled post or broadcast says: Telegram-flavoured HTML, a photo, buttons.

Checked when saved, so a bad post is refused to the admin who wrote it rather than by
Telegram at 09:00 when nobody is watching.
"""

from __future__ import annotations

import dataclasses
import html
import re
from dataclasses import dataclass
from enum import StrEnum
from html.parser import HTMLParser
from typing import Self

from pydantic import BaseModel, Field, ValidationError, field_validator, model_validator

from campaigns.errors import DomainError

ALLOWED_TAGS = {
    "b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "span", "tg-spoiler",
    "a", "tg-emoji", "tg-time", "code", "pre", "blockquote",
}  # fmt: skip
TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
BUTTON_TEXT = 64
MAX_BUTTONS = 8
MAX_ID = 2**63 - 1  # a BIGINT column holds an offer's or a deal's id


class HtmlFault(StrEnum):
    """What in a post's HTML Telegram would refuse ("can't parse entities")."""

    UNESCAPED_AMPERSAND = "unescaped_ampersand"  # & that starts no entity
    UNESCAPED_ANGLE = "unescaped_angle"  # a < or > in the text itself
    UNSUPPORTED_TAG = "unsupported_tag"
    UNMATCHED_END_TAG = "unmatched_end_tag"
    UNSUPPORTED_ENTITY = "unsupported_entity"  # &nbsp; and other names Telegram lacks
    UNCLOSED_TAGS = "unclosed_tags"


@dataclass(frozen=True)
class HtmlProblem:
    """One fault with the tags (or the entity name) it concerns, in the order found."""

    fault: HtmlFault
    names: tuple[str, ...] = ()


class ContentProblem(StrEnum):
    """Why a post's content was refused; texts say each one in the reader's language."""

    TEXT_EMPTY = "text_empty"  # no text and no photo
    TEXT_TOO_LONG = "text_too_long"  # `size` over `limit` (a caption's limit with a photo)
    BAD_HTML = "bad_html"  # `html` lists the faults
    TOO_MANY_BUTTONS = "too_many_buttons"
    BUTTON_TEXT_EMPTY = "button_text_empty"
    BUTTON_TEXT_TOO_LONG = "button_text_too_long"
    BUTTON_TARGET = "button_target"  # not exactly one of url, coupon or groupbuy
    BAD_BUTTON_URL = "bad_button_url"  # not https://, http:// or tg://
    BAD_BUTTON_ID = "bad_button_id"  # a coupon or group-buy id no BIGINT holds
    INVALID = "invalid"  # a value of the wrong type (from a file): see `loc`


@dataclass
class ContentRefused(DomainError, ValueError):
    """A post Telegram would refuse. A ValueError, so that pydantic carries it through a
    ValidationError untouched (in the error's `ctx["error"]`); `refusal_of` gets it back."""

    problem: ContentProblem
    size: int = 0  # the text's or a button text's length, or how many buttons
    low: int = 0  # the fewest characters allowed
    limit: int = 0  # the most allowed
    value: str = ""  # the offending url, id or button text
    html: tuple[HtmlProblem, ...] = ()
    loc: tuple[str | int, ...] = ()  # where in the content or the document, once known

    def __str__(self) -> str:
        return str(self.problem)  # pydantic's message says the code, never a sentence


def refusal_of(error: ValidationError) -> ContentRefused:
    """The first problem of a refused post as a code; pydantic's own words (a wrong type from
    a file) become INVALID at their place, so they never reach a reader."""
    first = error.errors()[0]
    cause = (first.get("ctx") or {}).get("error")
    loc = tuple(k for k in first["loc"] if isinstance(k, str | int))
    if isinstance(cause, ContentRefused):
        return dataclasses.replace(cause, loc=loc)
    return ContentRefused(ContentProblem.INVALID, loc=loc)


class _HtmlCheck(HTMLParser):
    """Telegram's HTML subset: known tags, properly nested, entities for < > &."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.stack: list[str] = []
        self.errors: list[HtmlProblem] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in ALLOWED_TAGS:
            self.errors.append(HtmlProblem(HtmlFault.UNSUPPORTED_TAG, (tag,)))
        self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(HtmlProblem(HtmlFault.UNMATCHED_END_TAG, (tag,)))
        else:
            self.stack.pop()

    def handle_data(self, data: str) -> None:
        if "<" in data or ">" in data:
            self.errors.append(HtmlProblem(HtmlFault.UNESCAPED_ANGLE))

    def handle_entityref(self, name: str) -> None:
        if name not in {"lt", "gt", "amp", "quot"}:
            self.errors.append(HtmlProblem(HtmlFault.UNSUPPORTED_ENTITY, (name,)))


def html_problems(text: str) -> list[HtmlProblem]:
    """Why Telegram would answer "can't parse entities" for this HTML, if it would."""
    if re.search(r"&(?!(lt|gt|amp|quot|#\d+|#x[0-9a-fA-F]+);)", text):
        return [HtmlProblem(HtmlFault.UNESCAPED_AMPERSAND)]
    check = _HtmlCheck()
    check.feed(text)
    check.close()
    if check.stack:
        check.errors.append(HtmlProblem(HtmlFault.UNCLOSED_TAGS, tuple(check.stack)))
    return check.errors


_MARKUP = re.compile(r"<[^>]*>")  # a tag, as Telegram's HTML parsing takes it out


_TAG = re.compile(r"<[^>]+>")  # a tag with a name: a literal "<>" typed in a button line stays


def plain_text(html_text: str) -> str:
    """HTML as its reader sees it: the tags taken out, the entities read (for a terminal,
    an excerpt, a button's label)."""
    return html.unescape(_TAG.sub("", html_text))


def visible_length(text: str, parse_mode: str | None) -> int:
    """Length after entity parsing, as Telegram counts limits (UTF-16 code units)."""
    if parse_mode and parse_mode.upper() == "HTML":
        text = html.unescape(_MARKUP.sub("", text))
    return len(text.encode("utf-16-le")) // 2


def cut_units(text: str, limit: int) -> str:
    """The longest start of `text` within `limit` UTF-16 code units, as Telegram counts a
    name's or an alert's length (an emoji outside the BMP is two): never half of one."""
    used = 0
    for i, char in enumerate(text):
        used += 2 if ord(char) > 0xFFFF else 1
        if used > limit:
            return text[:i]
    return text


class Button(BaseModel):
    """One button under a post: a link, a coupon claim or a group-buy join."""

    text: str
    url: str | None = None
    coupon: int | None = None  # an offer's id: 🎟 claim
    groupbuy: int | None = None  # a deal's id: ➕ join a team

    @field_validator("text")
    @classmethod
    def _label(cls, value: str) -> str:
        if not value:
            raise ContentRefused(ContentProblem.BUTTON_TEXT_EMPTY, low=1, limit=BUTTON_TEXT)
        if len(value) > BUTTON_TEXT:
            raise ContentRefused(
                ContentProblem.BUTTON_TEXT_TOO_LONG,
                size=len(value),
                low=1,
                limit=BUTTON_TEXT,
                value=value,
            )
        return value

    @field_validator("coupon", "groupbuy")
    @classmethod
    def _id(cls, value: int | None) -> int | None:
        if value is not None and not 0 <= value <= MAX_ID:
            shown = str(value) if value.bit_length() <= 128 else ""  # str() of 10**5000 fails
            raise ContentRefused(ContentProblem.BAD_BUTTON_ID, limit=MAX_ID, value=shown)
        return value

    @model_validator(mode="after")
    def _one_target(self) -> Self:
        targets = [t for t in (self.url, self.coupon, self.groupbuy) if t is not None]
        if len(targets) != 1:
            raise ContentRefused(ContentProblem.BUTTON_TARGET, size=len(targets), limit=1)
        if self.url is not None and not re.match(r"^(https?|tg)://\S+$", self.url):
            raise ContentRefused(ContentProblem.BAD_BUTTON_URL, value=self.url)
        return self


class PostContent(BaseModel):
    """A post's content and options, validated as Telegram would when it is sent."""

    text: str
    photo: str | None = None  # a Telegram file id or an https URL
    buttons: list[Button] = Field(default_factory=list)
    pin: bool = False
    silent: bool = False
    replace_previous: bool = False  # delete the previous run's message of this post

    @field_validator("text")
    @classmethod
    def _html(cls, value: str) -> str:
        problems = html_problems(value)
        if problems:
            raise ContentRefused(ContentProblem.BAD_HTML, html=tuple(problems))
        return value

    @field_validator("buttons")
    @classmethod
    def _few(cls, value: list[Button]) -> list[Button]:
        if len(value) > MAX_BUTTONS:
            raise ContentRefused(
                ContentProblem.TOO_MANY_BUTTONS, size=len(value), limit=MAX_BUTTONS
            )
        return value

    @model_validator(mode="after")
    def _length(self) -> Self:
        low, limit = (0, CAPTION_LIMIT) if self.photo else (1, TEXT_LIMIT)
        size = visible_length(self.text, "HTML")
        if not low <= size <= limit:
            problem = ContentProblem.TEXT_EMPTY if size < low else ContentProblem.TEXT_TOO_LONG
            raise ContentRefused(problem, size=size, low=low, limit=limit)
        return self


NAME_TAG = "{name}"  # in a welcome step or a broadcast: each member's own name


def addressed(content: PostContent, name: str, *, mention: int | None = None) -> PostContent:
    """The post with each `{name}` as `name` (a mention of user `mention` when given).

    The post was checked against Telegram's limit with `{name}` in it: a long name (60 🌸
    are 120 units) made a post saved near the limit too long for that member, Telegram
    refused it, and they never got it. The name is shortened instead, to what is left."""
    slots = content.text.count(NAME_TAG)
    if not slots:
        return content
    if not name and mention is not None:
        name = str(mention)
    limit = CAPTION_LIMIT if content.photo else TEXT_LIMIT
    room = (limit - visible_length(content.text.replace(NAME_TAG, ""), "HTML")) // slots
    if visible_length(name, None) > room:
        name = cut_units(name, room - 1) + "…" if room > 0 else ""
    shown = html.escape(name, quote=False)
    if mention is not None:
        shown = f'<a href="tg://user?id={mention}">{shown}</a>' if shown else ""
    return content.model_copy(update={"text": content.text.replace(NAME_TAG, shown)})


def read_post(
    text: str,
    photo: str | None = None,
    *,
    pin: bool = False,
    silent: bool = False,
    replace_previous: bool = False,
) -> PostContent:
    """A post as an admin typed it (HTML with trailing button lines), checked whole;
    ContentRefused names the first problem."""
    try:
        body, buttons = split_buttons(text)
        return PostContent(
            text=body,
            photo=photo,
            buttons=buttons,
            pin=pin,
            silent=silent,
            replace_previous=replace_previous,
        )
    except ValidationError as error:
        raise refusal_of(error) from None


BUTTON_LINE = re.compile(
    r"^\s*(?:button|按钮)\s*[:：]\s*(?P<text>.+?)\s*\|\s*(?P<target>\S.*?)\s*$", re.I
)


def split_buttons(text: str) -> tuple[str, list[Button]]:
    """Trailing `button: Text | https://…`, `| coupon 12` or `| groupbuy 3` lines of an
    HTML text (so `&amp;` in a link is read back as `&`)."""
    lines = text.rstrip().split("\n")
    buttons: list[Button] = []
    while lines and (m := BUTTON_LINE.match(lines[-1])):
        label, target = plain_text(m["text"]), plain_text(m["target"])
        kind, _, ref = target.partition(" ")
        ref = ref.strip()
        is_id = ref.isascii() and ref.isdigit() and len(ref) < 20  # `²` is a digit int() refuses
        if kind.lower() in {"coupon", "groupbuy"} and is_id:
            buttons.insert(0, Button(text=label, **{kind.lower(): int(ref)}))
        else:
            buttons.insert(0, Button(text=label, url=target))
        lines.pop()
    return "\n".join(lines).strip(), buttons


def image_type(data: bytes) -> str | None:
    """The image format the bytes start with, of those Telegram takes as a photo ("jpeg",
    "png", "webp"); None for anything else, whatever the file is called."""
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    return None


HEADLINE = 40  # characters of a post's or broadcast's first line in a report


def headline(text: str) -> str:
    """A post's or broadcast's first line as a report names it: its markup taken out and its
    entities read (the report escapes it again), each member's {name} shown as "…" (no
    member is meant there), and shortened to HEADLINE characters."""
    plain = html.unescape(_MARKUP.sub("", text)).replace(NAME_TAG, "…").strip()
    first = plain.splitlines()[0] if plain else ""
    return first if len(first) <= HEADLINE else first[: HEADLINE - 1] + "…"
