"""Every English text has a Chinese translation with the same placeholders."""

import re
from pathlib import Path

from babel.messages.extract import extract_from_file

from handlers.i18n import translator

HANDLERS = Path(__file__).resolve().parents[2] / "handlers"


def source_messages() -> list[str]:
    messages = []
    for path in sorted(HANDLERS.glob("*texts.py")):
        found = extract_from_file("python", str(path), keywords={"_": None, "_n": (1, 2)})
        messages += [m[1] if isinstance(m[1], str) else m[1][0] for m in found]
    return messages


def test_every_text_is_translated_to_chinese_with_the_same_placeholders():
    zh = translator("zh")
    messages = source_messages()

    missing = [
        m
        for m in messages
        if zh.gettext(m) == m and re.search(r"[A-Za-z]{3}", re.sub(r"\{\w+\}", "", m))
    ]
    mismatched = [
        m
        for m in messages
        if set(re.findall(r"\{(\w+)\}", m)) != set(re.findall(r"\{(\w+)\}", zh.gettext(m)))
    ]

    assert len(messages) > 100
    assert missing == []
    assert mismatched == []
