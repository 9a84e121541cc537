"""Join captcha use cases: open one for a join, answer it, expire it; the invite follows.

A captcha is opened in the join's own transaction (before its referral credit is judged, so
a pending captcha holds the invite from the start), and the join's unique key makes a
redelivered join open none. Deciding is a conditional UPDATE: a tap and the sweep racing
decide once. Telegram (restrict, unrestrict, ban) is asked after the commit, never inside it,
and each action is a row of the mod log and an event in the activity store.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass, field

from campaigns.access import AccessDenied, Denied, Tap
from campaigns.captcha import (
    CaptchaKind,
    CaptchaStatus,
    RandomSource,
    answer_hash,
    is_right,
    make_challenge,
    may_answer,
    next_status,
    prompt_page,
)
from campaigns.members import EventKind
from campaigns.moderation import ActionKind, CannotModerate, MissingRight, Rule
from campaigns.ports import UnitOfWork
from campaigns.ports.captcha import CaptchaRecord, NewCaptcha
from campaigns.ports.chats import ChatRecord
from campaigns.ports.moderation import Moderator, NewAction
from campaigns.services import referral
from campaigns.services.modlog import log_actions
from campaigns.services.referral import Notice

SWEEP_BATCH = 200
REQUEST_SOLVED_FOR = dt.timedelta(minutes=10)  # a solved join request spares its join's captcha


async def open_captcha(
    uow: UnitOfWork, record: ChatRecord, user_id: int, *, at: dt.datetime,
    via_request: bool = False, rng: RandomSource | None = None,
) -> int | None:  # fmt: skip
    """Inside the join's transaction: a pending captcha when the group asks for one; None when
    it does not, or when this join already has one. A group captcha's minutes start when a
    prompt first shows it (place_prompt): one waiting for a prompt never expires."""
    rules = record.settings.moderation
    if not rules.captcha:
        return None
    challenge = make_challenge(rules.captcha_kind, rng)
    salt = secrets.token_hex(8)
    deadline = at + dt.timedelta(minutes=rules.captcha_minutes) if via_request else None
    return await uow.captchas.open(
        NewCaptcha(
            chat_pk=record.pk, user_id=user_id, joined_at=at, kind=challenge.kind,
            question=challenge.question, options=challenge.options, salt=salt,
            answer_hash=answer_hash(salt, challenge.answer),
            deadline=deadline, via_request=via_request, shown_at=at if via_request else None,
        )
    )  # fmt: skip


async def open_hold(
    uow: UnitOfWork, record: ChatRecord, user_id: int, *, at: dt.datetime,
    via_request: bool = False,
) -> int | None:  # fmt: skip
    """Inside the join's (or join request's) transaction, during a raid: the member held for an
    admin's approval, the hold's minutes starting now; None when this join is held already (a
    redelivery)."""
    minutes = record.settings.moderation.raid_hold_minutes
    return await uow.captchas.open(
        NewCaptcha(
            chat_pk=record.pk, user_id=user_id, joined_at=at, kind=CaptchaKind.APPROVAL,
            question="", options=(), salt="", answer_hash="",
            deadline=at + dt.timedelta(minutes=minutes), via_request=via_request, shown_at=at,
        )
    )  # fmt: skip


async def let_in_by_request(
    uow: UnitOfWork, record: ChatRecord, user_id: int, at: dt.datetime, *,
    admin_approved: bool,
) -> bool:  # fmt: skip
    """Inside the join's transaction: whether the member solved a join request's question
    lately, or (`admin_approved`: Telegram says the join came through a request) an admin let
    them in through Telegram while the bot's check was still pending, which settles it. Such a
    join is neither asked again nor held."""
    return await uow.captchas.request_let_in(
        record.pk, user_id, at - REQUEST_SOLVED_FOR, at, settle_pending=admin_approved
    )


@dataclass(frozen=True)
class RequestCheck:
    """A join request to check: its captcha row (a question to send privately, or a raid's
    hold, which the admins decide), the group's title and the minutes to answer in."""

    captcha: CaptchaRecord
    title: str | None
    minutes: int

    @property
    def held(self) -> bool:
        return self.captcha.kind is CaptchaKind.APPROVAL


