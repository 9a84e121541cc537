"""A post's Telegram HTML as the dashboard's preview shows it: only the tags Telegram formats,
with no attribute but a link's `href` (http, https or tg) and a spoiler's class; everything
else is text. The page's CSP already forbids inline script: this keeps an admin's typed
`onmouseover=` or `javascript:` out of the page altogether."""

from __future__ import annotations

import html
from html.parser import HTMLParser

TAGS = {"b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "a", "code", "pre",
        "tg-spoiler", "span", "blockquote", "tg-emoji"}  # fmt: skip
SCHEMES = ("http://", "https://", "tg://")


class _Cleaner(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.open: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in TAGS:
            return
        kept = ""
        if tag == "a":
            href = dict(attrs).get("href") or ""
            if href.strip().lower().startswith(SCHEMES):
                kept = f' href="{html.escape(href.strip(), quote=True)}"'
        elif tag == "span" and dict(attrs).get("class") == "tg-spoiler":
            kept = ' class="tg-spoiler"'
        self.out.append(f"<{tag}{kept}>")
        self.open.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in self.open:
            while self.open:
                closing = self.open.pop()
                self.out.append(f"</{closing}>")
                if closing == tag:
                    break

    def handle_data(self, data: str) -> None:
        self.out.append(html.escape(data, quote=False))


def safe_preview(text: str) -> str:
    """`text` (Telegram HTML) with only Telegram's formatting kept, every tag closed."""
    cleaner = _Cleaner()
    cleaner.feed(text)
    cleaner.close()
    return "".join(cleaner.out) + "".join(f"</{t}>" for t in reversed(cleaner.open))
