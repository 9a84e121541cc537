"""What a scheduled post or broadcast says: Telegram-flavoured HTML, a photo, buttons.

Checked when saved, so a bad post is refused to the admin who wrote it rather than by
Telegram at 09:00 when nobody is watching.
"""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser
from typing import Annotated, Self

from pydantic import BaseModel, Field, field_validator, model_validator

ALLOWED_TAGS = {
    "b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "span", "tg-spoiler",
    "a", "tg-emoji", "tg-time", "code", "pre", "blockquote",
}  # fmt: skip
TEXT_LIMIT = 4096
CAPTION_LIMIT = 1024
BUTTON_TEXT = 64
MAX_BUTTONS = 8


class _HtmlCheck(HTMLParser):
    """Telegram's HTML subset: known tags, properly nested, entities for < > &."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)
        self.stack: list[str] = []
        self.errors: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in ALLOWED_TAGS:
            self.errors.append(f"unsupported start tag {tag!r}")
        self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"unmatched end tag {tag!r}")
        else:
            self.stack.pop()

    def handle_data(self, data: str) -> None:
        if "<" in data or ">" in data:
            self.errors.append("unescaped < or >")

    def handle_entityref(self, name: str) -> None:
        if name not in {"lt", "gt", "amp", "quot"}:
            self.errors.append(f"unsupported entity &{name};")


def html_problems(text: str) -> list[str]:
    """Why Telegram would answer "can't parse entities" for this HTML, if it would."""
    if re.search(r"&(?!(lt|gt|amp|quot|#\d+|#x[0-9a-fA-F]+);)", text):
        return ["unescaped &"]
    check = _HtmlCheck()
    check.feed(text)
    check.close()
    if check.stack:
        check.errors.append(f"unclosed tags {check.stack}")
    return check.errors


def visible_length(text: str, parse_mode: str | None) -> int:
    """Length after entity parsing, as Telegram counts limits (UTF-16 code units)."""
    if parse_mode and parse_mode.upper() == "HTML":
        text = html.unescape(re.sub(r"<[^>]*>", "", text))
    return len(text.encode("utf-16-le")) // 2


class Button(BaseModel):
    """One button under a post: a link, a coupon claim or a group-buy join."""

    text: str = Field(min_length=1, max_length=BUTTON_TEXT)
    url: str | None = None
    coupon: Annotated[int, Field(ge=0, lt=2**63)] | None = None  # an offer's id: 🎟 claim
    groupbuy: Annotated[int, Field(ge=0, lt=2**63)] | None = None  # a deal's id: ➕ join a team

    @model_validator(mode="after")
    def _one_target(self) -> Self:
        targets = [t for t in (self.url, self.coupon, self.groupbuy) if t is not None]
        if len(targets) != 1:
            raise ValueError("a button needs exactly one of url, coupon or groupbuy")
        if self.url is not None and not re.match(r"^(https?|tg)://\S+$", self.url):
            raise ValueError("a button's url must start with https://, http:// or tg://")
        return self


class PostContent(BaseModel):
    """A post's content and options, validated as Telegram would when it is sent."""

    text: str
    photo: str | None = None  # a Telegram file id or an https URL
    buttons: list[Button] = Field(default_factory=list, max_length=MAX_BUTTONS)
    pin: bool = False
    silent: bool = False
    replace_previous: bool = False  # delete the previous run's message of this post

    @field_validator("text")
    @classmethod
    def _html(cls, value: str) -> str:
        problems = html_problems(value)
        if problems:
            raise ValueError(f"HTML Telegram would refuse: {'; '.join(problems)}")
        return value

    @model_validator(mode="after")
    def _length(self) -> Self:
        low, limit = (0, CAPTION_LIMIT) if self.photo else (1, TEXT_LIMIT)
        size = visible_length(self.text, "HTML")
        if not low <= size <= limit:
            raise ValueError(f"the text has {size} characters; {low} to {limit} allowed")
        return self


BUTTON_LINE = re.compile(
    r"^\s*(?:button|按钮)\s*[:：]\s*(?P<text>.+?)\s*\|\s*(?P<target>\S.*?)\s*$", re.I
)


def split_buttons(text: str) -> tuple[str, list[Button]]:
    """Trailing `button: Text | https://…`, `| coupon 12` or `| groupbuy 3` lines of an
    HTML text (so `&amp;` in a link is read back as `&`)."""
    lines = text.rstrip().split("\n")
    buttons: list[Button] = []
    while lines and (m := BUTTON_LINE.match(lines[-1])):
        label = html.unescape(re.sub(r"<[^>]+>", "", m["text"]))
        target = html.unescape(re.sub(r"<[^>]+>", "", m["target"]))
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
