"""Funnels: each step keeps only those that took every step before, within its window."""

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from campaigns.funnels import (
    CouponFact,
    Funnel,
    FunnelFacts,
    FunnelKind,
    InviteFact,
    LinkFact,
    PeriodRefused,
    SendFact,
    TeamFact,
    channel_funnels,
    coupon_funnels,
    message_funnel,
    new_member_funnel,
    parse_period,
    referral_funnel,
    shown,
    team_funnels,
)

SINCE = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
UNTIL = dt.datetime(2026, 11, 8, tzinfo=dt.UTC)
DAY = dt.timedelta(days=1)
SECOND = dt.timedelta(seconds=1)


def test_a_funnel_gives_conversion_from_the_previous_step_and_from_the_first():
    funnel = Funnel.of(FunnelKind.NEW_MEMBER, [10, 5, 5, 0])

    assert funnel.from_previous(0) is None
    assert funnel.from_previous(1) == 0.5
    assert funnel.from_first(2) == 0.5
    assert funnel.from_previous(3) == 0.0


def test_a_funnel_refuses_a_step_above_the_one_before():
    with pytest.raises(ValueError, match="more than the one before"):
        Funnel.of(FunnelKind.TEAMS, [1, 2])


def test_an_empty_funnel_has_no_conversion():
    funnel = Funnel.of(FunnelKind.COUPON, [0, 0])

    assert funnel.from_previous(1) is None and funnel.from_first(1) is None


def test_new_members_count_only_steps_after_joining_and_in_order():
    facts = FunnelFacts(
        joins={1: SINCE + DAY, 2: SINCE + DAY, 3: SINCE - DAY, 4: SINCE + 2 * DAY},
        messages={1: [SINCE + 2 * DAY], 2: [SINCE], 3: [SINCE + DAY], 4: [SINCE + 3 * DAY]},
        checkins={1: [SINCE + 2 * DAY], 2: [SINCE + 2 * DAY], 4: [UNTIL]},
        orders={1: [SINCE + 3 * DAY], 2: [SINCE + 3 * DAY]},
    )

    funnel = new_member_funnel(facts, SINCE, UNTIL)

    # 3 joined before the period; 2 spoke only before joining; 4 checked in after `until`
    assert funnel.counts == (3, 2, 1, 1)


def test_new_members_split_by_the_channel_of_their_first_join_add_up():
    facts = FunnelFacts(
        joins={1: SINCE + DAY, 2: SINCE + DAY, 3: SINCE - DAY, 4: SINCE + 2 * DAY, 5: SINCE},
        messages={1: [SINCE + 2 * DAY], 2: [SINCE], 3: [SINCE + DAY], 4: [SINCE + 3 * DAY]},
        checkins={1: [SINCE + 2 * DAY], 2: [SINCE + 2 * DAY], 4: [UNTIL]},
        orders={1: [SINCE + 3 * DAY], 2: [SINCE + 3 * DAY]},
        join_channels={1: 7, 2: 7, 3: 7, 4: 9},  # 5 came another way; 3 before the period
    )
    channels = [(9, "抖音"), (7, "小红书"), (8, "海报")]  # 海报 brought nobody

    split = channel_funnels(facts, channels, SINCE, UNTIL)

    assert [(f.title, f.channel_id, f.counts) for f in split] == [
        ("抖音", 9, (1, 1, 0, 0)),  # 4 checked in after `until`
        ("小红书", 7, (2, 1, 1, 1)),  # 2 spoke only before joining
        (None, None, (1, 0, 0, 0)),
    ]
    total = new_member_funnel(facts, SINCE, UNTIL).counts
    assert tuple(map(sum, zip(*(f.counts for f in split), strict=True))) == total
    assert channel_funnels(facts, [], SINCE, UNTIL) == []  # a group without channels


def test_a_message_counts_activity_within_three_days_and_orders_within_seven():
    sent = SINCE + DAY
    facts = FunnelFacts(
        messages={1: [sent + 3 * DAY], 2: [sent + 3 * DAY + SECOND], 3: [sent - SECOND]},
        checkins={4: [sent]},
        orders={1: [sent + 7 * DAY + SECOND], 4: [sent + 2 * DAY], 2: [sent + DAY]},
        sends=[SendFact(FunnelKind.BROADCAST, u, sent) for u in (1, 2, 3, 4)]
        + [SendFact(FunnelKind.JOURNEY, 1, sent)],
    )

    broadcast = message_funnel(facts, FunnelKind.BROADCAST, SINCE, UNTIL + 7 * DAY)

    # 2 was active a second too late (its order does not count without it); 3 only before
    assert broadcast.counts == (4, 2, 1)
    # the journey's member 1 came back on day 3 but ordered a second after the 7 days
    assert message_funnel(facts, FunnelKind.JOURNEY, SINCE, UNTIL).counts == (1, 1, 0)


