"""Channel rules: /link parsing (never raising anything but its coded error), names and
costs, first-touch credit, and each channel's joins, confirmed, first orders, GMV, cost and
ROI, worked out by hand."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from campaigns.channels import (
    Channel,
    ChannelFacts,
    ChannelInputError,
    ChannelJoin,
    ChannelProblem,
    ChannelVerb,
    LinkCommand,
    MemberNow,
    OrderAt,
    channel_figures,
    channel_name,
    credited,
    parse_link_command,
    period_view,
    roi,
)
from campaigns.referral import ReferralProgram

T0 = dt.datetime(2026, 11, 2, tzinfo=dt.UTC)
H, D = dt.timedelta(hours=1), dt.timedelta(days=1)


def test_a_name_of_several_words_is_kept_with_single_spaces():
    assert parse_link_command(["new", "小红书", " 11月 "]) == LinkCommand(
        ChannelVerb.NEW, "小红书 11月"
    )


def test_new_takes_a_cost_in_yuan_as_its_last_word():
    assert parse_link_command(["new", "小红书", "11月", "cost=500"]) == LinkCommand(
        ChannelVerb.NEW, "小红书 11月", cost=50_000
    )
    assert parse_link_command(["new", "抖音", "成本=1,299.50"]).cost == 129_950


def test_cost_reads_the_last_word_as_the_amount_and_off_forgets_it():
    assert parse_link_command(["cost", "小红书", "11月", "¥500"]) == LinkCommand(
        ChannelVerb.COST, "小红书 11月", cost=50_000
    )
    assert parse_link_command(["COST", "抖音", "off"]) == LinkCommand(ChannelVerb.COST, "抖音")
    for bad in (["cost", "抖音", "-5"], ["cost", "抖音", "lots"], ["new", "x", "cost=¥¥"]):
        with pytest.raises(ChannelInputError) as refused:
            parse_link_command(bad)
        assert refused.value.problem is ChannelProblem.COST
    with pytest.raises(ChannelInputError) as no_amount:
        parse_link_command(["cost", "抖音"])
    assert no_amount.value.problem is ChannelProblem.USAGE


def test_rename_takes_two_words_or_an_arrow_between_longer_names():
    assert parse_link_command(["rename", "抖音", "douyin"]) == LinkCommand(
        ChannelVerb.RENAME, "抖音", "douyin"
    )
    assert parse_link_command(["rename", "小红书", "11月", "->", "小红书", "双11"]) == (
        LinkCommand(ChannelVerb.RENAME, "小红书 11月", "小红书 双11")
    )
    with pytest.raises(ChannelInputError) as ambiguous:
        parse_link_command(["rename", "a", "b", "c"])
    assert ambiguous.value.problem is ChannelProblem.USAGE
    with pytest.raises(ChannelInputError) as empty:
        parse_link_command(["rename", "a", "->"])
    assert empty.value.problem is ChannelProblem.NAME


def test_names_of_32_characters_pass_and_33_do_not():
    assert channel_name("x" * 32) == "x" * 32
    with pytest.raises(ChannelInputError) as too_long:
        channel_name("x" * 33)

    assert too_long.value.problem is ChannelProblem.NAME


def test_a_name_is_measured_as_telegram_counts_it():
    """An emoji outside the BMP is two of Telegram's 32: 17 × 🎁 would be refused there."""
    assert channel_name("🎁" * 16) == "🎁" * 16
    with pytest.raises(ChannelInputError):
        channel_name("🎁" * 17)


@pytest.mark.parametrize("raw", ["", "   ", "a\u200bb", "tab\x07", "r123 Alice"])
def test_empty_invisible_or_member_link_like_names_are_refused(raw: str):
    with pytest.raises(ChannelInputError):
        channel_name(raw)


def test_list_takes_no_words_and_other_verbs_get_the_usage():
    assert parse_link_command(["LIST"]) == LinkCommand(ChannelVerb.LIST)
    for words in (["delete", "x"], ["list", "x"], []):
        with pytest.raises(ChannelInputError) as other:
            parse_link_command(words)
        assert other.value.problem is ChannelProblem.USAGE


@given(st.lists(st.text(max_size=40), max_size=6))
def test_the_parser_raises_only_its_coded_error(words: list[str]):
    try:
        c = parse_link_command(words)
    except ChannelInputError:
        return
    assert c.verb is ChannelVerb.LIST or (c.name is not None and 1 <= len(c.name) <= 32)
    assert c.verb is not ChannelVerb.RENAME or (c.new_name and len(c.new_name) <= 32)
    assert c.cost is None or c.cost >= 0


