"""Feedback surveys (用户反馈): an admin asks one question in the group with rating buttons,
privately to a saved audience's members through the outbox, or as a native poll in the
group; members answer once (a second tap or vote changes it, a poll vote taken back removes
it); admins read the results and close it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from campaigns.access import ButtonKind, Gate, Tap
from campaigns.content import PostContent
from campaigns.members import Person
from campaigns.outbox import DeliveryStatus
from campaigns.ports import UnitOfWork
from campaigns.ports.chats import ChatRecord
from campaigns.services.access import require_button, require_member
from campaigns.services.audiences import saved_expr
from campaigns.services.chats import claim_update, require_chat
from campaigns.surveys import (
    LISTED,
    RATED,
    TREND,
    Survey,
    SurveyKind,
    SurveyRefusal,
    SurveyRefused,
    SurveyReport,
    SurveyResult,
    poll_choice,
    survey_result,
)


@dataclass(frozen=True)
class Answered:
    """A member's tap, taken: their value now, and the one it replaced (None: the first)."""

    survey: Survey
    value: int
    previous: int | None


@dataclass(frozen=True)
class Voted:
    """A member's poll vote, taken: the option (None: the vote was taken back)."""

    survey: Survey
    option: int | None


@dataclass(frozen=True)
class Asked:
    """A survey asked privately: how many of the audience's members it was queued for."""

    survey: Survey
    members: int


@dataclass(frozen=True)
class Closed:
    """A survey closed, with its poll's message in the group (to stop it), if a poll."""

    survey: Survey
    poll_message: int | None


async def start_survey(
    uow: UnitOfWork,
    *,
    bot_id: int,
    update_id: int,
    chat_id: int,
    kind: SurveyKind,
    question: str,
    by: int,
    at: dt.datetime,
    options: tuple[str, ...] = (),
) -> Survey:
    """`/survey csat|nps <question>` or `/survey poll <question> | …`: a new open survey of
    the group (the handler then posts it)."""
    async with uow:
        await claim_update(uow, bot_id, update_id, at)
        chat = await require_chat(uow, chat_id)
        survey = await uow.surveys.add(chat.pk, kind, question, by, at, options=options)
        await uow.commit()
    return survey


async def ask_audience(
    uow: UnitOfWork,
    *,
    bot_id: int,
    update_id: int,
    chat_id: int,
    kind: SurveyKind,
    question: str,
    audience: str,
    message: PostContent,
    by: int,
    at: dt.datetime,
) -> Asked:
    """`/survey csat|nps @audience <question>`: the survey, and `message` (its question as
    members read it) queued in the outbox for each member the saved audience selects now who
    started the bot, in one transaction. The outbox paces them and puts the survey's
    buttons under each; a tap counts only on the message sent to that member."""
    async with uow:
        await claim_update(uow, bot_id, update_id, at)
        chat = await require_chat(uow, chat_id)
        members = await uow.audiences.members(chat.pk, await saved_expr(uow, chat.pk, audience), at)
        if not members:
            raise SurveyRefused(SurveyRefusal.NOBODY, audience=audience)
        survey = await uow.surveys.add(chat.pk, kind, question, by, at, audience=audience)
        queued = await uow.outbox.add_survey(survey.id, members, message, at)
        await uow.commit()
    return Asked(survey, queued)


async def remember_survey(
    uow: UnitOfWork, *, chat_id: int, message_id: int, survey_id: int, at: dt.datetime
) -> None:
    """The question the bot just posted: the survey's buttons count only on it."""
    async with uow:
        await uow.buttons.remember(ButtonKind.SURVEY, survey_id, chat_id, message_id, at)
        await uow.commit()


async def remember_poll(uow: UnitOfWork, *, survey_id: int, poll_id: str, message_id: int) -> None:
    """The poll the bot just posted: votes name its poll id; closing stops its message."""
    async with uow:
        await uow.surveys.set_poll(survey_id, poll_id, message_id)
        await uow.commit()


async def discard_survey(uow: UnitOfWork, *, survey_id: int) -> None:
    """The poll Telegram refused to post: no survey is left to list as open."""
    async with uow:
        await uow.surveys.discard(survey_id)
        await uow.commit()


async def _open_survey(uow: UnitOfWork, survey: Survey | None, survey_id: int) -> ChatRecord:
    """The survey's group, still the bot's; SurveyRefused when there is none."""
    chat = await uow.chats.by_pk(survey.chat_pk) if survey is not None else None
    if survey is None or chat is None or not chat.active:
        raise SurveyRefused(SurveyRefusal.UNKNOWN, survey_id)
    return chat


