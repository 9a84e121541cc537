"""Order keeping: carrying out anti-spam and flood verdicts, warnings, the mod log and undo.

Telegram calls (through the Moderator port) happen between transactions, never inside one:
the update is claimed first (so a redelivery acts once), Telegram is asked, then what it did
is recorded in the mod log, with each action done also an event in the activity store
(EventKind.MODERATION: analytics counts spam removed from there). A refusal for a missing
right is recorded on the action's row and returned, so the handler can tell the admins
which right to grant.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable
from dataclasses import dataclass, field, replace
from typing import Any

from campaigns.access import ButtonKind, Gate, Tap
from campaigns.members import ChatInfo, Person
from campaigns.moderation import (
    UNDOES,
    ActionKind,
    AdminTarget,
    CannotModerate,
    MissingRight,
    ModerationRules,
    ModRight,
    NothingToUndo,
    Posted,
    Reaction,
    Refusal,
    Rule,
    Verdict,
    Watch,
    features_of,
    is_newcomer,
    limit_reached,
    limit_until,
    needs_standing,
    spam_rule,
    text_hash,
    verdict,
    warnings_since,
)
from campaigns.ports import UnitOfWork
from campaigns.ports.chats import ChatRecord
from campaigns.ports.members import Contact
from campaigns.ports.moderation import ModAction, Moderator, NewAction
from campaigns.services.access import checked_tap, require_admin
from campaigns.services.chats import claim_update, ensure_chat, require_chat
from campaigns.services.modlog import action_event, log_actions
from campaigns.services.raids import approve_held
from campaigns.settings import ChatSettings

SCOPE = "moderation"  # a message's update is also claimed for activity and for commands
LOG_LENGTH = 10  # actions /modlog shows
COUNTS_DAYS = 30  # the period of /modlog's totals


@dataclass(frozen=True)
class Outcome:
    """What was done to a member, for the replies: the group's notice, the member's private
    note, and the admins' note about a missing right."""

    chat_id: int
    title: str | None
    language: str  # the group's
    timezone: str  # the group's
    member: Contact
    rule: Rule
    rules: ModerationRules
    reason: str | None = None
    deleted: bool = False
    warnings: int | None = None  # active warnings after this one, when one was given
    muted_until: dt.datetime | None = None
    muted: bool = False  # for good when muted_until is None
    banned: bool = False
    missing: tuple[ModRight, ...] = ()  # rights Telegram said the bot lacks
    refused: tuple[Refusal, ...] = ()  # other refusals

    @property
    def errors(self) -> list[MissingRight | CannotModerate]:
        """What Telegram refused, as the errors the texts render."""
        found: list[MissingRight | CannotModerate] = [MissingRight(r) for r in self.missing]
        return found + [CannotModerate(r) for r in self.refused]


@dataclass
class _Telegram:
    """What Telegram refused while one outcome was carried out."""

    missing: list[ModRight] = field(default_factory=list)
    refused: list[Refusal] = field(default_factory=list)

    async def attempt(self, call: Awaitable[None]) -> str | None:
        """Run one call; why it failed (stored on the action's row), None when done."""
        try:
            await call
        except MissingRight as error:
            if error.right not in self.missing:
                self.missing.append(error.right)
            return str(error.right)
        except CannotModerate as error:
            self.refused.append(error.reason)
            return str(error.reason)
        return None


async def messages_before(uow: UnitOfWork, *, chat_id: int, user_id: int) -> int:
    """The member's messages stored in the group: anti-spam asks once per member whose
    message a newcomer rule would catch (campaigns.moderation.Watch remembers it)."""
    async with uow:
        return await uow.moderation.messages_before(chat_id, user_id)


