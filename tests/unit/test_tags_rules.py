"""Tag names, order rule tags, saved-audience names and the /tag and /audience command words:
what each accepts, and that hostile input only ever gets the feature's own error."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from campaigns.audience import AudienceError, parse_audience, split_command
from campaigns.audience_expr import parse
from campaigns.audiences import (
    AudienceRefused,
    AudienceUsage,
    AudienceVerb,
    parse_audience_command,
    parse_name,
)
from campaigns.tags import TagError, TagProblem, TagUsage, order_tags, parse_tag, parse_tag_command

WORDS = st.lists(st.text(max_size=40) | st.sampled_from(["save", "show", "12345", "vip", "@x"]))


@pytest.mark.parametrize(
    ("typed", "stored"),
    [("VIP", "vip"), ("vip-prospect", "vip-prospect"), ("茶友", "茶友"),
     ("bought:tea", "bought:tea"), (" x.y_z ", "x.y_z")],
)  # fmt: skip
def test_a_tag_name_is_stored_lowercased(typed, stored):
    assert parse_tag(typed) == stored


@pytest.mark.parametrize(
    ("typed", "problem"),
    [("", TagProblem.EMPTY), ("a b", TagProblem.BAD_CHARACTERS),
     ("x" * 33, TagProblem.TOO_LONG), ("<b>", TagProblem.BAD_CHARACTERS),
     ("vip\u200b", TagProblem.BAD_CHARACTERS), ("茶" * 5000, TagProblem.TOO_LONG)],
)  # fmt: skip
def test_a_bad_tag_name_says_why(typed, problem):
    with pytest.raises(TagError) as refused:
        parse_tag(typed)

    assert refused.value.problem is problem


def test_an_orders_items_and_category_become_valid_rule_tags():
    tags = order_tags(["Green Tea 500g", "茶具", "!!!", "x" * 80], "Tea & Coffee")

    assert tags == ["bought:green-tea-500g", "bought:x" + "x" * 24, "bought:茶具",
                    "category:tea-coffee"]  # fmt: skip


@settings(max_examples=300)
@given(items=st.lists(st.text(max_size=80), max_size=5), category=st.none() | st.text())
def test_rule_tags_are_always_tags_the_language_can_name(items, category):
    for tag in order_tags(items, category):
        assert parse_tag(tag) == tag  # valid, and stored as typed


@settings(max_examples=500)
@given(text=st.text(max_size=300))
def test_tag_and_audience_names_raise_nothing_but_their_own_errors(text):
    for parser, errors in ((parse_tag, TagError), (parse_name, AudienceRefused)):
        with contextlib.suppress(errors):
            parser(text)


@settings(max_examples=500)
@given(words=WORDS, replying=st.booleans(), tag=st.booleans())
def test_the_command_words_raise_nothing_but_usage(words, replying, tag):
    with contextlib.suppress(AudienceUsage):
        parse_audience_command(words)
    with contextlib.suppress(TagUsage):
        user_id, _ = parse_tag_command(words, replying=replying, tag=tag)
        assert user_id is None or 0 < user_id < 2**63


def test_a_full_width_tag_is_the_same_tag_typed_or_in_a_rule():
    assert parse_tag("ＶＩＰ") == parse_tag("vip") == "vip"
    assert parse_tag("ＶＩＰ－ｃａｒｅ") == "vip-care"
    assert parse("tag=ＶＩＰ") == parse("tag=vip")


def test_tag_command_words():
    assert parse_tag_command(["vip"], replying=True) == (None, "vip")
    assert parse_tag_command(["12345", "vip"], replying=False) == (12345, "vip")
    assert parse_tag_command([], replying=True, tag=False) == (None, "")
    assert parse_tag_command(["12345"], replying=False, tag=False) == (12345, "")
    for words in (["vip"], ["12345"], ["-5", "vip"], ["٣", "vip"]):
        with pytest.raises(TagUsage):
            parse_tag_command(words, replying=False)
    with pytest.raises(TagUsage):
        parse_tag_command(["12345", "vip"], replying=False, tag=False)
    # Several words are one name with spaces, which parse_tag refuses as such.
    assert parse_tag_command(["big", "spender"], replying=True) == (None, "big spender")
    assert parse_tag_command(["1", "2", "3"], replying=False) == (1, "2 3")
    with pytest.raises(TagError) as spaced:
        parse_tag("big spender")
    assert spaced.value.problem is TagProblem.BAD_CHARACTERS


def test_audience_command_words():
    assert parse_audience_command(["SAVE", "w", "stage=dormant", "and", "spend>0"]) == (
        AudienceVerb.SAVE, "w", "stage=dormant and spend>0")  # fmt: skip
    assert parse_audience_command(["列表"]) == (AudienceVerb.LIST, "", "")
    assert parse_audience_command(["show", "w"]) == (AudienceVerb.SHOW, "w", "")
    for words in ([], ["save", "w"], ["show"], ["drop", "w"], ["list", "x"]):
        with pytest.raises(AudienceUsage):
            parse_audience_command(words)


def test_a_broadcast_names_a_saved_audience_with_at_or_audience_equals():
    at, text = split_command(["@WinBack", "points>=10", "Hello"], has_body=False)

    assert (at.saved, at.points_min, text) == ("winback", 10, "Hello")
    assert parse_audience("audience=vips").saved == "vips"
    assert parse_audience("@vips joined<7d").describe() == "@vips joined<7d"
    with pytest.raises(AudienceError):
        parse_audience("@a @b")


def test_a_coupon_grant_names_a_saved_audience_with_at_or_audience_equals():
    from campaigns.coupons import parse_audience_grant

    assert parse_audience_grant(["grant", "12", "@tea"]) == (12, "tea")
    assert parse_audience_grant(["GRANT", "12", "audience=Tea"]) == (12, "Tea")
    for words in (["grant", "12"], ["grant", "x", "@tea"], ["post", "12", "@tea"],
                  ["grant", "12", "@"], ["grant", "12", "tea"]):  # fmt: skip
        assert parse_audience_grant(words) is None


@settings(max_examples=300)
@given(words=WORDS)
def test_the_coupon_grant_words_never_raise(words):
    from campaigns.coupons import parse_audience_grant

    parse_audience_grant(words)
