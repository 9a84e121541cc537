"""The mod log in storage, on SQLite and PostgreSQL: an update acts once, warnings count until
they expire or are spent on the limit's mute, an undo happens once, every action done is an
event analytics can count, and the settings survive a round trip."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from campaigns.access import AccessDenied, ButtonKind, Denied, Tap
from campaigns.errors import DuplicateUpdate
from campaigns.members import ChatInfo, Person
from campaigns.moderation import (
    ActionKind,
    AdminTarget,
    MissingRight,
    ModerationRules,
    ModRight,
    NothingToUndo,
    Rule,
    Verdict,
    apply_moderation_setting,
)
from campaigns.services.access import remember_buttons
from campaigns.services.chats import change_setting, chat_settings
from campaigns.services.moderation import (
    enforce,
    member_warnings,
    messages_before,
    mod_log,
    undo_action,
    unwarn,
    warn_member,
)
from campaigns.settings import ChatSettings

BOT = 5_000_000_001
GROUP = ChatInfo(-1001234500001, "supergroup", "Tea")
OTHER = ChatInfo(-1001234500002, "supergroup", "Coffee")
ADMIN, SPAMMER, MEMBER = Person(11, "Adam"), Person(31, "Spam", username="spam"), Person(32, "Mia")
NOW = dt.datetime(2026, 12, 1, 4, 0, tzinfo=dt.UTC)
LINK = Verdict(Rule.LINK, delete=True, warn=True, mute_minutes=None)
DEFAULTS = ChatSettings()


class FakeModerator:
    """Telegram's moderation calls, recorded; `missing` rights refuse like Telegram."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, int, int]] = []
        self.missing: set[ModRight] = set()

    async def _do(self, what: str, chat: int, target: int, right: ModRight) -> None:
        if right in self.missing:
            raise MissingRight(right)
        self.calls.append((what, chat, target))

    async def delete(self, chat_id, message_id):
        await self._do("delete", chat_id, message_id, ModRight.DELETE)

    async def restrict(self, chat_id, user_id, until):
        await self._do("restrict", chat_id, user_id, ModRight.RESTRICT)

    async def unrestrict(self, chat_id, user_id):
        await self._do("unrestrict", chat_id, user_id, ModRight.RESTRICT)

    async def ban(self, chat_id, user_id, until):
        await self._do("ban", chat_id, user_id, ModRight.RESTRICT)

    async def unban(self, chat_id, user_id):
        await self._do("unban", chat_id, user_id, ModRight.RESTRICT)

    async def approve_request(self, chat_id, user_id):
        await self._do("approve", chat_id, user_id, ModRight.INVITE)

    async def decline_request(self, chat_id, user_id):
        await self._do("decline", chat_id, user_id, ModRight.INVITE)


class Gate:
    def is_owner(self, user_id):
        return False

    async def is_admin(self, chat_id, user_id):
        return user_id == ADMIN.user_id

    async def is_member(self, chat_id, user_id):
        return True


async def spam(uow_factory, moderator, update_id: int, verdict: Verdict = LINK, at=NOW):
    return await enforce(
        uow_factory(), moderator, Gate(), bot_id=BOT, update_id=update_id, chat=GROUP,
        person=SPAMMER, message_id=update_id, verdict=verdict, now=at, defaults=DEFAULTS,
    )  # fmt: skip


async def warn(uow_factory, moderator, update_id: int, at=NOW, target=SPAMMER):
    return await warn_member(
        uow_factory(), moderator, Gate(), bot_id=BOT, update_id=update_id, chat=GROUP,
        admin=ADMIN, target=target, reason="rude", now=at, defaults=DEFAULTS,
    )  # fmt: skip


async def setting(uow_factory, key: str, value: str, update_id: int = 900) -> None:
    await change_setting(
        uow_factory(), bot_id=BOT, update_id=update_id, chat=GROUP, key=key, value=value,
        at=NOW, defaults=DEFAULTS,
    )  # fmt: skip


