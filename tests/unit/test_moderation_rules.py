"""Order keeping's rules: which anti-spam rule a message breaks, for whom, the flood and
repeat windows, the warning limit, and the settings as /set reads them."""

import dataclasses

import pytest

from campaigns.errors import InvalidSetting
from campaigns.moderation import (
    ActionKind,
    ModerationRules,
    Policy,
    Reaction,
    Rule,
    Watch,
    apply_moderation_setting,
    features_of,
    is_newcomer,
    limit_reached,
    needs_standing,
    normalized,
    spam_rule,
    stop_word_in,
    text_hash,
    verdict,
)
from campaigns.settings import ChatSettings, apply_setting

ON = ModerationRules(antispam=True)


def rule_of(
    text: str, *, newcomer: bool = True, rules: ModerationRules = ON, **seen
) -> Rule | None:
    return spam_rule(features_of(text, **seen), rules, newcomer=newcomer)


@pytest.mark.parametrize(
    ("text", "entities", "expected"),
    [
        ("join t.me/+AbCdEf now", [], Rule.LINK),
        ("https://telegram.me/joinchat/xyz", [], Rule.LINK),
        ("see example.com", ["url"], Rule.LINK),
        ("click here", ["text_link"], Rule.LINK),
        ("ask @cheap_followers_bot for likes", [], Rule.BOT),
        ("ask @CheapBot", ["mention"], Rule.BOT),
        ("hello @alice, at.me/x is not a link", [], None),
        ("good morning 早上好", [], None),
    ],
)
def test_links_and_bot_mentions_of_newcomers(text, entities, expected):
    assert rule_of(text, entity_types=entities) == expected


def test_newcomer_rules_spare_members_past_their_first_messages():
    assert rule_of("t.me/+spam", newcomer=False) is None
    assert is_newcomer(4, ON) and not is_newcomer(5, ON)


def test_forwards_from_channels_and_media_without_text():
    media = dataclasses.replace(ON, media=Policy(Reaction.WARN))

    assert rule_of("news", channel_forward=True) == Rule.FORWARD
    assert rule_of("", media=True) is None  # media-only is off by default
    assert rule_of("", media=True, rules=media) == Rule.MEDIA
    assert rule_of("nice photo", media=True, rules=media) is None


def test_stop_words_are_found_case_insensitively_across_spaces_and_widths():
    words = ("加微信", "Casino")

    assert stop_word_in("快来 加 微 信 领红包", words) == "加微信"
    assert stop_word_in("加\u200b微信", words) == "加微信"
    assert stop_word_in("ＣＡＳＩＮＯ bonus", words) == "Casino"
    assert stop_word_in("微信加我", words) is None
    assert normalized("Ａ b\u00adC") == "abc"


def test_stop_words_and_repeats_apply_to_everyone_by_default():
    rules = dataclasses.replace(ON, stop_words=("代购",))

    assert rule_of("代购 找我", newcomer=False, rules=rules) == Rule.STOP_WORD
    assert rule_of("same offer", newcomer=False, repeats=3) == Rule.REPEAT
    assert rule_of("same offer", newcomer=False, repeats=2) is None


def test_nothing_fires_while_anti_spam_is_off():
    assert rule_of("t.me/+spam", rules=ModerationRules()) is None


def test_only_a_newcomer_rule_with_something_to_catch_needs_the_members_standing():
    assert needs_standing(features_of("t.me/+spam"), ON)
    assert not needs_standing(features_of("hello"), ON)
    assert not needs_standing(features_of("t.me/+x"), dataclasses.replace(ON, newcomer_messages=0))
    everyone = dataclasses.replace(ON, links=Policy(Reaction.WARN, everyone=True))
    assert not needs_standing(features_of("t.me/+spam"), everyone)


def test_a_rule_deletes_and_warns_or_mutes_and_a_flood_mutes():
    muting = dataclasses.replace(ON, links=Policy(Reaction.MUTE), mute_minutes=15)

    assert verdict(Rule.LINK, False, ON) == verdict(Rule.LINK, True, ON)
    assert verdict(Rule.LINK, False, ON).warn and verdict(Rule.LINK, False, ON).delete
    assert verdict(Rule.LINK, False, muting).mute_minutes == 15
    flood = verdict(None, True, ON)
    assert flood is not None and not flood.delete and flood.mute_minutes == ON.flood_mute_minutes
    assert verdict(None, False, ON) is None


def test_more_than_n_messages_in_m_seconds_is_a_flood_once_per_burst():
    watch, rules = Watch(), dataclasses.replace(ON, flood_messages=3, flood_seconds=10)

    burst = [watch.see("alice", t, None, rules)[0] for t in (0, 1, 2, 3, 4, 5, 6)]
    slow = [watch.see("bob", t * 4.0, None, rules)[0] for t in range(10)]

    assert burst == [False, False, False, True, False, False, False]
    assert not any(slow)


def test_repeats_count_the_same_text_within_ten_minutes_by_hash_only():
    watch = Watch()
    digest = text_hash("Buy followers now")

    counts = [watch.see("m", t, digest, ON)[1] for t in (0, 60, 120)]
    later = watch.see("m", 700, digest, ON)[1]

    assert counts == [1, 2, 3] and later == 2  # the first two left the window
    assert text_hash("ok") is None and text_hash("/checkin now") is None
    assert text_hash("BUY  followers now") == digest


def test_watch_forgets_the_least_recently_seen_members_first():
    watch = Watch(max_members=2)
    for member in ("a", "b", "a", "c"):
        watch.see(member, 0, None, ON)

    assert list(watch._members) == ["a", "c"]


def test_the_warning_limit_mutes_or_bans():
    assert limit_reached(2, ON) is None
    assert limit_reached(3, ON) is ActionKind.MUTED
    assert limit_reached(3, apply_moderation_setting(ON, "warn_action", "ban")) is ActionKind.BANNED


def test_settings_are_set_shown_and_refused_like_the_others():
    settings = apply_setting(ChatSettings(), "spam_links", "mute all")
    settings = apply_setting(settings, "stop_words", "加微信，代购、 Casino ,加微信")
    shown = dict(settings.as_pairs())

    assert shown["spam_links"] == "mute all" and shown["antispam"] == "off"
    assert shown["stop_words"] == "加微信, 代购, Casino"
    assert shown["warn_expiry_days"] == "30" and shown["newcomer_messages"] == "5"
    for key, value, reason in [
        ("spam_links", "delete", "bad_reaction"),
        ("antispam", "maybe", "not_on_off"),
        ("warn_action", "kick", "bad_limit_action"),
        ("warn_limit", "0", "out_of_range"),
        ("stop_words", "x" * 65, "bad_words"),
        ("flood_seconds", "ten", "not_a_number"),
    ]:
        with pytest.raises(InvalidSetting) as refused:
            apply_setting(settings, key, value)
        assert (refused.value.key, refused.value.reason) == (key, reason)
