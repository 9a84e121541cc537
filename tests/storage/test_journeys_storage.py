"""Journeys on SQLite and PostgreSQL: a step is taken once whoever races for it (two
processes, a rerun), a held-out member gets a run and nothing else, and the SQL that finds
win-back candidates agrees with the stage rule."""

import asyncio
import datetime as dt
from dataclasses import replace

from sqlalchemy import func, select

from campaigns.content import PostContent
from campaigns.journeys import Journey, JourneyBook, JourneySettings, in_holdout
from campaigns.members import ChatInfo, Person
from campaigns.segments import Stage, StageThresholds, stage_of
from campaigns.services.journeys import change_journey, run_journeys
from campaigns.services.segments import refresh_group
from campaigns.settings import ChatSettings
from storage.models import DeliveryRow, JourneyRunRow, MembershipRow

GROUP = ChatInfo(chat_id=-1009876543888, type="supergroup", title="Tea Club")
AT = dt.datetime(2026, 11, 16, 4, 0, tzinfo=dt.UTC)
DAY = dt.timedelta(days=1)
MEMBERS = range(100, 140)


def render(message: object) -> PostContent:
    return PostContent(text="we miss you")


async def group(uow_factory, holdout: int = 0) -> int:
    book = JourneyBook().with_(Journey.WINBACK, JourneySettings(on=True, since=AT, holdout=holdout))
    settings = ChatSettings(timezone="Asia/Shanghai", journeys=book)
    async with uow_factory() as uow:
        record = await uow.chats.register(GROUP, active=True, bot_status=None, defaults=settings)
        await uow.chats.save_settings(record.pk, replace(record.settings, journeys=book))
        await uow.users.upsert([Person(uid, f"M{uid}") for uid in MEMBERS])
        for uid in MEMBERS:
            await uow.members.create(record.pk, uid, status="member", present=True, at=AT)
            await uow.users.set_reachable(uid, True)
        await uow.session.execute(
            MembershipRow.__table__.update()
            .where(MembershipRow.chat_id == record.pk)
            .values(last_active_at=AT + DAY)
        )
        await uow.commit()
    return record.pk


async def refreshed(uow_factory, pk: int, now: dt.datetime) -> None:
    """The segments job at `now`: stages from the members' last activity."""
    async with uow_factory() as uow:
        record = await uow.chats.by_pk(pk)
        assert record is not None
        await refresh_group(uow, record, now)
        await uow.commit()


async def counts(uow_factory, pk: int) -> tuple[int, int]:
    async with uow_factory() as uow:
        runs = await uow.session.scalar(
            select(func.count()).select_from(JourneyRunRow).where(JourneyRunRow.chat_id == pk)
        )
        rows = await uow.session.scalar(
            select(func.count()).select_from(DeliveryRow).where(DeliveryRow.kind == "journey")
        )
    return int(runs or 0), int(rows or 0)


async def test_two_processes_racing_take_each_members_step_once(uow_factory):
    pk = await group(uow_factory)
    later = AT + 40 * DAY
    await refreshed(uow_factory, pk, later)

    queued = await asyncio.gather(
        run_journeys(uow_factory, now=later, render=render),
        run_journeys(uow_factory, now=later, render=render),
    )
    again = await run_journeys(uow_factory, now=later + DAY, render=render)

    assert sum(queued) == len(MEMBERS) and again == 0
    assert await counts(uow_factory, pk) == (len(MEMBERS), len(MEMBERS))


async def test_held_out_members_have_a_run_and_no_message_and_every_process_agrees(
    uow_factory,
):
    pk = await group(uow_factory, holdout=30)
    later = AT + 40 * DAY
    await refreshed(uow_factory, pk, later)

    queued = await run_journeys(uow_factory, now=later, render=render)

    held = [uid for uid in MEMBERS if in_holdout(pk, uid, Journey.WINBACK, 30)]
    assert queued == len(MEMBERS) - len(held)
    assert await counts(uow_factory, pk) == (len(MEMBERS), len(MEMBERS) - len(held))


async def test_win_back_candidates_are_the_members_the_stage_rule_calls_dormant(uow_factory):
    pk = await group(uow_factory)
    async with uow_factory() as uow:  # last active 1 … 40 days before `later`
        for uid in MEMBERS:
            await uow.session.execute(
                MembershipRow.__table__.update()
                .where(MembershipRow.chat_id == pk, MembershipRow.user_id == uid)
                .values(last_active_at=AT + (uid - 100) * DAY)
            )
        await uow.commit()
    later = AT + 41 * DAY
    await refreshed(uow_factory, pk, later)

    await run_journeys(uow_factory, now=later, render=render)

    thresholds = StageThresholds()
    dormant = {
        uid
        for uid in MEMBERS
        if stage_of(
            joined_at=AT,
            last_active_at=AT + (uid - 100) * DAY,
            present=True,
            now=later,
            thresholds=thresholds,
        )
        is Stage.DORMANT
    }
    async with uow_factory() as uow:
        messaged = set(await uow.session.scalars(select(JourneyRunRow.user_id)))
    assert messaged == dormant and 0 < len(dormant) < len(MEMBERS)


async def test_two_admins_changing_journeys_at_once_both_stick(uow_factory):
    await group(uow_factory)
    defaults = ChatSettings(timezone="Asia/Shanghai")

    def change(update: int, *words: str):
        return change_journey(
            uow_factory(), update=(1, update), chat=GROUP, words=list(words), at=AT,
            defaults=defaults,
        )  # fmt: skip

    for attempt in range(5):
        await change(100 + 10 * attempt, "off", "nudge")
        await change(101 + 10 * attempt, "off", "first_order")
        await asyncio.gather(
            change(102 + 10 * attempt, "on", "nudge"),
            change(103 + 10 * attempt, "on", "first_order"),
        )
        async with uow_factory() as uow:
            record = await uow.chats.get(GROUP.chat_id)
        assert record is not None
        book = record.settings.journeys
        assert book.get(Journey.NUDGE).on and book.get(Journey.FIRST_ORDER).on