A = Channel(1, "小红书", "https://t.me/+a", cost=10_000)  # ¥100
B = Channel(2, "抖音", "https://t.me/+b")  # no cost recorded


def facts() -> ChannelFacts:
    """Members 1-5 through A and B (see each line), and their orders."""
    joins = [
        ChannelJoin(1, 1, T0),  # through A
        ChannelJoin(2, 1, T0 + 30 * H),  # then B: still A's (first touch)
        ChannelJoin(2, 2, T0),  # B's; left the group
        ChannelJoin(1, 3, T0 + H),  # A's; silent
        ChannelJoin(2, 4, T0 + 40 * H),  # B's; too recent to be confirmed at T0 + 48h
        ChannelJoin(1, 5, T0 + 3 * D),  # A's, in a later window
    ]
    members = {
        1: MemberNow(True, T0 + H),
        2: MemberNow(False, T0 + H),
        3: MemberNow(True, None),
        4: MemberNow(True, T0 + 41 * H),
        5: MemberNow(True, T0 + 3 * D + H),
    }
    orders = {
        1: (OrderAt(T0 + 2 * H, 9_900), OrderAt(T0 + 2 * D, 5_000)),
        2: (OrderAt(T0 + 5 * H, 20_000),),
        3: (OrderAt(T0 - H, 7_000), OrderAt(T0 + 4 * H, 3_000)),  # the first before joining
        5: (OrderAt(T0 + 3 * D + 2 * H, 1_000),),
    }
    return ChannelFacts(joins, members, orders)


def test_a_member_is_credited_to_the_channel_they_first_joined_through():
    first = credited(facts().joins)

    assert {user: join.link_id for user, join in first.items()} == {1: 1, 2: 2, 3: 1, 4: 2, 5: 1}
    assert first[1].joined_at == T0


def test_each_channels_figures_worked_out_by_hand():
    a, b = channel_figures([A, B], facts(), ReferralProgram(), now=T0 + 48 * H)

    # A: members 1 and 3 (5 joins after `now`: not yet); 1 spoke and stayed, 3 is silent
    assert (a.joins, a.confirmed, a.first_orders) == (2, 1, 1)
    # GMV: 1's two orders, 3's order after joining (not the one before); 5's is after now
    assert (a.orders, a.gmv) == (3, 9_900 + 5_000 + 3_000)
    assert a.roi == pytest.approx((17_900 - 10_000) / 10_000)
    # B: 2 (left: not confirmed, but ordered) and 4 (hold not over); no cost, no ROI
    assert (b.joins, b.confirmed, b.first_orders, b.orders, b.gmv) == (2, 0, 1, 1, 20_000)
    assert b.cost is None and b.roi is None


def test_a_window_of_joins_and_an_end_of_orders():
    [a] = channel_figures(
        [A], facts(), ReferralProgram(), now=T0 + 4 * D, since=T0 + H, until=T0 + 4 * D,
        orders_until=T0 + 3 * D + 2 * H,
    )  # fmt: skip

    # 3 and 5 joined in the window (1 before it); 3's first order came before joining, and
    # 5's falls on the end of the orders counted
    assert (a.joins, a.first_orders, a.orders, a.gmv) == (2, 0, 1, 3_000)
    assert a.confirmed == 1  # 5 spoke; 3 never did


def test_roi_needs_a_cost():
    assert roi(15_000, 10_000) == 0.5
    assert roi(5_000, 10_000) == -0.5
    assert roi(5_000, 0) is None and roi(5_000, None) is None


def test_a_period_shows_live_channels_and_revoked_ones_that_brought_someone():
    gone = Channel(3, "海报", "https://t.me/+c", revoked_at=T0)
    quiet = Channel(4, "微博", "https://t.me/+d", revoked_at=T0)
    data = facts()
    data = ChannelFacts([*data.joins, ChannelJoin(3, 9, T0 + 2 * H)], data.members, data.orders)

    shown = period_view(
        [A, B, gone, quiet], data, ReferralProgram(), since=T0 + 2 * D, until=T0 + 4 * D,
        now=T0 + 4 * D,
    )  # fmt: skip

    assert [(c.period.name, c.period.joins, c.to_date.joins) for c in shown] == [
        ("小红书", 1, 3),  # only 5 joined in these days
        ("抖音", 0, 2),
    ]
    assert shown[0].to_date.gmv == 9_900 + 5_000 + 3_000 + 1_000
