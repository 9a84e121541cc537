"""Surveys in storage, on SQLite and PostgreSQL: one answer per member and survey (a second
tap replaces it, with its time), two racing taps leave one row, a closed survey takes no
answer, and the results read the distribution the rules score; a poll's votes (one per
member, a retracted one removed, none from outside the group) and its unique poll id; a
survey asked privately: one outbox row per member, its buttons honoured on the message sent,
the rest cancelled when it closes."""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from campaigns.access import AccessDenied, ButtonKind, Tap
from campaigns.content import PostContent
from campaigns.members import Person
from campaigns.outbox import DeliveryStatus
from campaigns.services import outbox
from campaigns.services.surveys import (
    answer_poll,
    answer_survey,
    close_survey,
    list_surveys,
    remember_poll,
    start_survey,
    survey_report,
)
from campaigns.surveys import SurveyKind, SurveyRefusal, SurveyRefused
from storage.models import SurveyAnswerRow
from tests.fakes import EVERYONE, FakeGate, posted
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


# -- polls ----------------------------------------------------------------------------------

POLL_ID = "6000000001"


async def new_poll(uow_factory, options=("Mango", "Lychee", "Peach")):
    survey = await start_survey(
        uow_factory(), bot_id=1, update_id=next(UPDATES), chat_id=GROUP, kind=SurveyKind.POLL,
        question="Which flavour next?", options=options, by=9, at=T0,
    )  # fmt: skip
    await remember_poll(uow_factory(), survey_id=survey.id, poll_id=POLL_ID, message_id=77)
    return survey


async def vote(uow_factory, person: Person, option_ids: list[int], gate=EVERYONE, at=T0):
    return await answer_poll(
        uow_factory(), gate=gate, bot_id=1, update_id=next(UPDATES), poll_id=POLL_ID,
        person=person, option_ids=option_ids, at=at,
    )  # fmt: skip


async def test_poll_votes_are_one_per_member_and_a_retracted_vote_is_removed(uow_factory, group):
    survey = await new_poll(uow_factory)
    later = T0 + dt.timedelta(minutes=3)

    await vote(uow_factory, ANN, [0])
    await vote(uow_factory, BEN, [1])
    changed = await vote(uow_factory, ANN, [2], at=later)
    retracted = await vote(uow_factory, BEN, [])
    report = await survey_report(uow_factory(), chat_id=GROUP, survey_id=survey.id)

    assert (changed.option, retracted.option) == (2, None)
    assert await answers(uow_factory) == [(1, 2, T0, later)]
    assert report.focus is not None
    assert report.focus.survey.options == ("Mango", "Lychee", "Peach")
    assert report.focus.distribution == ((0, 0), (1, 0), (2, 1))
    assert report.focus.score.answers == 1 and report.focus.score.value is None
    assert SurveyKind.POLL not in report.trend  # a poll has no score to trend


async def test_a_vote_from_outside_the_group_another_poll_or_a_forged_option_counts_not(
    uow_factory, group
):
    survey = await new_poll(uow_factory)
    outsider = Person(3, "Stan")
    only_ann = FakeGate(members={(GROUP, ANN.user_id)})

    with pytest.raises(AccessDenied):  # a forwarded poll: anyone may vote in Telegram
        await vote(uow_factory, outsider, [0], gate=only_ann)
    with pytest.raises(SurveyRefused) as forged:
        await vote(uow_factory, ANN, [0, 1], gate=only_ann)
    with pytest.raises(SurveyRefused) as unknown:
        await answer_poll(
            uow_factory(), gate=EVERYONE, bot_id=1, update_id=next(UPDATES), poll_id="123",
            person=ANN, option_ids=[0], at=T0,
        )  # fmt: skip
    closed = await close_survey(uow_factory(), bot_id=1, update_id=next(UPDATES), chat_id=GROUP,
                                survey_id=survey.id, at=T0)  # fmt: skip
    with pytest.raises(SurveyRefused) as late:
        await vote(uow_factory, ANN, [1], gate=only_ann)

    assert forged.value.reason is SurveyRefusal.OUT_OF_RANGE
    assert unknown.value.reason is SurveyRefusal.UNKNOWN
    assert (closed.poll_message, late.value.reason) == (77, SurveyRefusal.CLOSED)
    assert await answers(uow_factory) == []


async def test_a_poll_id_belongs_to_one_survey(uow_factory, group):
    await new_poll(uow_factory)

    with pytest.raises(IntegrityError):
        await new_poll(uow_factory)


# -- asked privately through the outbox -------------------------------------------------------


async def queue_privately(uow_factory, members: list[int]):
    async with uow_factory() as uow:
        chat = await uow.chats.get(GROUP)
        survey = await uow.surveys.add(chat.pk, SurveyKind.CSAT, "How was it?", 9, T0,
                                       audience="vip")  # fmt: skip
        added = await uow.outbox.add_survey(survey.id, members, PostContent(text="How?"), T0)
        again = await uow.outbox.add_survey(survey.id, members, PostContent(text="How?"), T0)
        await uow.commit()
    return survey, added, again


async def test_each_member_gets_one_message_and_its_buttons_count_on_it_only(uow_factory, group):
    survey, added, again = await queue_privately(uow_factory, [1, 2])

    claimed = await outbox.claim(uow_factory(), worker="w", now=T0, limit=10)
    first, second = claimed
    going = await outbox.settle(uow_factory(), results=[], start=claimed, worker="w", now=T0)
    sent = outbox.Result(first, outbox.Outcome.SENT, T0, message_id=40)
    await outbox.settle(uow_factory(), results=[sent], worker="w", now=T0)
    on_first = Tap(first.target_chat, 40)
    taken = await rate(uow_factory, survey.id, on_first, ANN, 4)
    with pytest.raises(AccessDenied):  # the other member's chat had no message sent yet
        await rate(uow_factory, survey.id, Tap(second.target_chat, 40), BEN, 4)
    report = await survey_report(uow_factory(), chat_id=GROUP, survey_id=survey.id)

    assert (added, again) == (2, 0)
    assert [d.kind for d in claimed] == ["survey", "survey"]
    assert {d.target_chat for d in claimed} == {1, 2}
    assert first.survey == survey and first.content.text == "How?"
    assert first.group_pk == survey.chat_pk and len(going) == 2
    assert taken.value == 4
    assert (report.sent, report.queued) == (1, 2)
    assert report.focus is not None and report.focus.survey.audience == "vip"


async def test_closing_a_survey_cancels_its_messages_not_yet_sent(uow_factory, group):
    survey, _, _ = await queue_privately(uow_factory, [1, 2, 3])
    [one] = await outbox.claim(uow_factory(), worker="w", now=T0, limit=1)
    await outbox.settle(uow_factory(), results=[], start=[one], worker="w", now=T0)

    await close_survey(uow_factory(), bot_id=1, update_id=next(UPDATES), chat_id=GROUP,
                       survey_id=survey.id, at=T0)  # fmt: skip
    left = await outbox.claim(uow_factory(), worker="w", now=T0, limit=10)
    async with uow_factory() as uow:
        counts = await uow.outbox.survey_counts(survey.id)

    assert left == []
    assert counts == {DeliveryStatus.SENDING: 1, DeliveryStatus.CANCELLED: 2}
