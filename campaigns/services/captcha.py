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

from campaigns.captcha import (
    CaptchaStatus,
    RandomSource,
    answer_hash,
    is_right,
    make_challenge,
    may_answer,
    next_status,
)
from campaigns.members import EventKind
from campaigns.moderation import ActionKind, CannotModerate, MissingRight, Rule
from campaigns.ports import UnitOfWork
from campaigns.ports.captcha import CaptchaRecord, NewCaptcha
from campaigns.ports.chats import ChatRecord
from campaigns.ports.moderation import Moderator, NewAction
from campaigns.services import referral
from campaigns.services.referral import Notice

SWEEP_BATCH = 200


async def open_captcha(
    uow: UnitOfWork, record: ChatRecord, user_id: int, *, at: dt.datetime,
    via_request: bool = False, rng: RandomSource | None = None,
) -> int | None:  # fmt: skip
    """Inside the join's transaction: a pending captcha when the group asks for one; None when
    it does not, or when this join already has one."""
    rules = record.settings.moderation
    if not rules.captcha:
        return None
    challenge = make_challenge(rules.captcha_kind, rng)
    salt = secrets.token_hex(8)
    return await uow.captchas.open(
        NewCaptcha(
            chat_pk=record.pk, user_id=user_id, joined_at=at, kind=challenge.kind,
            question=challenge.question, options=challenge.options, salt=salt,
            answer_hash=answer_hash(salt, challenge.answer),
            deadline=at + dt.timedelta(minutes=rules.captcha_minutes), via_request=via_request,
        )
    )  # fmt: skip


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


async def _decide(
    uow: UnitOfWork, captcha: CaptchaRecord, to: CaptchaStatus, at: dt.datetime
) -> tuple[ChatRecord, list[Notice]] | None:
    """Inside a transaction: move the captcha once and let the invite follow."""
    record = await uow.chats.by_pk(captcha.chat_pk)
    if record is None or not await uow.captchas.decide(captcha.id, to, at):
        return None
    passed = to is CaptchaStatus.PASSED
    notices = await referral.captcha_decided(uow, record, captcha.user_id, passed=passed, at=at)
    await uow.events.add(
        [(record.pk, captcha.user_id, EventKind.MODERATION, at, None,
          {"kind": f"captcha_{to}", "rule": str(Rule.CAPTCHA)})]
    )  # fmt: skip
    return record, notices


async def _carry_out(
    uow: UnitOfWork, moderator: Moderator, record: ChatRecord, captcha: CaptchaRecord,
    to: CaptchaStatus, *, bot_id: int, update_id: int, at: dt.datetime,
) -> tuple[MissingRight, ...]:  # fmt: skip
    """After the commit: lift the restriction, or remove the member for the ban minutes;
    recorded in the mod log (why it failed, when Telegram refused)."""
    if captcha.via_request:
        return ()  # a join request is approved or declined by the handler
    rules = record.settings.moderation
    passed = to is CaptchaStatus.PASSED
    until = None if passed else at + dt.timedelta(minutes=rules.captcha_ban_minutes)
    failed: str | None = None
    missing: tuple[MissingRight, ...] = ()
    try:
        if passed:
            await moderator.unrestrict(record.chat_id, captcha.user_id)
        else:
            await moderator.ban(record.chat_id, captcha.user_id, until)
    except MissingRight as error:
        failed, missing = str(error.right), (error,)
    except CannotModerate as error:
        failed = str(error.reason)
    async with uow:
        await uow.moderation.record(
            NewAction(
                chat_pk=record.pk, user_id=captcha.user_id,
                kind=ActionKind.UNMUTED if passed else ActionKind.BANNED, rule=Rule.CAPTCHA,
                by=bot_id, at=at, update_id=update_id, until=until, failed=failed,
            )
        )  # fmt: skip
        await uow.commit()
    return missing


async def answer_captcha(
    uow: UnitOfWork, moderator: Moderator, *, bot_id: int, update_id: int, captcha_id: int,
    option: int, tapper: int, at: dt.datetime,
) -> Decision | None:  # fmt: skip
    """A tap on a captcha's option: only the member's own counts (NotYourCaptcha otherwise);
    right passes, wrong fails, late expires; None when it was decided already."""
    async with uow:
        captcha = await uow.captchas.get(captcha_id)
        if captcha is None:
            return None
        if not may_answer(tapper, captcha.user_id):
            raise NotYourCaptcha()
        right = is_right(captcha.answer_hash, captcha.salt, option)
        to = next_status(captcha.status, right=right, now=at, deadline=captcha.deadline)
        if to is None:
            return None
        decided = await _decide(uow, captcha, to, at)
        if decided is None:
            return None
        record, notices = decided
        await uow.commit()
    missing = await _carry_out(
        uow, moderator, record, captcha, to, bot_id=bot_id, update_id=update_id, at=at
    )
    return Decision(captcha, record.chat_id, to, notices, missing)


async def expire_captchas(
    uow: UnitOfWork, moderator: Moderator, *, bot_id: int, now: dt.datetime
) -> list[Decision]:
    """The sweep: every pending captcha past its deadline expires once (its member removed
    for the ban minutes, its invite rejected for quality)."""
    async with uow:
        due = await uow.captchas.due(now, SWEEP_BATCH)
    decisions: list[Decision] = []
    for captcha in due:
        async with uow:
            decided = await _decide(uow, captcha, CaptchaStatus.EXPIRED, now)
            if decided is None:
                continue
            record, notices = decided
            await uow.commit()
        # The mod log's unique key needs an update id: a sweep has none, so the captcha's
        # own id (negative, never a Telegram update id) keys its action.
        missing = await _carry_out(
            uow, moderator, record, captcha, CaptchaStatus.EXPIRED, bot_id=bot_id,
            update_id=-captcha.id, at=now,
        )  # fmt: skip
        decisions.append(Decision(captcha, record.chat_id, CaptchaStatus.EXPIRED, notices, missing))
    return decisions
