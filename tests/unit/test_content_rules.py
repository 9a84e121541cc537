"""A post's content is refused with a code and its data, never a sentence: texts say it."""

from __future__ import annotations

import html

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from campaigns.content import (
    BUTTON_TEXT,
    CAPTION_LIMIT,
    MAX_BUTTONS,
    MAX_ID,
    TEXT_LIMIT,
    Button,
    ContentProblem,
    ContentRefused,
    HtmlFault,
    HtmlProblem,
    PostContent,
    addressed,
    cut_units,
    html_problems,
    read_post,
    refusal_of,
    visible_length,
)

LINK = "https://shop.example/"


def refused(text: str, photo: str | None = None) -> ContentRefused:
    with pytest.raises(ContentRefused) as caught:
        read_post(text, photo)
    return caught.value


@pytest.mark.parametrize(
    ("text", "photo", "problem"),
    [
        ("", None, ContentProblem.TEXT_EMPTY),
        ("x" * (TEXT_LIMIT + 1), None, ContentProblem.TEXT_TOO_LONG),
        ("x" * (CAPTION_LIMIT + 1), "AgAC1", ContentProblem.TEXT_TOO_LONG),
        ("<b>bold", None, ContentProblem.BAD_HTML),
        ("hi\n" + "\n".join(f"button: {i} | {LINK}" for i in range(9)), None,
         ContentProblem.TOO_MANY_BUTTONS),
        ("hi\nbutton: <b></b> | " + LINK, None, ContentProblem.BUTTON_TEXT_EMPTY),
        ("hi\nbutton: " + "x" * (BUTTON_TEXT + 1) + " | " + LINK, None,
         ContentProblem.BUTTON_TEXT_TOO_LONG),
        ("hi\nbutton: Go | ftp://x.example", None, ContentProblem.BAD_BUTTON_URL),
        ("hi\nbutton: Go | coupon 9999999999999999999", None, ContentProblem.BAD_BUTTON_ID),
    ],
)  # fmt: skip
def test_a_refused_post_names_its_problem_as_a_code(text, photo, problem):
    error = refused(text, photo)

    assert error.problem is problem
    assert str(error) == problem  # pydantic's message carries the code, not a sentence


def test_a_text_over_the_limit_carries_its_size_and_the_limits():
    error = refused("x" * (CAPTION_LIMIT + 5), "AgAC1")

    assert (error.size, error.low, error.limit) == (CAPTION_LIMIT + 5, 0, CAPTION_LIMIT)
    assert error.loc == ()


def test_too_many_buttons_carries_the_count_and_where():
    error = refused("hi\n" + "\n".join(f"button: {i} | {LINK}" for i in range(9)))

    assert (error.size, error.limit, error.loc) == (9, MAX_BUTTONS, ("buttons",))


def test_a_bad_button_carries_the_offending_value():
    assert refused("hi\nbutton: Go | ftp://x.example").value == "ftp://x.example"
    assert refused("hi\nbutton: Go | coupon 9999999999999999999").limit == MAX_ID


def test_a_button_needs_exactly_one_target():
    with pytest.raises(ValidationError) as caught:
        Button(text="Go", url=LINK, coupon=3)

    error = refusal_of(caught.value)

    assert (error.problem, error.size) == (ContentProblem.BUTTON_TARGET, 2)


def test_a_value_of_the_wrong_type_is_invalid_at_its_place():
    with pytest.raises(ValidationError) as caught:
        PostContent.model_validate({"text": "hi", "buttons": [{"text": ["x"], "url": LINK}]})

    error = refusal_of(caught.value)

    assert (error.problem, error.loc) == (ContentProblem.INVALID, ("buttons", 0, "text"))


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("Tom & Jerry", [HtmlProblem(HtmlFault.UNESCAPED_AMPERSAND)]),
        ("a < b", [HtmlProblem(HtmlFault.UNESCAPED_ANGLE)]),
        ("<blink>x</blink>", [HtmlProblem(HtmlFault.UNSUPPORTED_TAG, ("blink",))]),
        ("x</b>", [HtmlProblem(HtmlFault.UNMATCHED_END_TAG, ("b",))]),
        ("&nbsp;", [HtmlProblem(HtmlFault.UNESCAPED_AMPERSAND)]),  # Telegram knows four names
        ("<b><i>x", [HtmlProblem(HtmlFault.UNCLOSED_TAGS, ("b", "i"))]),
        ("<b>fine</b> &amp; &#128512;", []),
    ],
)
def test_html_faults_are_codes_with_the_tags_they_concern(text, found):
    assert html_problems(text) == found


@given(text=st.text(max_size=80), limit=st.integers(0, 40))
def test_cut_units_keeps_the_longest_start_that_fits(text: str, limit: int):
    cut = cut_units(text, limit)

    assert text.startswith(cut) and visible_length(cut, None) <= limit
    if cut != text:  # the next character would not have fitted
        assert visible_length(text[: len(cut) + 1], None) > limit


@given(
    before=st.integers(0, 4100),
    slots=st.integers(1, 5),
    name=st.text(max_size=130),
    photo=st.booleans(),
    mention=st.one_of(st.none(), st.integers(1, 10**12)),
)
def test_a_name_filled_in_never_makes_a_post_too_long_for_telegram(
    before: int, slots: int, name: str, photo: bool, mention: int | None
):
    """The post was measured with `{name}` in it; a long name (60 × 🌸) made a post near the
    limit too long for that member, and Telegram refused their copy. Shortened instead."""
    limit = CAPTION_LIMIT if photo else TEXT_LIMIT
    text = "x" * min(before, limit - 6 * slots) + "{name}" * slots
    content = PostContent(text=text, photo="https://example.com/a.jpg" if photo else None)

    shown = addressed(content, name, mention=mention)

    assert visible_length(shown.text, "HTML") <= limit
    assert not html_problems(shown.text)
    whole = html.escape(name or (str(mention) if mention else ""), quote=False)
    if visible_length(text.replace("{name}", "") + name * slots, None) <= limit:
        assert whole in shown.text  # nothing is cut that fits
