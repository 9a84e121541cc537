"""Every code a post can be refused with is said in English and in Chinese."""

from __future__ import annotations

import re

import pytest

from campaigns.content import (
    BUTTON_TEXT,
    MAX_BUTTONS,
    MAX_ID,
    TEXT_LIMIT,
    ContentProblem,
    ContentRefused,
    HtmlFault,
    HtmlProblem,
    headline,
    html_problems,
)
from handlers.calendar_texts import CalendarTexts

P = ContentProblem
SAMPLES = {
    P.TEXT_EMPTY: ContentRefused(P.TEXT_EMPTY, size=0, low=1, limit=TEXT_LIMIT),
    P.TEXT_TOO_LONG: ContentRefused(P.TEXT_TOO_LONG, size=4097, low=1, limit=TEXT_LIMIT),
    P.BAD_HTML: ContentRefused(P.BAD_HTML, html=tuple(HtmlProblem(f, ("b",)) for f in HtmlFault)),
    P.TOO_MANY_BUTTONS: ContentRefused(P.TOO_MANY_BUTTONS, size=9, limit=MAX_BUTTONS),
    P.BUTTON_TEXT_EMPTY: ContentRefused(P.BUTTON_TEXT_EMPTY, low=1, limit=BUTTON_TEXT),
    P.BUTTON_TEXT_TOO_LONG: ContentRefused(
        P.BUTTON_TEXT_TOO_LONG, size=65, low=1, limit=BUTTON_TEXT, value="x" * 65
    ),
    P.BUTTON_TARGET: ContentRefused(P.BUTTON_TARGET, size=2, limit=1),
    P.BAD_BUTTON_URL: ContentRefused(P.BAD_BUTTON_URL, value="ftp://x.example"),
    P.BAD_BUTTON_ID: ContentRefused(P.BAD_BUTTON_ID, limit=MAX_ID, value=str(2**64)),
    P.INVALID: ContentRefused(P.INVALID, loc=("buttons", 0, "text")),
}


def english_prose(said: str) -> list[str]:
    """Runs of two or more English words, once examples, commands and schemes are taken out."""
    prose = re.sub(r"<code>.*?</code>|/\w+|\b(https?|tg)://", " ", said)
    return re.findall(r"[A-Za-z]{2,}(?:[\s,.;:'()]+[A-Za-z]{2,})+", prose)


def test_every_content_problem_has_a_sample():
    assert set(SAMPLES) == set(ContentProblem)


@pytest.mark.parametrize("problem", list(ContentProblem))
def test_every_content_problem_is_said_in_english_and_in_chinese(problem: ContentProblem):
    refused = SAMPLES[problem]

    en = CalendarTexts("en").content_refused(refused)
    zh = CalendarTexts("zh").content_refused(refused)

    assert en.startswith("The post can't be saved: ") and len(en) > len("The post can't be saved: ")
    assert zh != en
    assert english_prose(zh) == [], zh
    assert str(problem) not in en and str(problem) not in zh  # a code is never shown


def test_every_html_fault_is_said_in_the_readers_language():
    for fault in HtmlFault:
        problem = HtmlProblem(fault, ("blink",))

        en, zh = (
            CalendarTexts("en").html_problem(problem),
            CalendarTexts("zh").html_problem(problem),
        )

        assert en != zh and english_prose(zh) == [], (fault, zh)


def test_english_says_what_it_said_before_the_codes():
    t = CalendarTexts("en")

    assert t.content_refused(SAMPLES[P.TEXT_TOO_LONG]) == (
        "The post can't be saved: the text has 4097 characters; 1 to 4096 are allowed"
    )
    assert (
        t.content_problem(
            ContentRefused(P.BAD_HTML, html=(HtmlProblem(HtmlFault.UNCLOSED_TAGS, ("b", "i")),))
        )
        == "Telegram can't read its formatting (unclosed tags ['b', 'i'])"
    )
    assert t.content_problem(SAMPLES[P.TOO_MANY_BUTTONS]) == "a post has at most 8 buttons"
    assert t.content_problem(SAMPLES[P.BUTTON_TEXT_TOO_LONG]) == (
        "a button's text is longer than 64 characters"
    )


def test_html_in_a_fault_is_escaped():
    said = CalendarTexts("en").content_refused(
        ContentRefused(P.BAD_HTML, html=(HtmlProblem(HtmlFault.UNESCAPED_ANGLE),))
    )

    assert "unescaped &lt; or &gt;" in said


@pytest.mark.parametrize("language", ["en", "zh"])
def test_thousands_of_html_faults_are_said_once_each_with_a_count_within_a_message(language):
    stray = "<" * 4080 + "".join(f"<tag{i}>" for i in range(9)) + "<" + "x" * 3000 + ">"
    refused = ContentRefused(P.BAD_HTML, html=tuple(html_problems(stray)))
    assert len(refused.html) > 4000

    said = CalendarTexts(language).content_refused(refused)

    assert len(said) < 1000  # a message holds 4,096
    assert ("4080" in said or "4081" in said) and said.count("&lt; ") <= 2
    # 12 kinds: the stray <, nine unknown tags, the long one, and the tags left open
    assert ("7 more" if language == "en" else "另有 7 种问题") in said
    assert "x" * 41 not in said  # a tag's name is cut short


def test_a_preview_telegram_refused_is_said_in_chinese():
    zh = CalendarTexts("zh").preview_refused()

    assert zh != CalendarTexts("en").preview_refused() and english_prose(zh) == []


def test_a_report_names_a_post_by_its_first_line_without_markup_or_a_members_name():
    assert headline("<b>We miss you {name}!</b> &amp; more\nsecond line") == "We miss you …! & more"
    assert headline("x" * 50) == "x" * 39 + "…"
    assert headline("") == ""