async def request_check(
    uow: UnitOfWork, *, chat_id: int, user_id: int, at: dt.datetime,
    rng: RandomSource | None = None,
) -> RequestCheck | None:  # fmt: skip
    """A join request (its referral claim already stored): during a raid, held for the
    admins (`/raid approve`), declined when the hold runs out; with the captcha on, a
    question to send privately, approved when solved and declined when failed or late. None:
    no check (the bot approves a member link's request as before, admins the rest), or a
    redelivered request."""
    async with uow:
        record = await uow.chats.get(chat_id)
        if record is None or not record.active:
            return None
        rules = record.settings.moderation
        if await uow.raids.is_on(record.pk):
            captcha_id = await open_hold(uow, record, user_id, at=at, via_request=True)
            minutes = rules.raid_hold_minutes
        elif rules.captcha:
            captcha_id = await open_captcha(uow, record, user_id, at=at, via_request=True, rng=rng)
            minutes = rules.captcha_minutes
        else:
            return None
        captcha = await uow.captchas.get(captcha_id) if captcha_id is not None else None
        if captcha is None:
            return None
        await uow.commit()
    return RequestCheck(captcha, record.title, minutes)


async def place_question(
    uow: UnitOfWork, check: RequestCheck, chat_id: int, message_id: int
) -> None:
    """The private question was sent as `message_id`: taps on it, and only on it, count."""
    async with uow:
        await uow.captchas.set_prompt(
            [check.captcha.id], chat_id, message_id, at=check.captcha.joined_at,
            minutes=check.minutes,
        )  # fmt: skip
        await uow.commit()


class NotYourCaptcha(Exception):
    """Someone else pressed a newcomer's captcha button: refused, nothing changes."""


@dataclass(frozen=True)
class Decision:
    """A decided captcha: who, how, and what Telegram refused (a missing right to tell)."""

    captcha: CaptchaRecord
    chat_id: int
    status: CaptchaStatus
    notices: list[Notice] = field(default_factory=list)
    missing: tuple[MissingRight, ...] = ()
    title: str | None = None
    member_language: str | None = None  # a join request's outcome is told in it, privately


@dataclass(frozen=True)
class Decided:
    """Inside the transaction: the captcha moved; its group, the inviter's notices, and the
    member's language (looked up for a join request, whose outcome is told privately)."""

    record: ChatRecord
    notices: list[Notice]
    member_language: str | None

    def decision(
        self, captcha: CaptchaRecord, to: CaptchaStatus, missing: tuple[MissingRight, ...]
    ) -> Decision:
        return Decision(
            captcha, self.record.chat_id, to, self.notices, missing, self.record.title,
            self.member_language,
        )  # fmt: skip


def rule_of(captcha: CaptchaRecord) -> Rule:
    """A raid's hold is logged as raid mode's doing; anything else as the captcha's."""
    return Rule.RAID if captcha.kind is CaptchaKind.APPROVAL else Rule.CAPTCHA


async def decide(
    uow: UnitOfWork, captcha: CaptchaRecord, to: CaptchaStatus, at: dt.datetime
) -> Decided | None:
    """Inside a transaction: move the captcha once and let the invite follow (an expiry only
    of a captcha shown more than its minutes ago)."""
    record = await uow.chats.by_pk(captcha.chat_pk)
    due_by = at if to is CaptchaStatus.EXPIRED else None
    if record is None or not await uow.captchas.decide(captcha.id, to, at, due_by=due_by):
        return None
    passed = to is CaptchaStatus.PASSED
    notices = await referral.captcha_decided(uow, record, captcha.user_id, passed=passed, at=at)
    await uow.events.add(
        [(record.pk, captcha.user_id, EventKind.MODERATION, at, None,
          {"kind": f"captcha_{to}", "rule": str(rule_of(captcha))})]
    )  # fmt: skip
    language = None
    if captcha.via_request:
        contact = (await uow.users.contacts([captcha.user_id])).get(captcha.user_id)
        language = contact.language_code if contact is not None else None
    return Decided(record, notices, language)