async def answer_survey(
    uow: UnitOfWork,
    *,
    gate: Gate,
    bot_id: int,
    update_id: int,
    survey_id: int,
    value: int,
    person: Person,
    tap: Tap,
    at: dt.datetime,
) -> Answered:
    """A rating tap: on the survey's own message (in the group, or the private message the
    outbox sent this member), by a present member of the survey's group (wherever the tap
    was), on an open survey, with a value of its scale; else refused having changed nothing."""
    async with uow:
        await require_button(uow, ButtonKind.SURVEY, survey_id, tap)
        survey = await uow.surveys.get(survey_id)
        chat = await _open_survey(uow, survey, survey_id)
        assert survey is not None
        await require_member(uow, gate, chat, person.user_id)
        if not survey.open:
            raise SurveyRefused(SurveyRefusal.CLOSED, survey_id)
        if survey.kind is SurveyKind.POLL or value not in survey.scale:
            raise SurveyRefused(SurveyRefusal.OUT_OF_RANGE, survey_id)
        await claim_update(uow, bot_id, update_id, at)
        previous = await uow.surveys.answer_of(survey_id, person.user_id)
        await uow.surveys.answer(survey_id, person.user_id, value, at)
        await uow.commit()
    return Answered(survey, value, previous)


async def answer_poll(
    uow: UnitOfWork,
    *,
    gate: Gate,
    bot_id: int,
    update_id: int,
    poll_id: str,
    person: Person,
    option_ids: Sequence[int],
    at: dt.datetime,
) -> Voted:
    """A vote in a survey's poll (Telegram's poll_answer): taken from a present member of the
    survey's group (a forwarded poll collects votes from anyone) on an open survey, for one
    of its options; a vote taken back removes the member's answer (only ever their own).
    Anything else is refused having changed nothing."""
    async with uow:
        survey = await uow.surveys.by_poll(poll_id)
        chat = await _open_survey(uow, survey, 0)
        assert survey is not None
        if not survey.open:
            raise SurveyRefused(SurveyRefusal.CLOSED, survey.id)
        choice = poll_choice(survey, option_ids)
        if choice is not None:
            await require_member(uow, gate, chat, person.user_id)
        await claim_update(uow, bot_id, update_id, at)
        if choice is None:
            await uow.surveys.retract(survey.id, person.user_id)
        else:
            await uow.surveys.answer(survey.id, person.user_id, choice, at)
        await uow.commit()
    return Voted(survey, choice)


async def close_survey(
    uow: UnitOfWork, *, bot_id: int, update_id: int, chat_id: int, survey_id: int, at: dt.datetime
) -> Closed:
    """`/survey close <id>`: the group's survey stops taking answers (its buttons say so; a
    poll is then stopped by the handler), and its private questions not yet sent never are."""
    async with uow:
        await claim_update(uow, bot_id, update_id, at)
        chat = await require_chat(uow, chat_id)
        survey = await uow.surveys.get(survey_id)
        if survey is None or survey.chat_pk != chat.pk:
            raise SurveyRefused(SurveyRefusal.UNKNOWN, survey_id)
        if not await uow.surveys.close(survey_id, at):
            raise SurveyRefused(SurveyRefusal.CLOSED, survey_id)
        await uow.outbox.cancel_survey(survey_id)
        closed = await uow.surveys.get(survey_id)
        message = await uow.surveys.poll_message(survey_id)
        await uow.commit()
    assert closed is not None
    return Closed(closed, message)


async def results_of(uow: UnitOfWork, surveys: Sequence[Survey]) -> list[SurveyResult]:
    """Each survey's answers per value (or option) and its score (inside a transaction)."""
    spread = await uow.surveys.distributions([s.id for s in surveys])
    return [survey_result(s, spread.get(s.id, {})) for s in surveys]


async def survey_report(uow: UnitOfWork, *, chat_id: int, survey_id: int | None) -> SurveyReport:
    """`/survey results [id]`: that survey (the newest without an id) in full, with how far
    its private questions got, and the latest few CSAT and NPS surveys, oldest first, for
    the trend."""
    async with uow:
        chat = await require_chat(uow, chat_id)
        if survey_id is None:
            newest = await uow.surveys.of_group(chat.pk, limit=1)
            focus = newest[0] if newest else None
        else:
            focus = await uow.surveys.get(survey_id)
            if focus is None or focus.chat_pk != chat.pk:
                raise SurveyRefused(SurveyRefusal.UNKNOWN, survey_id)
        trend = {
            kind: list(reversed(await uow.surveys.of_group(chat.pk, limit=TREND, kind=kind)))
            for kind in RATED
        }
        [result] = await results_of(uow, [focus]) if focus is not None else [None]
        trends = {kind: await results_of(uow, found) for kind, found in trend.items() if found}
        sent = queued = None
        if focus is not None and focus.audience is not None:
            counts = await uow.outbox.survey_counts(focus.id)
            sent, queued = counts.get(DeliveryStatus.SENT, 0), sum(counts.values())
    return SurveyReport(result, trends, sent, queued)


async def list_surveys(uow: UnitOfWork, *, chat_id: int) -> list[SurveyResult]:
    """`/survey list`: the group's latest surveys, newest first, with their answers."""
    async with uow:
        chat = await require_chat(uow, chat_id)
        return await results_of(uow, await uow.surveys.of_group(chat.pk, limit=LISTED))