async def judge(
    uow: UnitOfWork, watch: Watch, posted: Posted, rules: ModerationRules
) -> Verdict | None:
    """What anti-spam and flood control make of one member message (admins are spared
    later, by enforce). In memory but for one case: a message a newcomer rule would catch
    from a member whose count is not known yet reads it once (one SELECT), so an ordinary
    message costs no database statement."""
    key = (posted.chat_id, posted.user_id)
    digest = text_hash(posted.text) if rules.repeats.reaction is not Reaction.OFF else None
    if posted.edited:  # the content rules only: an edit is not one more message
        flooded, repeats = False, 0
    else:
        flooded, repeats = watch.see(key, posted.at.timestamp(), digest, rules)
    features = features_of(
        posted.text, entity_types=posted.entity_types, channel_forward=posted.channel_forward,
        media=posted.media, repeats=repeats,
    )  # fmt: skip
    newcomer = False
    if needs_standing(features, rules):
        before = watch.count(key)
        if before is None:
            before = await messages_before(uow, chat_id=posted.chat_id, user_id=posted.user_id)
            watch.learn(key, before)
        if posted.edited:  # the edited message was counted when it was sent
            before = max(0, before - 1)
        newcomer = is_newcomer(before, rules)
    found = verdict(spam_rule(features, rules, newcomer=newcomer), flooded, rules)
    if not posted.edited and (found is None or not found.delete):
        watch.counted(key)  # the message stays: one more for the member
    return found


async def enforce(
    uow: UnitOfWork,
    moderator: Moderator,
    gate: Gate,
    *,
    bot_id: int,
    update_id: int,
    chat: ChatInfo,
    person: Person,
    message_id: int,
    verdict: Verdict,
    now: dt.datetime,
    defaults: ChatSettings,
) -> Outcome | None:
    """Carry out an anti-spam or flood verdict on a member's message: delete it, warn or
    mute its author (and at the warning limit mute or ban them). None when the author is an
    admin (never touched); DuplicateUpdate when this update was handled already."""
    if await gate.is_admin(chat.chat_id, person.user_id):
        return None
    async with uow:
        await claim_update(uow, bot_id, update_id, now, scope=SCOPE)
        record = await ensure_chat(uow, chat, defaults)
        await uow.users.upsert([person])
        await uow.commit()
    rules, telegram = record.settings.moderation, _Telegram()
    actions = []

    def done(kind: ActionKind, failed: str | None, until: dt.datetime | None = None) -> NewAction:
        return NewAction(
            record.pk, person.user_id, kind, verdict.rule, bot_id, now, update_id,
            until=until, failed=failed,
        )  # fmt: skip

    if verdict.delete:
        failed = await telegram.attempt(moderator.delete(chat.chat_id, message_id))
        actions.append(done(ActionKind.DELETED, failed))
    until = now + dt.timedelta(minutes=verdict.mute_minutes) if verdict.mute_minutes else None
    if until is not None:
        failed = await telegram.attempt(moderator.restrict(chat.chat_id, person.user_id, until))
        actions.append(done(ActionKind.MUTED, failed, until))
    outcome = Outcome(
        chat_id=chat.chat_id, title=record.title, language=record.settings.language,
        timezone=record.settings.timezone,
        member=Contact(person.user_id, person.display_name, person.language_code, False),
        rule=verdict.rule, rules=rules,
        deleted=any(a.kind is ActionKind.DELETED and a.failed is None for a in actions),
        muted=any(a.kind is ActionKind.MUTED and a.failed is None for a in actions),
        muted_until=until,
    )  # fmt: skip
    return await _warn_and_log(
        uow, moderator, record, outcome, actions, telegram,
        warn=verdict.warn, by=bot_id, update_id=update_id, now=now,
    )  # fmt: skip


async def _warn_and_log(
    uow: UnitOfWork,
    moderator: Moderator,
    record: ChatRecord,
    outcome: Outcome,
    actions: list[NewAction],
    telegram: _Telegram,
    *,
    warn: bool,
    by: int,
    update_id: int,
    now: dt.datetime,
) -> Outcome:
    """Record what was done, and the warning if one is given; at the warning limit the
    member is muted or banned (the limit's action is recorded once, with the update that
    reached it)."""
    rules, user_id = record.settings.moderation, outcome.member.user_id
    limit: NewAction | None = None
    warnings = None
    async with uow:
        await uow.members.lock(record.pk, [user_id])
        if warn:
            warning = NewAction(
                record.pk, user_id, ActionKind.WARNED, outcome.rule, by, now, update_id,
                reason=outcome.reason,
            )  # fmt: skip
            actions.append(warning)
        ids = await log_actions(uow, actions)
        if warn:
            active = await uow.moderation.warnings(record.pk, user_id, warnings_since(now, rules))
            warnings = len(active)
            kind = limit_reached(warnings, rules) if ids[-1] is not None else None
            if kind is not None:
                limit = NewAction(
                    record.pk, user_id, kind, Rule.WARN_LIMIT, by, now, update_id,
                    until=limit_until(now, rules),
                )  # fmt: skip
        member = (await uow.users.contacts([user_id])).get(user_id, outcome.member)
        await uow.commit()
    outcome = _with(outcome, member=member, warnings=warnings)
    if limit is not None:
        outcome = await _limit(uow, moderator, record, outcome, limit, telegram)
    return _with(outcome, missing=tuple(telegram.missing), refused=tuple(telegram.refused))