async def test_a_spam_message_is_deleted_and_warned_once_however_often_delivered(uow_factory):
    moderator = FakeModerator()

    first = await spam(uow_factory, moderator, 100)
    with pytest.raises(DuplicateUpdate):
        await spam(uow_factory, moderator, 100)
    log = await mod_log(uow_factory(), chat_id=GROUP.chat_id, now=NOW)

    assert first is not None and first.deleted and first.warnings == 1
    assert moderator.calls == [("delete", GROUP.chat_id, 100)]
    assert [(a.kind, a.rule, a.by, a.display_name) for a in log.actions] == [
        (ActionKind.WARNED, Rule.LINK, BOT, "Spam"),
        (ActionKind.DELETED, Rule.LINK, BOT, "Spam"),
    ]
    assert log.counts == {ActionKind.DELETED: 1, ActionKind.WARNED: 1}


async def test_an_admin_is_never_touched(uow_factory):
    moderator = FakeModerator()

    spared = await enforce(
        uow_factory(), moderator, Gate(), bot_id=BOT, update_id=1, chat=GROUP, person=ADMIN,
        message_id=1, verdict=LINK, now=NOW, defaults=DEFAULTS,
    )  # fmt: skip
    with pytest.raises(AdminTarget):
        await warn(uow_factory, moderator, 2, target=ADMIN)

    assert spared is None and moderator.calls == []


async def test_a_missing_right_is_named_and_the_action_marked_not_done(uow_factory):
    moderator = FakeModerator()
    moderator.missing = {ModRight.DELETE}

    outcome = await spam(uow_factory, moderator, 100)
    log = await mod_log(uow_factory(), chat_id=GROUP.chat_id, now=NOW)

    assert outcome is not None and outcome.missing == (ModRight.DELETE,)
    assert not outcome.deleted and outcome.warnings == 1  # the warning stands
    deleted = next(a for a in log.actions if a.kind is ActionKind.DELETED)
    assert deleted.failed == "can_delete_messages"
    assert log.counts == {ActionKind.WARNED: 1}  # analytics counts what was done only


async def test_the_warning_limit_mutes_once_and_spends_the_warnings(uow_factory):
    moderator = FakeModerator()

    results = [await warn(uow_factory, moderator, 200 + i) for i in range(4)]
    with pytest.raises(DuplicateUpdate):
        await warn(uow_factory, moderator, 202)
    log = await mod_log(uow_factory(), chat_id=GROUP.chat_id, now=NOW)

    assert [r.warnings for r in results] == [1, 2, 3, 1]
    assert [r.muted for r in results] == [False, False, True, False]
    assert results[2].muted_until == NOW + dt.timedelta(hours=24)
    assert moderator.calls == [("restrict", GROUP.chat_id, SPAMMER.user_id)]
    limit = [a for a in log.actions if a.rule is Rule.WARN_LIMIT]
    assert [(a.kind, a.by) for a in limit] == [(ActionKind.MUTED, ADMIN.user_id)]


async def test_the_limit_bans_when_set_so(uow_factory):
    moderator = FakeModerator()
    await setting(uow_factory, "warn_action", "ban")
    await setting(uow_factory, "warn_limit", "1", update_id=901)

    outcome = await warn(uow_factory, moderator, 300)

    assert outcome.banned and moderator.calls == [("ban", GROUP.chat_id, SPAMMER.user_id)]


async def test_warnings_expire_after_the_groups_days(uow_factory):
    moderator = FakeModerator()
    await warn(uow_factory, moderator, 400, at=NOW - dt.timedelta(days=31))
    await warn(uow_factory, moderator, 401, at=NOW - dt.timedelta(days=29))

    counted = await member_warnings(uow_factory(), chat_id=GROUP.chat_id, target=SPAMMER, now=NOW)

    assert len(counted.warnings) == 1 and counted.rules.warn_expiry_days == 30


async def test_unwarn_takes_back_the_latest_warning_once(uow_factory):
    moderator = FakeModerator()
    await warn(uow_factory, moderator, 500)
    await warn(uow_factory, moderator, 501, at=NOW + dt.timedelta(minutes=1))

    later = NOW + dt.timedelta(minutes=2)
    left = await unwarn(
        uow_factory(), bot_id=BOT, update_id=502, chat_id=GROUP.chat_id,
        admin_id=ADMIN.user_id, target=SPAMMER, now=later,
    )  # fmt: skip
    await unwarn(
        uow_factory(), bot_id=BOT, update_id=503, chat_id=GROUP.chat_id,
        admin_id=ADMIN.user_id, target=SPAMMER, now=later,
    )  # fmt: skip
    with pytest.raises(NothingToUndo):
        await unwarn(
            uow_factory(), bot_id=BOT, update_id=504, chat_id=GROUP.chat_id,
            admin_id=ADMIN.user_id, target=SPAMMER, now=later,
        )  # fmt: skip

    assert len(left.warnings) == 1 and left.warnings[0].at == NOW


