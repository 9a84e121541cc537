"""Channel rules: /link parsing (never raising anything but its coded error), names, and
each channel's joins, confirmed and first orders."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from campaigns.channels import (
    ChannelInputError,
    ChannelProblem,
    ChannelVerb,
    Joiner,
    channel_name,
    channel_stats,
    parse_link_command,
)
from campaigns.referral import ReferralProgram

T0 = dt.datetime(2026, 11, 2, tzinfo=dt.UTC)
H = dt.timedelta(hours=1)


def test_a_name_of_several_words_is_kept_with_single_spaces():
    assert parse_link_command(["new", "小红书", " 11月 "]) == (ChannelVerb.NEW, "小红书 11月")


def test_names_of_32_characters_pass_and_33_do_not():
    assert channel_name("x" * 32) == "x" * 32
    with pytest.raises(ChannelInputError) as too_long:
        channel_name("x" * 33)

    assert too_long.value.problem is ChannelProblem.NAME


@pytest.mark.parametrize("raw", ["", "   ", "a\u200bb", "tab\x07", "r123 Alice"])
def test_empty_invisible_or_member_link_like_names_are_refused(raw: str):
    with pytest.raises(ChannelInputError):
        channel_name(raw)


def test_list_takes_no_words_and_other_verbs_get_the_usage():
    assert parse_link_command(["LIST"]) == (ChannelVerb.LIST, None)
    with pytest.raises(ChannelInputError) as other:
        parse_link_command(["delete", "x"])

    assert other.value.problem is ChannelProblem.USAGE


@given(st.lists(st.text(max_size=40), max_size=5))
def test_the_parser_raises_only_its_coded_error(words: list[str]):
    try:
        verb, name = parse_link_command(words)
    except ChannelInputError:
        return
    assert verb is ChannelVerb.LIST or (name is not None and 1 <= len(name) <= 32)


def joiner(user: int, at: dt.datetime, *, present=True, active=None, ordered=None) -> Joiner:
    return Joiner(user, at, present, active, ordered)


def test_a_channels_figures_count_each_member_once_by_their_first_join():
    program = ReferralProgram()  # a 24-hour hold, activity required
    now = T0 + 48 * H
    joiners = [
        joiner(1, T0, active=T0 + H, ordered=T0 + 2 * H),  # confirmed, first order after joining
        joiner(1, T0 + 30 * H, active=T0 + H),  # rejoined: still one member
        joiner(2, T0, present=False, active=T0 + H),  # left: not confirmed
        joiner(3, T0, active=None, ordered=T0 - H),  # silent; ordered before joining
        joiner(4, T0 + 40 * H, active=T0 + 41 * H),  # hold not over yet
    ]

    stats = channel_stats(9, "抖音", "https://t.me/+x", joiners, program, now)

    assert (stats.joins, stats.confirmed, stats.first_orders) == (4, 1, 1)