async def _limit(
    uow: UnitOfWork,
    moderator: Moderator,
    record: ChatRecord,
    outcome: Outcome,
    limit: NewAction,
    telegram: _Telegram,
) -> Outcome:
    """Mute or ban at the warning limit: recorded once (a redelivery finds the row)."""
    async with uow:
        [limit_id] = [await uow.moderation.record(limit)]
        await uow.commit()
    if limit_id is None:
        return outcome
    if limit.kind is ActionKind.BANNED:
        call = moderator.ban(record.chat_id, limit.user_id, limit.until)
    else:
        call = moderator.restrict(record.chat_id, limit.user_id, limit.until)
    failed = await telegram.attempt(call)
    async with uow:
        if failed is not None:
            await uow.moderation.fail(limit_id, failed)
        else:
            await uow.events.add([action_event(limit)])
        await uow.commit()
    if failed is not None:
        return outcome
    if limit.kind is ActionKind.BANNED:
        return _with(outcome, banned=True)
    return _with(outcome, muted=True, muted_until=limit.until)


def _with(outcome: Outcome, **changes: Any) -> Outcome:
    return replace(outcome, **changes)


async def warn_member(
    uow: UnitOfWork,
    moderator: Moderator,
    gate: Gate,
    *,
    bot_id: int,
    update_id: int,
    chat: ChatInfo,
    admin: Person,
    target: Person,
    reason: str | None,
    now: dt.datetime,
    defaults: ChatSettings,
) -> Outcome:
    """An admin's /warn: one warning with their reason; at the limit the member is muted or
    banned. Never an admin (AdminTarget); DuplicateUpdate on a redelivery."""
    if await gate.is_admin(chat.chat_id, target.user_id):
        raise AdminTarget()
    async with uow:
        await claim_update(uow, bot_id, update_id, now)
        record = await ensure_chat(uow, chat, defaults)
        await uow.users.upsert([admin, target])
        await uow.commit()
    outcome = Outcome(
        chat_id=chat.chat_id, title=record.title, language=record.settings.language,
        timezone=record.settings.timezone,
        member=Contact(target.user_id, target.display_name, target.language_code, False),
        rule=Rule.ADMIN, rules=record.settings.moderation, reason=reason,
    )  # fmt: skip
    return await _warn_and_log(
        uow, moderator, record, outcome, [], _Telegram(),
        warn=True, by=admin.user_id, update_id=update_id, now=now,
    )  # fmt: skip


@dataclass(frozen=True)
class Warnings:
    """A member's active warnings in a group, for /warns and /unwarn."""

    member: str
    warnings: list[ModAction]
    rules: ModerationRules
    timezone: str


async def member_warnings(
    uow: UnitOfWork, *, chat_id: int, target: Person, now: dt.datetime
) -> Warnings:
    """The member's warnings that still count (not expired, undone or spent on a mute)."""
    async with uow:
        record = await require_chat(uow, chat_id)
        rules = record.settings.moderation
        found = await uow.moderation.warnings(record.pk, target.user_id, warnings_since(now, rules))
    return Warnings(target.display_name, found, rules, record.settings.timezone)


async def unwarn(
    uow: UnitOfWork,
    *,
    bot_id: int,
    update_id: int,
    chat_id: int,
    admin_id: int,
    target: Person,
    now: dt.datetime,
) -> Warnings:
    """An admin's /unwarn: the member's latest active warning is taken back (NothingToUndo
    when none counts); what still counts is returned."""
    async with uow:
        await claim_update(uow, bot_id, update_id, now)
        record = await require_chat(uow, chat_id)
        rules = record.settings.moderation
        since = warnings_since(now, rules)
        found = await uow.moderation.warnings(record.pk, target.user_id, since)
        if not found or not await uow.moderation.undo(found[-1].id, now):
            raise NothingToUndo(ActionKind.WARNED)
        await log_actions(
            uow, [_undo_row(found[-1], ActionKind.UNWARNED, admin_id, now, update_id)]
        )
        await uow.commit()
    return Warnings(target.display_name, found[:-1], rules, record.settings.timezone)


