"""callback_data: every value survives the wire; any string a client sends parses or is None."""

from __future__ import annotations

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from handlers.callbacks import (
    BroadcastButton,
    BroadcastVerb,
    Callback,
    ChooserButton,
    ChooserVerb,
    ClaimButton,
    GroupBuyButton,
    GroupBuyVerb,
    ManageButton,
    ModLogButton,
    ScheduleButton,
    ScheduleVerb,
    SegmentButton,
    SegmentPageButton,
    SegmentView,
    SurveyButton,
    build,
    parse,
    pattern,
)

FAST = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
ROW_IDS = st.integers(min_value=0, max_value=10**18 - 1)
CHAT_IDS = st.integers(min_value=-(10**16) + 1, max_value=10**16 - 1)  # Telegram: 52 bits
VALUES: st.SearchStrategy[Callback] = st.one_of(
    st.builds(ClaimButton, ROW_IDS),
    st.builds(GroupBuyButton, st.sampled_from(GroupBuyVerb), ROW_IDS),
    st.builds(ScheduleButton, st.sampled_from(ScheduleVerb), ROW_IDS),
    st.builds(BroadcastButton, st.sampled_from(BroadcastVerb), ROW_IDS),
    st.builds(ChooserButton, st.sampled_from(ChooserVerb), CHAT_IDS),
    st.builds(ManageButton, CHAT_IDS),
    st.builds(SegmentButton, st.sampled_from(SegmentView), st.integers(0, 9999), CHAT_IDS),
    st.builds(SegmentPageButton, st.sampled_from(SegmentView), st.integers(0, 9999), CHAT_IDS),
    st.builds(SurveyButton, ROW_IDS, st.integers(0, 99)),
    st.builds(ModLogButton, ROW_IDS),
)
KINDS = (
    ClaimButton, GroupBuyButton, ScheduleButton, BroadcastButton, ChooserButton, ManageButton,
    SegmentButton, SegmentPageButton, SurveyButton, ModLogButton,
)  # fmt: skip
# Text that looks like callback_data, so examples reach past the prefix.
DATAISH = st.text(alphabet="cpngbshokrefivtml:-0123456789٣\n _", max_size=40)


@FAST
@given(VALUES)
def test_every_value_round_trips_through_its_callback_data(value: Callback):
    data = build(value)

    assert parse(data) == value
    assert pattern(type(value)).match(data)
    assert len(data.encode()) <= 64  # Telegram's limit for callback_data


@FAST
@given(st.one_of(st.text(), DATAISH))
@example("cpn:5\n")
@example("gb:x:1")
@example("cpn:" + "9" * 19)
@example("mg:٣")
@example("sg:s-new:0:-100")
@example("sg:s-new:00000:-100")
@example("sg:r-lost:1:")
@example("sgp:t-4:9999:-1001500000001")
@example("sv:3:10")
@example("sv:3:100")
@example("sv:3:-1")
@example("ml:12")
@example("ml:-12")
@example("ml:")
def test_any_string_parses_to_a_value_or_none_as_the_registered_pattern_decides(data: str):
    value = parse(data)

    registered = [kind for kind in KINDS if pattern(kind).match(data)]
    assert registered == ([type(value)] if value is not None else [])


def test_the_wire_format_is_the_one_already_in_chats():
    values = [
        ClaimButton(42),
        GroupBuyButton(GroupBuyVerb.START, 1),
        GroupBuyButton(GroupBuyVerb.JOIN_ANY, 2),
        GroupBuyButton(GroupBuyVerb.JOIN, 3),
        GroupBuyButton(GroupBuyVerb.LEAVE, 4),
        ScheduleButton(ScheduleVerb.SAVE, 5),
        ScheduleButton(ScheduleVerb.DISCARD, 6),
        *(BroadcastButton(verb, 7) for verb in BroadcastVerb),
        ChooserButton(ChooserVerb.INVITE, -1001500000001),
        ChooserButton(ChooserVerb.INVITES, -1001500000001),
        ManageButton(-1001500000001),
    ]

    wire = [build(v) for v in values]

    assert wire == [
        "cpn:42", "gb:s:1", "gb:a:2", "gb:j:3", "gb:l:4", "sch:ok:5", "sch:no:6",
        "bc:go:7", "bc:no:7", "bc:p:7", "bc:r:7", "bc:c:7",
        "ref:invite:-1001500000001", "ref:invites:-1001500000001", "mg:-1001500000001",
    ]  # fmt: skip


def test_non_strings_and_near_misses_are_none():
    near = ["cpn:", "cpn:-1", "cpn:1:2", "gb:j:", "gb:join:1", "bc:c:x", "ref:inv:1", "mg:1.5",
            "sv:1", "sv:1:100", "sv:1:-1", "sv::5"]  # fmt: skip

    assert [parse(d) for d in [None, 42, *near]] == [None] * (2 + len(near))
