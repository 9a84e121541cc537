import datetime as dt

from campaigns.members import (
    GROUP_ANONYMOUS_BOT_ID,
    Membership,
    Person,
    PresenceChange,
    is_member_sender,
    is_present,
    presence_change,
)

GROUP = -100123
NOON = dt.datetime(2026, 11, 16, 12, tzinfo=dt.UTC)


def test_people_count_as_members():
    assert is_member_sender(user_id=42, is_bot=False, sender_chat_id=None, chat_id=GROUP)


def test_bots_anonymous_admins_and_channels_do_not():
    assert not is_member_sender(user_id=7, is_bot=True, sender_chat_id=None, chat_id=GROUP)
    assert not is_member_sender(
        user_id=GROUP_ANONYMOUS_BOT_ID, is_bot=False, sender_chat_id=GROUP, chat_id=GROUP
    )
    assert not is_member_sender(
        user_id=136817688, is_bot=False, sender_chat_id=-100777, chat_id=GROUP
    )
    assert not is_member_sender(user_id=777000, is_bot=False, sender_chat_id=None, chat_id=GROUP)


def test_restricted_users_are_present_only_while_members():
    assert is_present("restricted", True)
    assert not is_present("restricted", False)
    assert is_present("creator")
    assert not is_present("kicked")


def test_display_name_falls_back_to_username_then_id():
    assert Person(1, "Ann", "Lee").display_name == "Ann Lee"
    assert Person(1, "", username="ann").display_name == "@ann"
    assert Person(1, "").display_name == "1"


def _state(present: bool, joined: int | None, left: int | None) -> Membership:
    def at(hour: int | None) -> dt.datetime | None:
        return None if hour is None else dt.datetime(2026, 11, 16, hour, tzinfo=dt.UTC)

    return Membership(
        status="member" if present else "left",
        present=present,
        joined_at=at(joined),
        left_at=at(left),
    )


def test_a_leave_after_a_join_changes_presence():
    change = presence_change(_state(True, 9, None), present=False, at=NOON)

    assert change is PresenceChange.CHANGED


def test_the_second_signal_of_one_join_changes_nothing():
    change = presence_change(_state(True, 12, None), present=True, at=NOON)

    assert change is PresenceChange.UNCHANGED


def test_a_late_older_leave_does_not_undo_a_newer_join():
    change = presence_change(_state(True, 13, None), present=False, at=NOON)

    assert change is PresenceChange.STALE