async def carry_out(
    uow: UnitOfWork, moderator: Moderator, record: ChatRecord, captcha: CaptchaRecord,
    to: CaptchaStatus, *, by: int, update_id: int, at: dt.datetime,
) -> tuple[MissingRight, ...]:  # fmt: skip
    """After the commit: a member's restriction lifted, or the member removed for the ban
    minutes; a join request approved or declined. Recorded in the mod log (why it failed,
    when Telegram refused)."""
    rules = record.settings.moderation
    passed = to is CaptchaStatus.PASSED
    until = None if passed or captcha.via_request else (
        at + dt.timedelta(minutes=rules.captcha_ban_minutes)
    )  # fmt: skip
    failed: str | None = None
    missing: tuple[MissingRight, ...] = ()
    try:
        if captcha.via_request:
            await (moderator.approve_request if passed else moderator.decline_request)(
                record.chat_id, captcha.user_id
            )
        elif passed:
            await moderator.unrestrict(record.chat_id, captcha.user_id)
        else:
            await moderator.ban(record.chat_id, captcha.user_id, until)
    except MissingRight as error:
        failed, missing = str(error.right), (error,)
    except CannotModerate as error:
        failed = str(error.reason)
    if captcha.via_request:
        return missing  # nobody was in the group: nothing for the mod log
    async with uow:
        await log_actions(uow, [
            NewAction(
                chat_pk=record.pk, user_id=captcha.user_id,
                kind=ActionKind.UNMUTED if passed else ActionKind.BANNED, rule=rule_of(captcha),
                by=by, at=at, update_id=update_id, until=until, failed=failed,
            )
        ])  # fmt: skip
        await uow.commit()
    return missing


async def answer_captcha(
    uow: UnitOfWork, moderator: Moderator, *, bot_id: int, update_id: int, captcha_id: int,
    option: int, tapper: int, at: dt.datetime, tap: Tap | None = None,
) -> Decision | None:  # fmt: skip
    """A tap on a captcha's option: only on the prompt the bot sent for it (`tap`, when
    given) and only the member's own counts (NotYourCaptcha otherwise); right passes, wrong
    fails, late expires; None when it was decided already."""
    async with uow:
        captcha = await uow.captchas.get(captcha_id)
        if captcha is None:
            raise AccessDenied(Denied.WRONG_MESSAGE)  # no such captcha: a forged button
        if tap is not None and (tap.chat_id, tap.message_id) != (
            captcha.prompt_chat_id,
            captcha.prompt_message_id,
        ):
            raise AccessDenied(Denied.WRONG_MESSAGE)
        if not may_answer(tapper, captcha.user_id):
            raise NotYourCaptcha()
        right = is_right(captcha.answer_hash, captcha.salt, option)
        to = next_status(captcha.status, right=right, now=at, deadline=captcha.deadline)
        if to is None:
            return None
        decided = await decide(uow, captcha, to, at)
        if decided is None:
            return None
        await uow.commit()
    missing = await carry_out(
        uow, moderator, decided.record, captcha, to, by=bot_id, update_id=update_id, at=at
    )
    return decided.decision(captcha, to, missing)


async def decide_each(
    uow: UnitOfWork, moderator: Moderator | None, captchas: list[CaptchaRecord],
    to: CaptchaStatus, *, by: int, at: dt.datetime,
) -> list[Decision]:  # fmt: skip
    """Each captcha decided in its own transaction (once: one decided meanwhile, by a tap or
    another process, is skipped), then carried out on Telegram (not without a `moderator`:
    an admin did it through Telegram already). The mod log's unique key needs an update id:
    none here, so the captcha's own id (negative, never a Telegram update id) keys it."""
    decisions: list[Decision] = []
    for captcha in captchas:
        async with uow:
            decided = await decide(uow, captcha, to, at)
            if decided is None:
                continue
            await uow.commit()
        missing: tuple[MissingRight, ...] = ()
        if moderator is not None:
            missing = await carry_out(
                uow, moderator, decided.record, captcha, to, by=by, update_id=-captcha.id, at=at
            )
        decisions.append(decided.decision(captcha, to, missing))
    return decisions


