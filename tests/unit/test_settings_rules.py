import pytest

from campaigns.errors import InvalidSetting
from campaigns.settings import ChatSettings, apply_setting, language_for, parse_milestones


def test_timezone_accepts_iana_names():
    assert apply_setting(ChatSettings(), "timezone", "Asia/Shanghai").timezone == "Asia/Shanghai"


def test_unknown_timezone_is_refused_with_an_example():
    with pytest.raises(InvalidSetting) as caught:
        apply_setting(ChatSettings(), "timezone", "Mars/Olympus")

    assert caught.value.reason == "unknown_timezone"
    assert caught.value.example == "Asia/Shanghai"


def test_language_is_zh_or_en_only():
    assert apply_setting(ChatSettings(), "language", "ZH").language == "zh"
    with pytest.raises(InvalidSetting):
        apply_setting(ChatSettings(), "language", "fr")


def test_points_must_be_whole_numbers_in_range():
    assert apply_setting(ChatSettings(), "checkin_points", "15").checkin.points == 15
    with pytest.raises(InvalidSetting) as not_number:
        apply_setting(ChatSettings(), "checkin_points", "ten")
    with pytest.raises(InvalidSetting) as too_big:
        apply_setting(ChatSettings(), "checkin_points", "1000000")

    assert not_number.value.reason == "not_a_number"
    assert too_big.value.reason == "out_of_range"


def test_milestones_parse_day_point_pairs_including_chinese_commas():
    assert parse_milestones("7:5，30:20") == {7: 5, 30: 20}
    assert parse_milestones("none") == {}


def test_malformed_milestones_are_refused():
    with pytest.raises(InvalidSetting) as caught:
        parse_milestones("7-5")

    assert caught.value.reason == "bad_format"


def test_a_milestone_day_given_twice_is_refused_not_silently_the_last():
    with pytest.raises(InvalidSetting) as caught:
        parse_milestones("7:5,7:10")

    assert caught.value.reason == "duplicate_day"


def test_unknown_key_lists_the_real_keys():
    with pytest.raises(InvalidSetting) as caught:
        apply_setting(ChatSettings(), "colour", "red")

    assert caught.value.reason == "unknown_key"
    assert "timezone" in caught.value.example


def test_a_change_leaves_other_settings_alone():
    before = ChatSettings(timezone="Europe/Berlin")

    after = apply_setting(before, "streak_bonus", "3")

    assert after.timezone == "Europe/Berlin"
    assert after.checkin.streak_bonus == 3
    assert before.checkin.streak_bonus == 1


def test_private_chat_language_comes_from_the_users_language_code():
    assert language_for("zh-hans") == "zh"
    assert language_for("zh-TW") == "zh"
    assert language_for("de") == "en"
    assert language_for(None, default="zh") == "zh"
