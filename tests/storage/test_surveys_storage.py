"""Surveys in storage, on SQLite and PostgreSQL: one answer per member and survey (a second
tap replaces it, with its time), two racing taps leave one row, a closed survey takes no
answer, and the results read the distribution the rules score."""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools

import pytest
from sqlalchemy import select

from campaigns.access import ButtonKind
from campaigns.members import Person
from campaigns.services.surveys import (
    answer_survey,
    close_survey,
    list_surveys,
    start_survey,
    survey_report,
)
from campaigns.surveys import SurveyKind, SurveyRefusal, SurveyRefused
from storage.models import SurveyAnswerRow
from tests.fakes import EVERYONE, posted
from tests.storage.test_rule_prefilters import seed_chat

T0 = dt.datetime(2026, 11, 2, tzinfo=dt.UTC)
GROUP = -100960
UPDATES = itertools.count(1)
ANN, BEN = Person(1, "Ann"), Person(2, "Ben")


async def new_survey(uow_factory, kind: SurveyKind = SurveyKind.NPS, at: dt.datetime = T0):
    survey = await start_survey(
        uow_factory(), bot_id=1, update_id=next(UPDATES), chat_id=GROUP, kind=kind,
        question="Would you recommend us?", by=9, at=at,
    )  # fmt: skip
    return survey, await posted(uow_factory, ButtonKind.SURVEY, survey.id)


async def rate(uow_factory, survey_id: int, tap, person: Person, value: int, at=T0):
    return await answer_survey(
        uow_factory(), gate=EVERYONE, bot_id=1, update_id=next(UPDATES), survey_id=survey_id,
        value=value, person=person, tap=tap, at=at,
    )  # fmt: skip


async def answers(uow_factory) -> list[tuple[int, int, dt.datetime, dt.datetime]]:
    async with uow_factory() as uow:
        rows = await uow.session.execute(
            select(SurveyAnswerRow.user_id, SurveyAnswerRow.value, SurveyAnswerRow.first_at,
                   SurveyAnswerRow.answered_at).order_by(SurveyAnswerRow.user_id)
        )  # fmt: skip
        return [(u, v, f.replace(tzinfo=dt.UTC), a.replace(tzinfo=dt.UTC)) for u, v, f, a in rows]


@pytest.fixture
async def group(uow_factory):
    async with uow_factory() as uow:
        await seed_chat(uow.session, GROUP)
        await uow.commit()


async def test_a_second_tap_changes_the_one_answer_and_records_its_time(uow_factory, group):
    survey, tap = await new_survey(uow_factory)
    later = T0 + dt.timedelta(minutes=5)

    first = await rate(uow_factory, survey.id, tap, ANN, 6)
    second = await rate(uow_factory, survey.id, tap, ANN, 9, at=later)
    await rate(uow_factory, survey.id, tap, BEN, 10)

    assert (first.previous, second.previous, second.value) == (None, 6, 9)
    assert await answers(uow_factory) == [(1, 9, T0, later), (2, 10, T0, T0)]
    report = await survey_report(uow_factory(), chat_id=GROUP, survey_id=survey.id)
    assert report.focus is not None
    assert report.focus.score.value == 100.0  # two promoters: Ann's 6 no longer counts


async def test_two_racing_taps_of_one_member_leave_one_answer(uow_factory, group):
    survey, tap = await new_survey(uow_factory)

    await asyncio.gather(
        rate(uow_factory, survey.id, tap, ANN, 3), rate(uow_factory, survey.id, tap, ANN, 8)
    )

    [(user, value, _, _)] = await answers(uow_factory)
    assert user == 1 and value in (3, 8)


async def test_a_closed_survey_or_a_value_off_its_scale_changes_nothing(uow_factory, group):
    csat, csat_tap = await new_survey(uow_factory, SurveyKind.CSAT)
    nps, nps_tap = await new_survey(uow_factory)
    await close_survey(uow_factory(), bot_id=1, update_id=next(UPDATES), chat_id=GROUP,
                       survey_id=nps.id, at=T0)  # fmt: skip

    with pytest.raises(SurveyRefused) as off_scale:
        await rate(uow_factory, csat.id, csat_tap, ANN, 0)
    with pytest.raises(SurveyRefused) as closed:
        await rate(uow_factory, nps.id, nps_tap, ANN, 9)
    with pytest.raises(SurveyRefused) as twice:
        await close_survey(uow_factory(), bot_id=1, update_id=next(UPDATES), chat_id=GROUP,
                           survey_id=nps.id, at=T0)  # fmt: skip

    assert off_scale.value.reason is SurveyRefusal.OUT_OF_RANGE
    assert closed.value.reason is SurveyRefusal.CLOSED
    assert twice.value.reason is SurveyRefusal.CLOSED
    assert await answers(uow_factory) == []


async def test_results_show_the_distribution_and_the_trend_of_each_kind(uow_factory, group):
    day = dt.timedelta(days=7)
    surveys = [await new_survey(uow_factory, SurveyKind.CSAT, T0 + i * day) for i in range(7)]
    for i, (survey, tap) in enumerate(surveys):
        await rate(uow_factory, survey.id, tap, ANN, 5)
        await rate(uow_factory, survey.id, tap, BEN, 1 + i % 5)

    report = await survey_report(uow_factory(), chat_id=GROUP, survey_id=None)
    listed = await list_surveys(uow_factory(), chat_id=GROUP)

    assert report.focus is not None and report.focus.survey.id == surveys[-1][0].id
    assert report.focus.distribution == ((1, 0), (2, 1), (3, 0), (4, 0), (5, 1))
    trend = report.trend[SurveyKind.CSAT]
    assert [r.survey.id for r in trend] == [s.id for s, _ in surveys[2:]]  # last 5, oldest first
    assert [r.score.value for r in trend] == [50.0, 100.0, 100.0, 50.0, 50.0]
    assert SurveyKind.NPS not in report.trend
    assert [r.survey.id for r in listed] == [s.id for s, _ in reversed(surveys)]


async def test_another_groups_survey_is_unknown_here(uow_factory, group):
    survey, _ = await new_survey(uow_factory)
    async with uow_factory() as uow:
        await seed_chat(uow.session, GROUP - 1)
        await uow.commit()

    with pytest.raises(SurveyRefused) as unknown:
        await survey_report(uow_factory(), chat_id=GROUP - 1, survey_id=survey.id)
    with pytest.raises(SurveyRefused):
        await close_survey(uow_factory(), bot_id=1, update_id=next(UPDATES), chat_id=GROUP - 1,
                           survey_id=survey.id, at=T0)  # fmt: skip

    assert unknown.value.reason is SurveyRefusal.UNKNOWN
