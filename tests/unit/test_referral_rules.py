"""Referral rules: judging joins, confirmation, leaves, tiers, settings, links and the report."""

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from campaigns.content import visible_length
from campaigns.errors import InvalidSetting
from campaigns.referral import (
    LINK_NAME_LIMIT,
    InviteStatus,
    JoinFacts,
    ReferralProgram,
    RejectReason,
    ReportNumbers,
    Reward,
    Tier,
    apply_program_setting,
    code_from_start,
    confirmable,
    format_tiers,
    judge_join,
    link_name,
    new_code,
    next_tier,
    owner_from_name,
    parse_tiers,
    period_start,
    status_after_leave,
    tiers_due,
    tiers_lost,
)

NOON = dt.datetime(2026, 11, 18, 12, tzinfo=dt.UTC)  # a Wednesday
PROGRAM = ReferralProgram(burst=3)


def facts(**kw) -> JoinFacts:
    return JoinFacts(**{"invitee_id": 2, "inviter_id": 1, **kw})


@pytest.mark.parametrize(
    ("kw", "expected"),
    [
        ({}, (InviteStatus.PENDING, None)),
        ({"inviter_id": None}, (InviteStatus.ORGANIC, None)),
        ({"is_bot": True, "inviter_id": 2}, (InviteStatus.REJECTED, RejectReason.BOT)),
        (
            {"inviter_id": 2, "former_member": True},
            (InviteStatus.REJECTED, RejectReason.SELF_INVITE),
        ),
        ({"already_present": True}, (InviteStatus.REJECTED, RejectReason.ALREADY_MEMBER)),
        ({"former_member": True}, (InviteStatus.REJECTED, RejectReason.REJOIN)),
        ({"recent_joins_via_link": 2}, (InviteStatus.PENDING, None)),
        ({"recent_joins_via_link": 3}, (InviteStatus.REJECTED, RejectReason.BURST)),
    ],
)
def test_joins_are_judged_with_the_first_reason_that_applies(kw, expected):
    assert judge_join(facts(**kw), PROGRAM) == expected


def test_burst_zero_turns_the_burst_check_off():
    program = ReferralProgram(burst=0)

    assert judge_join(facts(recent_joins_via_link=500), program)[0] is InviteStatus.PENDING


def test_confirmation_needs_the_hold_presence_and_activity_after_joining():
    joined = NOON
    after = NOON + dt.timedelta(hours=24)
    program = ReferralProgram(hold_hours=24)

    def ok(**kw):
        args = {"joined_at": joined, "present": True, "last_active_at": NOON, "now": after}
        return confirmable(**{**args, **kw}, program=program)

    assert ok()
    assert not ok(now=after - dt.timedelta(seconds=1))
    assert not ok(present=False)
    assert not ok(last_active_at=None)
    assert not ok(last_active_at=joined - dt.timedelta(minutes=1))  # spoke before this join
    assert confirmable(
        joined_at=joined,
        present=True,
        last_active_at=None,
        now=joined,
        program=ReferralProgram(hold_hours=0, require_activity=False),
    )


def test_leaving_moves_pending_to_left_and_confirmed_only_within_clawback():
    left = NOON + dt.timedelta(days=3)
    plain, claw = ReferralProgram(), ReferralProgram(clawback_days=7)

    assert (
        status_after_leave(InviteStatus.PENDING, confirmed_at=None, left_at=left, program=plain)
        is InviteStatus.LEFT
    )
    assert (
        status_after_leave(InviteStatus.CONFIRMED, confirmed_at=NOON, left_at=left, program=plain)
        is None
    )
    assert (
        status_after_leave(InviteStatus.CONFIRMED, confirmed_at=NOON, left_at=left, program=claw)
        is InviteStatus.LEFT
    )
    late = NOON + dt.timedelta(days=8)
    assert (
        status_after_leave(InviteStatus.CONFIRMED, confirmed_at=NOON, left_at=late, program=claw)
        is None
    )
    assert (
        status_after_leave(InviteStatus.REJECTED, confirmed_at=None, left_at=left, program=claw)
        is None
    )


def test_tiers_parse_with_optional_titles_and_sort():
    tiers = parse_tiers("5:200:推广大使，3：50")

    assert [t.invites for t in tiers] == [3, 5]
    assert tiers[1].points == 200 and tiers[1].title == "推广大使"
    assert tiers[0].title is None
    assert parse_tiers("none") == ()