async def modlog_button(uow_factory, action_id: int, chat_id: int = ADMIN.user_id) -> Tap:
    await remember_buttons(
        uow_factory(), kind=ButtonKind.MODLOG, object_id=action_id, chat_id=chat_id,
        message_id=77, at=NOW,
    )  # fmt: skip
    return Tap(chat_id, 77)


async def test_undo_lifts_a_mute_once_and_only_from_its_own_button(uow_factory):
    moderator = FakeModerator()
    mute = Verdict(Rule.FLOOD, delete=False, warn=False, mute_minutes=10)
    await spam(uow_factory, moderator, 600, verdict=mute)
    [muted] = (await mod_log(uow_factory(), chat_id=GROUP.chat_id, now=NOW)).actions
    tap = await modlog_button(uow_factory, muted.id)

    def undo(update_id: int, tapper: int = ADMIN.user_id, where: Tap = tap):
        return undo_action(
            uow_factory(), moderator, Gate(), bot_id=BOT, update_id=update_id,
            action_id=muted.id, tapper=tapper, tap=where, now=NOW,
        )  # fmt: skip

    with pytest.raises(AccessDenied) as wrong:
        await undo(601, where=Tap(ADMIN.user_id, 78))
    with pytest.raises(AccessDenied) as not_admin:
        await undo(602, tapper=MEMBER.user_id)
    done = await undo(603)
    with pytest.raises(NothingToUndo):
        await undo(604)
    log = await mod_log(uow_factory(), chat_id=GROUP.chat_id, now=NOW)

    assert (wrong.value.reason, not_admin.value.reason) == (Denied.WRONG_MESSAGE, Denied.NOT_ADMIN)
    assert done.kind is ActionKind.UNMUTED
    assert moderator.calls[-1] == ("unrestrict", GROUP.chat_id, SPAMMER.user_id)
    assert [a.kind for a in log.actions] == [ActionKind.UNMUTED, ActionKind.MUTED]
    assert log.actions[1].undone_at == NOW and log.undoable == []


async def test_a_deleted_message_cannot_be_undone(uow_factory):
    moderator = FakeModerator()
    await spam(uow_factory, moderator, 700, verdict=dataclasses.replace(LINK, warn=False))
    [deleted] = (await mod_log(uow_factory(), chat_id=GROUP.chat_id, now=NOW)).actions
    tap = await modlog_button(uow_factory, deleted.id)

    with pytest.raises(NothingToUndo) as refused:
        await undo_action(
            uow_factory(), moderator, Gate(), bot_id=BOT, update_id=701, action_id=deleted.id,
            tapper=ADMIN.user_id, tap=tap, now=NOW,
        )  # fmt: skip

    assert refused.value.kind is ActionKind.DELETED


async def test_newcomers_are_told_by_their_stored_message_count(uow_factory):
    from campaigns.ports.members import MessageSeen
    from campaigns.services.members import record_messages

    seen = [MessageSeen(i, GROUP, MEMBER, NOW, "text") for i in range(1, 4)]
    await record_messages(uow_factory(), bot_id=BOT, messages=seen, at=NOW, defaults=DEFAULTS)

    count = await messages_before(uow_factory(), chat_id=GROUP.chat_id, user_id=MEMBER.user_id)
    never = await messages_before(uow_factory(), chat_id=OTHER.chat_id, user_id=MEMBER.user_id)

    assert (count, never) == (3, 0)


async def test_moderation_settings_are_stored_and_read_back(uow_factory):
    await setting(uow_factory, "antispam", "on")
    await setting(uow_factory, "stop_words", "加微信, Casino", update_id=901)
    await setting(uow_factory, "spam_links", "mute all", update_id=902)

    stored = await chat_settings(uow_factory(), chat_id=GROUP.chat_id, defaults=DEFAULTS)

    expected = ModerationRules()
    for key, value in (("antispam", "on"), ("stop_words", "加微信, Casino"),
                       ("spam_links", "mute all")):  # fmt: skip
        expected = apply_moderation_setting(expected, key, value)
    assert stored.moderation == expected
    assert stored.moderation.antispam and stored.moderation.stop_words == ("加微信", "Casino")