async def expire_captchas(
    uow: UnitOfWork, moderator: Moderator, *, bot_id: int, now: dt.datetime
) -> list[Decision]:
    """The sweep: every pending captcha shown more than its minutes ago expires once (its
    member removed for the ban minutes, its invite rejected for quality); one no prompt has
    shown yet waits, restricted, however long."""
    async with uow:
        due = await uow.captchas.due(now, SWEEP_BATCH)
    return await decide_each(uow, moderator, due, CaptchaStatus.EXPIRED, by=bot_id, at=now)


async def restrict_newcomers(
    uow: UnitOfWork, moderator: Moderator, captcha_ids: list[int], *, bot_id: int,
    at: dt.datetime,
) -> tuple[MissingRight, ...]:  # fmt: skip
    """After the join's commit: each newcomer with a pending group captcha may not send until
    they answer (a mod-log row each, keyed by the captcha so a redelivery adds none); what
    Telegram refused for a missing right is returned, once per right."""
    missing: dict[str, MissingRight] = {}
    for captcha_id in captcha_ids:
        async with uow:
            captcha = await uow.captchas.get(captcha_id)
            record = await uow.chats.by_pk(captcha.chat_pk) if captcha is not None else None
        if captcha is None or record is None or captcha.via_request:
            continue
        if captcha.status is not CaptchaStatus.PENDING:
            continue
        failed: str | None = None
        try:
            await moderator.restrict(record.chat_id, captcha.user_id, None)
        except MissingRight as error:
            failed = str(error.right)
            missing.setdefault(failed, error)
        except CannotModerate as error:
            failed = str(error.reason)
        async with uow:
            await log_actions(uow, [
                NewAction(
                    chat_pk=record.pk, user_id=captcha.user_id, kind=ActionKind.MUTED,
                    rule=rule_of(captcha), by=bot_id, at=at, update_id=-captcha.id, failed=failed,
                )
            ])  # fmt: skip
            await uow.commit()
    return tuple(missing.values())


@dataclass(frozen=True)
class PromptLine:
    """One newcomer on a prompt: their captcha and their name."""

    captcha: CaptchaRecord
    name: str


@dataclass(frozen=True)
class Prompt:
    """What a group's captcha prompt shows now: the newcomers still to answer on it (at most
    a page), how many more wait for the next prompt, and the group's language and minutes."""

    chat_id: int
    language: str
    minutes: int
    lines: list[PromptLine]
    waiting: int


async def prompt_for(
    uow: UnitOfWork, chat_id: int, *, message_id: int | None, take_new: bool, now: dt.datetime
) -> Prompt | None:
    """The prompt `message_id` shows now (None: a new one), with the group's newcomers no
    prompt shows yet added while `take_new` and there is room; None for an unknown group."""
    async with uow:
        record = await uow.chats.get(chat_id)
        if record is None:
            return None
        shown = await uow.captchas.on_prompt(chat_id, message_id) if message_id else []
        new = await uow.captchas.unprompted(record.pk, now, 10_000) if take_new else []
        ids = [c.user_id for c in [*shown, *new]]
        page, waiting = prompt_page(ids)
        captchas = [*shown, *new][: len(page)]
        contacts = await uow.users.contacts([c.user_id for c in captchas])
    rules = record.settings.moderation
    lines = [
        PromptLine(c, contacts[c.user_id].display_name if c.user_id in contacts else str(c.user_id))
        for c in captchas
    ]
    return Prompt(chat_id, record.settings.language, rules.captcha_minutes, lines, waiting)


async def place_prompt(uow: UnitOfWork, prompt: Prompt, message_id: int, at: dt.datetime) -> None:
    """The prompt was sent or edited as `message_id` at `at`: its captchas' taps belong there,
    and the minutes of those it shows for the first time start now."""
    async with uow:
        await uow.captchas.set_prompt(
            [line.captcha.id for line in prompt.lines], prompt.chat_id, message_id, at=at,
            minutes=prompt.minutes,
        )  # fmt: skip
        await uow.commit()


async def groups_to_prompt(uow: UnitOfWork, now: dt.datetime) -> list[int]:
    """Groups with newcomers no prompt shows yet (the previous one was full)."""
    async with uow:
        pks = await uow.captchas.groups_unprompted(now)
        records = [await uow.chats.by_pk(pk) for pk in pks]
    return [r.chat_id for r in records if r is not None and r.active]
