from campaigns.members import GROUP_ANONYMOUS_BOT_ID, Person, is_member_sender, is_present

GROUP = -100123


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
