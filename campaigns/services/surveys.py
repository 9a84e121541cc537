"""Feedback surveys (用户反馈): an admin asks one question in the group with rating buttons;
members answer once (a second tap changes it); admins read the results and close it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from campaigns.access import ButtonKind, Gate, Tap
from campaigns.members import Person
from campaigns.ports import UnitOfWork
from campaigns.services.access import require_button, require_member
from campaigns.services.chats import claim_update, require_chat
from campaigns.surveys import (
    LISTED,
    TREND,
    Survey,
    SurveyKind,
    SurveyRefusal,
    SurveyRefused,
    SurveyReport,
    SurveyResult,
    on_scale,
    survey_result,
)


@dataclass(frozen=True)
class Answered:
    """A member's tap, taken: their value now, and the one it replaced (None: the first)."""

    survey: Survey
    value: int
    previous: int | None


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
) -> Survey:
    """`/survey csat|nps <question>`: a new open survey of the group."""
    async with uow:
        await claim_update(uow, bot_id, update_id, at)
        chat = await require_chat(uow, chat_id)
        survey = await uow.surveys.add(chat.pk, kind, question, by, at)
        await uow.commit()
    return survey


async def remember_survey(
    uow: UnitOfWork, *, chat_id: int, message_id: int, survey_id: int, at: dt.datetime
) -> None:
    """The question the bot just posted: the survey's buttons count only on it."""
    async with uow:
        await uow.buttons.remember(ButtonKind.SURVEY, survey_id, chat_id, message_id, at)
        await uow.commit()


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
    """A rating tap: on the survey's own message, by a present member of its group, on an
    open survey, with a value of its scale; else refused having changed nothing."""
    async with uow:
        await require_button(uow, ButtonKind.SURVEY, survey_id, tap)
        survey = await uow.surveys.get(survey_id)
        chat = await uow.chats.by_pk(survey.chat_pk) if survey is not None else None
        if survey is None or chat is None or not chat.active:
            raise SurveyRefused(SurveyRefusal.UNKNOWN, survey_id)
        await require_member(uow, gate, chat, person.user_id)
        if not survey.open:
            raise SurveyRefused(SurveyRefusal.CLOSED, survey_id)
        if not on_scale(survey.kind, value):
            raise SurveyRefused(SurveyRefusal.OUT_OF_RANGE, survey_id)
        await claim_update(uow, bot_id, update_id, at)
        previous = await uow.surveys.answer_of(survey_id, person.user_id)
        await uow.surveys.answer(survey_id, person.user_id, value, at)
        await uow.commit()
    return Answered(survey, value, previous)


async def close_survey(
    uow: UnitOfWork, *, bot_id: int, update_id: int, chat_id: int, survey_id: int, at: dt.datetime
) -> Survey:
    """`/survey close <id>`: the group's survey stops taking answers (its buttons say so)."""
    async with uow:
        await claim_update(uow, bot_id, update_id, at)
        chat = await require_chat(uow, chat_id)
        survey = await uow.surveys.get(survey_id)
        if survey is None or survey.chat_pk != chat.pk:
            raise SurveyRefused(SurveyRefusal.UNKNOWN, survey_id)
        if not await uow.surveys.close(survey_id, at):
            raise SurveyRefused(SurveyRefusal.CLOSED, survey_id)
        closed = await uow.surveys.get(survey_id)
        await uow.commit()
    assert closed is not None
    return closed


async def _results(uow: UnitOfWork, surveys: list[Survey]) -> list[SurveyResult]:
    spread = await uow.surveys.distributions([s.id for s in surveys])
    return [survey_result(s, spread.get(s.id, {})) for s in surveys]


async def survey_report(uow: UnitOfWork, *, chat_id: int, survey_id: int | None) -> SurveyReport:
    """`/survey results [id]`: that survey (the newest without an id) in full, and the
    latest few of each kind, oldest first, for the trend."""
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
            for kind in SurveyKind
        }
        [result] = await _results(uow, [focus]) if focus is not None else [None]
        trends = {kind: await _results(uow, found) for kind, found in trend.items() if found}
    return SurveyReport(result, trends)


async def list_surveys(uow: UnitOfWork, *, chat_id: int) -> list[SurveyResult]:
    """`/survey list`: the group's latest surveys, newest first, with their answers."""
    async with uow:
        chat = await require_chat(uow, chat_id)
        return await _results(uow, await uow.surveys.of_group(chat.pk, limit=LISTED))