@pytest.mark.parametrize(
    ("raw", "reason"),
    [("three:50", "bad_format"), ("3", "bad_format"), ("0:50", "out_of_range"),
     ("3:0", "empty_tier"), ("3:10:" + "x" * 33, "out_of_range")],
)  # fmt: skip
def test_bad_tiers_say_what_is_wrong(raw, reason):
    with pytest.raises(InvalidSetting) as err:
        parse_tiers(raw)
    assert err.value.reason == reason
    assert err.value.example


def test_due_tiers_skip_granted_ones_and_lost_tiers_are_found():
    program = ReferralProgram(tiers=parse_tiers("3:50,5:200,10:1000"))

    assert [t.invites for t in tiers_due(5, program, granted={3})] == [5]
    assert [t.invites for t in tiers_lost(4, program, granted={3, 5})] == [5]
    assert next_tier(5, program).invites == 10
    assert next_tier(10, program) is None


def test_program_settings_round_trip_and_validate():
    program = ReferralProgram()
    for key, value in (("hold", "0"), ("activity", "off"), ("tiers", "2:20:VIP"), ("burst", "4"),
                       ("announce", "关"), ("clawback", "7"), ("approval", "on")):  # fmt: skip
        program = apply_program_setting(program, key, value)

    assert ReferralProgram.from_json(program.to_json()) == program
    assert program.tiers == (Tier(2, (Reward("points", 20), Reward("title", title="VIP"))),)
    assert not program.announce
    bad = [
        ("hold", "-1", "out_of_range"),
        ("activity", "maybe", "not_on_off"),
        ("colour", "red", "unknown_key"),
        ("burst", "", "missing_value"),
    ]
    for key, value, reason in bad:
        with pytest.raises(InvalidSetting) as err:
            apply_program_setting(program, key, value)
        assert err.value.reason == reason


def test_link_names_fit_telegrams_limit_and_name_their_owner():
    name = link_name(5_000_000_123, "A very long display name that goes on and on")

    assert len(name) <= LINK_NAME_LIMIT
    assert owner_from_name(name) == 5_000_000_123
    assert owner_from_name("Spring campaign") is None
    assert owner_from_name(None) is None


@given(owner=st.integers(1, 10**15), display=st.text(max_size=200))
def test_a_link_name_fits_as_telegram_counts_and_keeps_its_owner(owner: int, display: str):
    """Telegram counts a link name's 32 in UTF-16 units: "🌸 Alice 🌸 Tea 🌸 Lover 🌸" cut
    to 32 Python characters was refused, and the member was told the bot lacked a right."""
    name = link_name(owner, display)

    assert visible_length(name, None) <= LINK_NAME_LIMIT
    assert owner_from_name(name) == owner
    assert f"r{owner} {display}".startswith(name)


def test_deep_link_codes_are_checked_before_any_lookup():
    code = new_code()

    assert code_from_start(f"ref_{code}") == code
    assert code_from_start(f"ref_{code.upper()}") == code
    assert code_from_start("ref_l0l0l0l0") is None  # look-alikes are not in the alphabet
    assert code_from_start("ref_short") is None
    assert code_from_start("hello") is None


def test_periods_start_at_the_local_monday_and_first_of_the_month():
    week = period_start("week", NOON, "Asia/Shanghai")
    month = period_start("month", NOON, "Asia/Shanghai")

    assert week == dt.datetime(2026, 11, 15, 16, tzinfo=dt.UTC)  # Mon 16 Nov, 00:00 in Shanghai
    assert month == dt.datetime(2026, 10, 31, 16, tzinfo=dt.UTC)
    assert period_start("all", NOON, "UTC") is None


def test_report_ratios():
    numbers = ReportNumbers(
        joins_by_source={"member_link": 6, "organic": 4},
        new_members=10,
        status_of_attributed={"confirmed": 3, "pending": 1, "left": 1, "rejected": 1},
        members_at_start=30,
    )

    assert numbers.joins == 10
    assert numbers.referred == 5
    assert numbers.referral_share == 0.5
    assert numbers.confirmation_rate == 0.6  # 3 of the 5 decided
    assert numbers.k_factor == pytest.approx(0.1)
    assert ReportNumbers({}, 0, {}, 0).k_factor == 0.0


def test_tiers_can_grant_coupons_by_offer_id():
    tiers = parse_tiers("3:50:VIP:coupon12,5:0:coupon7")

    assert tiers[0].rewards == (
        Reward("points", 50),
        Reward("title", title="VIP"),
        Reward("coupon", 12),
    )
    assert tiers[1].rewards == (Reward("coupon", 7),)
    assert format_tiers(tiers) == "3:50:VIP:coupon12,5:0:coupon7"
    with pytest.raises(InvalidSetting):
        parse_tiers("3:50:VIP:Star")  # two titles
