"""Join captchas in storage, on SQLite and PostgreSQL: a join opens one captcha however often
delivered; the invite waits while it is pending, is confirmable once it passes and rejected for
quality when it fails or times out; only the member answers, and each captcha is decided once."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from campaigns.captcha import CaptchaStatus, RaidRules, burst_since, burst_size, is_right
from campaigns.errors import DuplicateUpdate
from campaigns.members import ChatInfo, EventKind, MemberStatus, Person
from campaigns.referral import InviteStatus, ReferralProgram, RejectReason, link_name
from campaigns.services.captcha import NotYourCaptcha, answer_captcha, expire_captchas
from campaigns.services.chats import change_setting, ensure_chat
from campaigns.services.members import member_changed
from campaigns.services.raids import approve_held, calm_down
from campaigns.services.referral import LinkSeen
from campaigns.settings import ChatSettings
from tests.storage.test_moderation_storage import FakeModerator

BOT = 5_000_000_001
GROUP = ChatInfo(-1001234500011, "supergroup", "Tea")
INVITER, NEWCOMER = Person(41, "Ivy"), Person(42, "Nell")
NOW = dt.datetime(2026, 12, 1, 4, 0, tzinfo=dt.UTC)
DEFAULTS = ChatSettings(referral=ReferralProgram(hold_hours=0, require_activity=False))
LINK = LinkSeen("https://t.me/+abc", link_name(INVITER.user_id, "Ivy"), by_bot=True)


async def join(uow_factory, update_id: int, who: Person = NEWCOMER, at=NOW):
    return await member_changed(
        uow_factory(), bot_id=BOT, update_id=update_id, chat=GROUP, person=who, is_bot=False,
        status=MemberStatus.MEMBER, is_member=None, link=LINK, at=at, defaults=DEFAULTS,
    )  # fmt: skip


async def setup(uow_factory, **settings: str) -> int:
    for n, (key, value) in enumerate({"captcha": "on", **settings}.items()):
        await change_setting(
            uow_factory(), bot_id=BOT, update_id=900 + n, chat=GROUP, key=key, value=value,
            at=NOW, defaults=DEFAULTS,
        )  # fmt: skip
    async with uow_factory() as uow:  # the inviter is a known user, as in a real group
        await uow.users.upsert([INVITER])
        await uow.commit()
    presence = await join(uow_factory, 1)
    with pytest.raises(DuplicateUpdate):
        await join(uow_factory, 1)
    assert len(presence.captchas) == 1
    return presence.captchas[0]


async def invite(uow_factory):
    async with uow_factory() as uow:
        record = await uow.chats.get(GROUP.chat_id)
        return await uow.invites.latest(record.pk, NEWCOMER.user_id)


async def right_option(uow_factory, captcha_id: int) -> int:
    async with uow_factory() as uow:
        captcha = await uow.captchas.get(captcha_id)
    return next(i for i in range(4) if is_right(captcha.answer_hash, captcha.salt, i))


async def test_a_passed_captcha_frees_the_invite(uow_factory):
    captcha = await setup(uow_factory)
    assert (await invite(uow_factory)).status is InviteStatus.PENDING
    moderator = FakeModerator()
    with pytest.raises(NotYourCaptcha):
        await answer_captcha(
            uow_factory(), moderator, bot_id=BOT, update_id=2, captcha_id=captcha, option=0,
            tapper=INVITER.user_id, at=NOW,
        )  # fmt: skip
    option = await right_option(uow_factory, captcha)
    decided = await answer_captcha(uow_factory(), moderator, bot_id=BOT, update_id=3,
                                   captcha_id=captcha, option=option, tapper=NEWCOMER.user_id,
                                   at=NOW + dt.timedelta(seconds=30))  # fmt: skip
    assert decided is not None and decided.status is CaptchaStatus.PASSED
    assert moderator.calls == [("unrestrict", GROUP.chat_id, NEWCOMER.user_id)]
    again = await answer_captcha(uow_factory(), moderator, bot_id=BOT, update_id=4,
                                 captcha_id=captcha, option=option, tapper=NEWCOMER.user_id,
                                 at=NOW)  # fmt: skip
    assert again is None
    assert (await invite(uow_factory)).status is InviteStatus.CONFIRMED


async def test_a_failed_captcha_removes_the_member_and_rejects_the_invite(uow_factory):
    captcha = await setup(uow_factory)
    moderator = FakeModerator()
    wrong = (await right_option(uow_factory, captcha) + 1) % 4
    decided = await answer_captcha(uow_factory(), moderator, bot_id=BOT, update_id=2,
                                   captcha_id=captcha, option=wrong, tapper=NEWCOMER.user_id,
                                   at=NOW)  # fmt: skip
    assert decided is not None and decided.status is CaptchaStatus.FAILED
    assert moderator.calls == [("ban", GROUP.chat_id, NEWCOMER.user_id)]
    found = await invite(uow_factory)
    assert (found.status, found.reason) == (InviteStatus.REJECTED, RejectReason.QUALITY)


async def show(uow_factory, captcha: int, at: dt.datetime, message_id: int = 77) -> None:
    async with uow_factory() as uow:
        await uow.captchas.set_prompt([captcha], GROUP.chat_id, message_id, at=at, minutes=3)
        await uow.commit()


async def test_a_timed_out_captcha_expires_once_its_minutes_after_it_was_shown(uow_factory):
    captcha = await setup(uow_factory, captcha_kind="sum")
    moderator = FakeModerator()
    # No prompt showed it yet: it never expires, however long it waits.
    assert await expire_captchas(uow_factory(), moderator, bot_id=BOT,
                                 now=NOW + dt.timedelta(hours=2)) == []  # fmt: skip
    async with uow_factory() as uow:
        assert (
            await uow.captchas.decide(
                captcha,
                CaptchaStatus.EXPIRED,
                NOW + dt.timedelta(hours=2),
                due_by=NOW + dt.timedelta(hours=2),
            )
            is False
        )  # the conditional UPDATE refuses an unshown one too
    shown = NOW + dt.timedelta(minutes=10)
    await show(uow_factory, captcha, shown)
    await show(uow_factory, captcha, shown + dt.timedelta(minutes=2), 78)  # keeps shown_at
    async with uow_factory() as uow:
        stored = await uow.captchas.get(captcha)
    assert stored is not None and stored.shown_at == shown
    assert stored.deadline == shown + dt.timedelta(minutes=3)
    assert await expire_captchas(uow_factory(), moderator, bot_id=BOT,
                                 now=shown + dt.timedelta(minutes=2)) == []  # fmt: skip
    later = shown + dt.timedelta(minutes=3)
    done = await expire_captchas(uow_factory(), moderator, bot_id=BOT, now=later)
    assert [d.status for d in done] == [CaptchaStatus.EXPIRED]
    assert await expire_captchas(uow_factory(), moderator, bot_id=BOT, now=later) == []
    assert moderator.calls == [("ban", GROUP.chat_id, NEWCOMER.user_id)]
    found = await invite(uow_factory)
    assert (found.status, found.reason) == (InviteStatus.REJECTED, RejectReason.QUALITY)


@given(joins=st.lists(st.tuples(st.integers(0, 5), st.integers(0, 240)), min_size=1, max_size=25))
@settings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
async def test_the_burst_storage_counts_is_the_rules_window(uow_factory, joins):
    """The burst storage counts at every join is `burst_size`: different people within the
    window (one account rejoining is one), joins only."""
    rules = RaidRules(joins=1000, seconds=60)  # counted, never switched on by them
    chat = ChatInfo(GROUP.chat_id - 7 - len(joins), "supergroup", "Burst")
    seen = sorted([(100 + who, NOW + dt.timedelta(seconds=s)) for who, s in joins],
                  key=lambda j: j[1])  # fmt: skip
    async with uow_factory() as uow:
        record = await ensure_chat(uow, chat, DEFAULTS)
        await uow.events.add(
            [(record.pk, who, EventKind.JOIN, at, None, None) for who, at in seen]
            + [(record.pk, 1, EventKind.MESSAGE, at, None, None) for _, at in seen]  # not joins
        )
        for _, at in seen:
            counted = await uow.raids.joiners_between(record.pk, burst_since(at, rules), at)
            assert counted == burst_size(seen, at, rules)
        # left without commit: each example's rows go with its transaction


async def test_raid_mode_switches_on_and_off_once_and_pauses_rewards(uow_factory):
    await setup(uow_factory, raid_joins="3", raid_seconds="60")  # the first join: a captcha
    second, third = Person(43, "Ola"), Person(44, "Pia")
    quiet = await join(uow_factory, 2, second, at=NOW + dt.timedelta(seconds=10))
    burst = await join(uow_factory, 3, third, at=NOW + dt.timedelta(seconds=20))
    assert quiet.raid is None and burst.raid is not None and burst.raid.on
    async with uow_factory() as uow:
        record = await uow.chats.get(GROUP.chat_id)
        assert not await uow.raids.switch_on(record.pk, NOW)  # on already: once
        [held] = await uow.captchas.held(record.pk, None, 10, holds_only=True)
        assert held.user_id == third.user_id and held.shown_at is not None
        assert await uow.captchas.held_count(record.pk) == 1
    moderator = FakeModerator()
    later = NOW + dt.timedelta(minutes=31)
    [ended] = await calm_down(uow_factory(), bot_id=BOT, now=later)
    assert (ended.on, ended.held) == (False, 1)
    assert await calm_down(uow_factory(), bot_id=BOT, now=later) == []
    [let_in] = await approve_held(
        uow_factory(), moderator, chat_id=GROUP.chat_id, admin_id=INVITER.user_id,
        user_ids=[third.user_id], at=later,
    )  # fmt: skip
    assert let_in.status is CaptchaStatus.PASSED
    assert moderator.calls == [("unrestrict", GROUP.chat_id, third.user_id)]
    rest = await approve_held(  # `all`: the captchas of the two before the burst too
        uow_factory(), moderator, chat_id=GROUP.chat_id, admin_id=INVITER.user_id,
        user_ids=None, at=later,
    )  # fmt: skip
    assert {d.captcha.user_id for d in rest} == {NEWCOMER.user_id, second.user_id}