def test_referral_counts_inviters_whose_friends_joined_confirmed_and_ordered():
    facts = FunnelFacts(
        links=[
            LinkFact(1, SINCE - DAY),
            LinkFact(2, SINCE + DAY),
            LinkFact(3, SINCE - 9 * DAY, revoked_at=SINCE - DAY),  # gone before the period
            LinkFact(4, UNTIL),  # made after it
        ],
        invites=[
            InviteFact(11, 1, "confirmed", SINCE + DAY, SINCE + 2 * DAY),
            InviteFact(12, 1, "pending", SINCE + DAY),
            InviteFact(21, 2, "rejected", SINCE + 2 * DAY),
            InviteFact(22, 2, "left", SINCE + 2 * DAY),
            InviteFact(31, 3, "confirmed", SINCE + DAY, SINCE + 2 * DAY),
        ],
        orders={11: [SINCE + 3 * DAY], 22: [SINCE + 3 * DAY]},
    )

    assert referral_funnel(facts, SINCE, UNTIL).counts == (2, 2, 1, 1)


def test_coupons_per_offer_leave_group_buy_coupons_out():
    facts = FunnelFacts(
        coupons=[
            CouponFact(7, "满199减30", SINCE + DAY, SINCE + 2 * DAY),
            CouponFact(7, "满199减30", SINCE + DAY),
            CouponFact(7, "满199减30", SINCE - DAY, SINCE + DAY),  # claimed before
            CouponFact(5, "Gift", SINCE + DAY, UNTIL),  # redeemed after the period
            CouponFact(9, "Team", SINCE + DAY, SINCE + DAY, purpose="groupbuy"),
        ]
    )

    funnels = coupon_funnels(facts, SINCE, UNTIL)

    assert [(f.title, f.counts) for f in funnels] == [("Gift", (1, 0)), ("满199减30", (2, 1))]


def test_teams_and_their_members_order_after_the_team_completed():
    done = SINCE + DAY
    facts = FunnelFacts(
        teams=[
            TeamFact(1, "complete", SINCE, done, (1, 2)),
            TeamFact(2, "expired", SINCE + DAY, SINCE + 2 * DAY, (2, 3)),
            TeamFact(3, "complete", SINCE - DAY, done, (4, 5)),  # started before the period
        ],
        orders={1: [done], 2: [done - SECOND], 4: [done]},
    )

    teams, members = team_funnels(facts, SINCE, UNTIL)

    assert teams.counts == (2, 1)
    assert members.counts == (3, 2, 1)


def test_periods_are_seven_thirty_or_ninety_days():
    assert parse_period([]) == 7
    assert parse_period(["30D"]) == 30
    assert parse_period(["90d"]) == 90
    assert parse_period(["7"]) == 7 and parse_period(["30天"]) == 30  # as /stats reads them


@given(st.lists(st.text(max_size=8), min_size=1, max_size=3))
def test_any_other_period_is_refused(words):
    try:
        days = parse_period(words)
    except PeriodRefused:
        return
    # Accepted only as /stats reads a period: one word, the days in digits, an optional d/天/日.
    word = words[0].strip().lower()
    digits = word[:-1] if word[-1:] in ("d", "天", "日") else word
    assert len(words) == 1 and days in {7, 30, 90}
    assert digits.isascii() and digits.isdigit() and int(digits) == days


def test_a_report_shows_the_six_most_claimed_offers_and_says_how_many_more():
    offers = [
        Funnel.of(FunnelKind.COUPON, [n, 0], title=f"offer {i}", offer_id=i)
        for i, n in enumerate([5, 50, 7, 50, 1, 9, 30, 2])
    ]
    others = [Funnel.of(FunnelKind.REFERRAL, [3, 2, 1, 0])]

    kept, left_out = shown(others + offers)

    assert left_out == 2 and kept[0].kind is FunnelKind.REFERRAL
    assert [f.offer_id for f in kept[1:]] == [0, 1, 2, 3, 5, 6]  # in their order; 4 and 7 out
    assert shown(others) == (others, 0)