def _undo_row(
    action: ModAction, kind: ActionKind, by: int, at: dt.datetime, update_id: int
) -> NewAction:
    return NewAction(action.chat_pk, action.user_id, kind, Rule.UNDO, by, at, update_id)


@dataclass(frozen=True)
class ModLog:
    """The latest actions in a group (newest first) and the totals of the last 30 days."""

    chat_id: int
    title: str | None
    timezone: str
    actions: list[ModAction]
    counts: dict[ActionKind, int]

    @property
    def undoable(self) -> list[ModAction]:
        """The actions an admin can still take back: a standing mute, ban or warning."""
        return [a for a in self.actions if can_undo(a)]


def can_undo(action: ModAction) -> bool:
    """A mute, ban or warning that Telegram did and nobody took back yet (a deleted
    message cannot be brought back)."""
    return action.kind in UNDOES and action.undone_at is None and action.failed is None


async def mod_log(uow: UnitOfWork, *, chat_id: int, now: dt.datetime) -> ModLog:
    """What /modlog shows."""
    async with uow:
        record = await require_chat(uow, chat_id)
        actions = await uow.moderation.latest(record.pk, LOG_LENGTH)
        counts = await uow.moderation.counts(record.pk, now - dt.timedelta(days=COUNTS_DAYS))
    return ModLog(record.chat_id, record.title, record.settings.timezone, actions, counts)


async def remember_log(
    uow: UnitOfWork, *, chat_id: int, message_id: int, log: ModLog, at: dt.datetime
) -> None:
    """The /modlog message the bot sent: its undo buttons count on it alone."""
    async with uow:
        for action in log.undoable:
            await uow.buttons.remember(ButtonKind.MODLOG, action.id, chat_id, message_id, at)
        await uow.commit()


@dataclass(frozen=True)
class Undone:
    """An action taken back from the mod log's button."""

    action: ModAction
    kind: ActionKind  # unmuted, unbanned or unwarned
    chat_id: int
    language: str  # the group's


async def undo_action(
    uow: UnitOfWork,
    moderator: Moderator,
    gate: Gate,
    *,
    bot_id: int,
    update_id: int,
    action_id: int,
    tapper: int,
    tap: Tap,
    now: dt.datetime,
) -> Undone:
    """↩️ under /modlog: only on the message the bot sent for this action (AccessDenied
    WRONG_MESSAGE) and by an admin of the action's own group (NOT_ADMIN); a mute is lifted,
    a ban lifted, a warning taken back, each once (NothingToUndo afterwards, and for a
    deleted message, which cannot be brought back). MissingRight when Telegram refuses."""
    await checked_tap(uow, kind=ButtonKind.MODLOG, object_id=action_id, tap=tap)
    async with uow:
        action = await uow.moderation.get(action_id)
        record = await uow.chats.by_pk(action.chat_pk) if action is not None else None
    if action is None or record is None:
        raise NothingToUndo(None)
    await require_admin(gate, record.chat_id, tapper)
    if not can_undo(action):
        raise NothingToUndo(action.kind)
    async with uow:
        await claim_update(uow, bot_id, update_id, now)
        await uow.commit()
    if action.kind is ActionKind.MUTED:
        await moderator.unrestrict(record.chat_id, action.user_id)
    elif action.kind is ActionKind.BANNED:
        await moderator.unban(record.chat_id, action.user_id)
    kind = UNDOES[action.kind]
    async with uow:
        if not await uow.moderation.undo(action.id, now):
            raise NothingToUndo(action.kind)  # another admin was first
        await log_actions(uow, [_undo_row(action, kind, tapper, now, update_id)])
        await uow.commit()
    if action.kind is ActionKind.MUTED and action.rule in {Rule.CAPTCHA, Rule.RAID}:
        # the admin let a newcomer in: their captcha or hold passes, so no sweep removes them
        await approve_held(
            uow, None, chat_id=record.chat_id, admin_id=tapper, user_ids=[action.user_id],
            at=now,
        )  # fmt: skip
    return Undone(action, kind, record.chat_id, record.settings.language)
