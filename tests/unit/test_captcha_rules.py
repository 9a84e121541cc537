"""Captcha and raid rules: challenges from an injectable random source, answers, the life of a
pending captcha, the burst window and the calm time, and the settings' round trip."""

from __future__ import annotations

import datetime as dt
import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from campaigns.captcha import (
    OPTIONS,
    CaptchaKind,
    CaptchaStatus,
    RaidRules,
    answer_hash,
    burst_size,
    in_burst,
    is_right,
    make_challenge,
    may_answer,
    next_status,
    prompt_page,
    raid_should_end,
    raid_should_start,
)
from campaigns.errors import InvalidSetting
from campaigns.moderation import ModerationRules, apply_moderation_setting

T0 = dt.datetime(2026, 12, 1, 12, 0, tzinfo=dt.UTC)


@given(st.integers(), st.sampled_from(list(CaptchaKind)))
def test_a_challenge_has_distinct_options_and_one_right_answer(seed: int, kind: CaptchaKind):
    challenge = make_challenge(kind, random.Random(seed))
    assert len(set(challenge.options)) == len(challenge.options)
    assert 0 <= challenge.answer < len(challenge.options)
    if kind is CaptchaKind.SUM:
        a, b = challenge.question.split("+")
        assert challenge.right == str(int(a) + int(b))
        assert len(challenge.options) == OPTIONS
    if kind is CaptchaKind.EMOJI:
        assert challenge.right == challenge.question
        assert len(challenge.options) == OPTIONS


def test_the_same_seed_makes_the_same_challenge():
    assert make_challenge(CaptchaKind.SUM, random.Random(7)) == make_challenge(
        CaptchaKind.SUM, random.Random(7)
    )


@given(st.text(max_size=20), st.integers(0, OPTIONS - 1), st.integers(-5, 10))
def test_only_the_right_option_passes(salt: str, right: int, tapped: int):
    assert is_right(answer_hash(salt, right), salt, tapped) is (tapped == right)


def test_a_captcha_moves_once_and_expires_at_its_deadline():
    deadline = T0 + dt.timedelta(minutes=3)
    pending = CaptchaStatus.PENDING
    assert next_status(pending, right=True, now=T0, deadline=deadline) is CaptchaStatus.PASSED
    assert next_status(pending, right=False, now=T0, deadline=deadline) is CaptchaStatus.FAILED
    assert next_status(pending, right=None, now=T0, deadline=deadline) is None
    assert next_status(pending, right=True, now=deadline, deadline=deadline) is (
        CaptchaStatus.EXPIRED
    )
    for done in (CaptchaStatus.PASSED, CaptchaStatus.FAILED, CaptchaStatus.EXPIRED):
        assert next_status(done, right=True, now=T0, deadline=deadline) is None


def test_only_the_member_answers_their_captcha():
    assert may_answer(5, 5) and not may_answer(6, 5)


def _window(times: list[dt.datetime], rules: RaidRules) -> list[int]:
    """For each join, how many joins so far fall in its burst window."""
    return [sum(in_burst(t, at, rules) for t in times[: i + 1]) for i, at in enumerate(times)]


def test_ten_joins_in_a_minute_is_a_burst_and_thirty_calm_minutes_end_it():
    rules = RaidRules()
    counts = _window([T0 + dt.timedelta(seconds=5 * i) for i in range(12)], rules)
    assert [raid_should_start(n, rules) for n in counts].index(True) == 9
    slow = _window([T0 + dt.timedelta(seconds=61 * i) for i in range(30)], rules)
    assert not any(raid_should_start(n, rules) for n in slow)
    assert not in_burst(T0, T0 + dt.timedelta(seconds=60), rules)  # exactly a minute: out
    assert in_burst(T0, T0 + dt.timedelta(seconds=59), rules)
    rejoins = [(7, T0 + dt.timedelta(seconds=i)) for i in range(12)]  # one account, 12 times
    assert burst_size(rejoins, T0 + dt.timedelta(seconds=11), rules) == 1
    assert not raid_should_start(1000, RaidRules(joins=0))
    later = T0 + dt.timedelta(minutes=10)
    assert not raid_should_end(on_since=T0, last_join=later, now=later + dt.timedelta(minutes=29),
                               rules=rules)  # fmt: skip
    assert raid_should_end(on_since=T0, last_join=later, now=later + dt.timedelta(minutes=30),
                           rules=rules)  # fmt: skip
    assert not raid_should_end(on_since=None, last_join=None, now=later, rules=rules)


def test_a_prompt_holds_at_most_a_hundred_buttons():
    shown, waiting = prompt_page(list(range(30)))
    assert len(shown) * OPTIONS <= 100 and waiting == 30 - len(shown)


@pytest.mark.parametrize(
    ("key", "raw", "field", "value"),
    [
        ("captcha", "on", "captcha", True),
        ("captcha_kind", "Emoji", "captcha_kind", CaptchaKind.EMOJI),
        ("captcha_minutes", "5", "captcha_minutes", 5),
        ("captcha_ban_minutes", "60", "captcha_ban_minutes", 60),
        ("raid_joins", "0", "raid_joins", 0),
        ("raid_seconds", "30", "raid_seconds", 30),
        ("raid_calm_minutes", "45", "raid_calm_minutes", 45),
        ("raid_hold_minutes", "120", "raid_hold_minutes", 120),
    ],
)
def test_captcha_and_raid_settings_apply_and_read_back(key, raw, field, value):
    rules = apply_moderation_setting(ModerationRules(), key, raw)
    assert getattr(rules, field) == value
    assert ModerationRules.from_json(rules.to_json()) == rules


@pytest.mark.parametrize(
    ("key", "raw"),
    [
        ("captcha", "maybe"),
        ("captcha_kind", "math"),
        ("captcha_kind", "approval"),
        ("captcha_minutes", "0"),
        ("raid_hold_minutes", "0"),
    ],
)
def test_bad_captcha_settings_are_refused(key, raw):
    with pytest.raises(InvalidSetting):
        apply_moderation_setting(ModerationRules(), key, raw)
