"""The activity buffer on SQLite and PostgreSQL: a stop or a cancel never loses a batch."""

import asyncio
import dataclasses
import datetime as dt
import sqlite3
from collections.abc import Callable

import pytest
from sqlalchemy import delete, func, select

from bot.buffer import ActivityBuffer
from bot.rehearsal import rehearse
from campaigns.members import ChatInfo, Person
from campaigns.ports.members import MessageSeen
from campaigns.services.chats import migrate_chat
from campaigns.services.checkin import check_in
from campaigns.services.members import KEEP_WRITTEN, record_messages
from campaigns.services.profile import export_members
from campaigns.settings import ChatSettings
from storage.engine import create_engine, session_factory
from storage.models import (
    ChatRow,
    CheckinRow,
    EventRow,
    LedgerRow,
    MembershipRow,
    ProcessedUpdateRow,
    UserRow,
)
from storage.uow import SqlUnitOfWork
from tests.clock import FakeClock

GROUP = ChatInfo(chat_id=-1009876543210, type="supergroup", title="Store")
AT = dt.datetime(2026, 11, 16, 4, 0, tzinfo=dt.UTC)
DEFAULTS = ChatSettings(timezone="Asia/Shanghai")
PEOPLE = [Person(100 + i, f"Member {i}") for i in range(5)]


class SlowCommit:
    """Wraps a uow factory: the first commit waits until the test lets it through."""

    def __init__(self, make: Callable[[], SqlUnitOfWork]) -> None:
        self.make = make
        self.entered = asyncio.Event()
        self.release = asyncio.Event()
        self.armed = True

    def __call__(self) -> SqlUnitOfWork:
        uow = self.make()
        commit = uow.commit

        async def slow_commit() -> None:
            if self.armed:
                self.armed = False
                self.entered.set()
                await self.release.wait()
            await commit()

        uow.commit = slow_commit  # type: ignore[method-assign]
        return uow


def messages(first: int, count: int) -> list[MessageSeen]:
    return [
        MessageSeen(
            update_id=i,
            chat=GROUP,
            person=PEOPLE[i % len(PEOPLE)],
            at=AT + dt.timedelta(seconds=i),
            kind="text",
        )
        for i in range(first, first + count)
    ]


async def written(buffer: ActivityBuffer, n: int) -> None:
    """Until the buffer's writes (through the database) have stored `n` messages, or 5 s."""
    for _ in range(500):
        if buffer.written >= n:
            return
        await asyncio.sleep(0.01)


async def stored(uow_factory: Callable[[], SqlUnitOfWork]) -> tuple[int, int]:
    """(message events, sum of members' message counts) in the group."""
    uow = uow_factory()
    async with uow:
        events = await uow.session.scalar(
            select(func.count()).select_from(EventRow).where(EventRow.kind == "message")
        )
    rows = await export_members(uow_factory(), chat_id=GROUP.chat_id, at=AT)
    return events or 0, sum(r.messages for r in rows)


async def test_a_stop_during_a_periodic_flush_loses_nothing(uow_factory):
    slow, clock = SlowCommit(uow_factory), FakeClock(AT)
    buffer = ActivityBuffer(slow, bot_id=1, defaults=DEFAULTS, interval=1.0, clock=clock)
    for m in messages(1, 30):
        await buffer.add(m)
    buffer.start()
    await clock.next_sleep()  # the tick waits for its interval
    clock.advance(1.0)
    await asyncio.wait_for(slow.entered.wait(), 5)  # the tick is writing the first 30
    for m in messages(31, 20):
        await buffer.add(m)

    stopping = asyncio.create_task(buffer.stop())
    await asyncio.sleep(0)  # one step: stop() asks the tick to end and waits for its write
    slow.release.set()
    await asyncio.wait_for(stopping, 5)

    assert await stored(uow_factory) == (50, 50)
    assert len(buffer) == 0
    assert buffer.written == 50


async def test_a_flush_cancelled_mid_write_keeps_its_batch_for_the_next_one(uow_factory):
    slow = SlowCommit(uow_factory)
    buffer = ActivityBuffer(slow, bot_id=1, defaults=DEFAULTS)
    for m in messages(1, 30):
        await buffer.add(m)
    flushing = asyncio.create_task(buffer.flush())
    await asyncio.wait_for(slow.entered.wait(), 5)

    flushing.cancel()
    await asyncio.gather(flushing, return_exceptions=True)
    kept = len(buffer)
    await buffer.flush()

    assert kept == 30
    assert await stored(uow_factory) == (30, 30)


async def test_a_group_moving_mid_write_gets_every_message_under_its_new_id(uow_factory):
    small = ChatInfo(chat_id=-4000000001, type="group", title="Small")
    slow = SlowCommit(uow_factory)
    buffer = ActivityBuffer(slow, bot_id=1, defaults=DEFAULTS)
    for m in messages(1, 10):
        await buffer.add(dataclasses.replace(m, chat=small))
    flushing = asyncio.create_task(buffer.flush())
    await asyncio.wait_for(slow.entered.wait(), 5)  # the first 10 are being written
    for m in messages(11, 10):
        await buffer.add(dataclasses.replace(m, chat=small))

    async def migrate() -> None:
        async with buffer.moving(small.chat_id, GROUP.chat_id):
            await migrate_chat(
                uow_factory(),
                bot_id=1,
                update_id=999,
                old_chat_id=small.chat_id,
                new_chat_id=GROUP.chat_id,
                at=AT,
            )

    moving = asyncio.create_task(migrate())
    await asyncio.sleep(0)  # one step: the migration waits for the write under way
    slow.release.set()
    await asyncio.wait_for(asyncio.gather(flushing, moving), 5)
    await buffer.flush()

    assert await stored(uow_factory) == (20, 20)
    async with uow_factory() as uow:
        assert await uow.chats.get(small.chat_id) is None


async def test_a_full_batch_is_written_by_the_flushing_task_while_chatter_goes_on(uow_factory):
    slow, clock = SlowCommit(uow_factory), FakeClock(AT)
    buffer = ActivityBuffer(slow, bot_id=1, defaults=DEFAULTS, max_size=10, clock=clock)
    buffer.start()

    for m in messages(1, 10):  # the tenth fills a batch: the flushing task takes it
        await asyncio.wait_for(buffer.add(m), 1)
    await asyncio.wait_for(slow.entered.wait(), 5)
    for m in messages(11, 5):  # the write is held up; members' messages are not
        await asyncio.wait_for(buffer.add(m), 1)
    slow.release.set()
    await asyncio.wait_for(buffer.stop(), 5)

    assert await stored(uow_factory) == (15, 15)
    assert buffer.written == 15


async def test_a_full_batch_leaves_the_few_after_it_for_the_tick(uow_factory):
    """A busy group fills a batch again and again: what comes in while one is written goes
    with the next, not in a transaction of its own after every full batch."""
    slow, clock = SlowCommit(uow_factory), FakeClock(AT)
    buffer = ActivityBuffer(slow, bot_id=1, defaults=DEFAULTS, max_size=10, clock=clock)
    buffer.start()
    for m in messages(1, 13):  # three more come in before the flushing task wakes
        await buffer.add(m)
    await asyncio.wait_for(slow.entered.wait(), 5)
    slow.release.set()
    await written(buffer, 10)
    for _ in range(10):  # room for a write of the three, were one coming
        await asyncio.sleep(0)

    assert (buffer.written, len(buffer)) == (10, 3)  # the three wait
    clock.advance(buffer.interval)  # the tick writes them
    await written(buffer, 13)
    assert buffer.written == 13
    await asyncio.wait_for(buffer.stop(), 5)
    assert await stored(uow_factory) == (13, 13)


async def test_a_flush_for_a_fresh_count_waits_for_the_write_under_way(uow_factory):
    slow, clock = SlowCommit(uow_factory), FakeClock(AT)
    buffer = ActivityBuffer(slow, bot_id=1, defaults=DEFAULTS, max_size=10, clock=clock)
    buffer.start()
    for m in messages(1, 10):
        await buffer.add(m)
    await asyncio.wait_for(slow.entered.wait(), 5)  # the task is writing all ten

    flushing = asyncio.create_task(buffer.flush())  # as /me does before counting
    await asyncio.sleep(0.05)
    waited = not flushing.done()
    slow.release.set()
    await asyncio.wait_for(flushing, 5)
    counted = await stored(uow_factory)
    await buffer.stop()

    assert waited
    assert counted == (10, 10)


async def test_a_message_the_database_refuses_is_dropped_alone_and_counted(
    uow_factory, monkeypatch
):
    import bot.buffer

    real = bot.buffer.record_messages

    async def refusing(uow, *, messages, **kwargs):  # as PostgreSQL refuses a NUL in text
        if any("\x00" in m.person.first_name for m in messages):
            raise ValueError("A string literal cannot contain NUL (0x00) characters.")
        return await real(uow, messages=messages, **kwargs)

    monkeypatch.setattr(bot.buffer, "record_messages", refusing)
    errors: list[str] = []
    buffer = ActivityBuffer(uow_factory, bot_id=1, defaults=DEFAULTS, max_size=100)
    buffer.on_error = lambda: errors.append("buffer")
    batch = messages(1, 6)
    batch[2] = dataclasses.replace(batch[2], person=Person(777, "Nul\x00"))
    for message in batch:
        await buffer.add(message)

    first = await buffer.flush()
    await buffer.add(messages(50, 1)[0])  # the next batch is not held up
    second = await buffer.flush()

    assert (first, second) == (5, 1)
    assert await stored(uow_factory) == (6, 6)
    assert (buffer.dropped, errors, len(buffer)) == (1, ["buffer"], 0)


async def test_a_database_that_is_down_keeps_the_whole_batch_for_a_retry(uow_factory):
    from sqlalchemy.exc import OperationalError

    down = [True]

    def flaky() -> SqlUnitOfWork:
        if down[0]:
            raise OperationalError("connect", {}, ConnectionRefusedError("refused"))
        return uow_factory()

    buffer = ActivityBuffer(flaky, bot_id=1, defaults=DEFAULTS, max_size=100)
    for message in messages(1, 3):
        await buffer.add(message)

    with pytest.raises(OperationalError):  # the database is down: the batch is kept
        await buffer.flush()
    down[0] = False
    written = await buffer.flush()

    assert (written, buffer.dropped) == (3, 0)
    assert await stored(uow_factory) == (3, 3)


async def names(uow_factory: Callable[[], SqlUnitOfWork]) -> dict[int, str]:
    async with uow_factory() as uow:
        rows = await uow.session.execute(select(UserRow.id, UserRow.first_name))
        return {int(user_id): name for user_id, name in rows}


async def test_a_member_who_renames_between_batches_is_listed_under_the_new_name(uow_factory):
    buffer = ActivityBuffer(uow_factory, bot_id=1, defaults=DEFAULTS, max_size=100)
    ann = Person(100, "Ann")
    for update_id, person in [(1, ann), (2, ann), (3, Person(100, "Anna")), (4, ann)]:
        await buffer.add(dataclasses.replace(messages(update_id, 1)[0], person=person))
        await buffer.flush()  # each its own batch: names already stored are not written again
        if update_id == 3:
            renamed = await names(uow_factory)

    assert renamed[100] == "Anna"
    assert (await names(uow_factory))[100] == "Ann"  # and back again
    assert await stored(uow_factory) == (4, 4)


async def test_a_name_in_a_batch_that_failed_is_written_by_its_retry(uow_factory):
    from sqlalchemy.exc import OperationalError

    failing = [True]

    def flaky() -> SqlUnitOfWork:
        uow = uow_factory()
        commit = uow.commit

        async def failing_commit() -> None:  # every statement ran, then the commit failed
            if failing[0]:
                raise OperationalError("COMMIT", {}, sqlite3.OperationalError("disk I/O error"))
            await commit()

        uow.commit = failing_commit  # type: ignore[method-assign]
        return uow

    buffer = ActivityBuffer(flaky, bot_id=1, defaults=DEFAULTS, max_size=100)
    await buffer.add(dataclasses.replace(messages(1, 1)[0], person=Person(100, "Ann")))
    with pytest.raises(OperationalError):
        await buffer.flush()
    failing[0] = False
    await buffer.flush()

    assert (await names(uow_factory))[100] == "Ann"
    assert await stored(uow_factory) == (1, 1)


async def test_a_batch_of_more_members_than_one_statement_takes_counts_each_once(uow_factory):
    many = [Person(1000 + i, f"Member {i}") for i in range(130)]  # SQLite: 50 rows a statement
    batch = [
        MessageSeen(
            update_id=10_000 + i,
            chat=GROUP,
            person=many[i % len(many)],
            at=AT + dt.timedelta(seconds=i),
            kind="text",
        )
        for i in range(260)
    ]
    buffer = ActivityBuffer(uow_factory, bot_id=1, defaults=DEFAULTS, max_size=500)
    for message in batch:
        await buffer.add(message)
    first = await buffer.flush()
    for message in batch:  # redelivered, the whole batch again
        await buffer.add(message)
    again = await buffer.flush()

    rows = await export_members(uow_factory(), chat_id=GROUP.chat_id, at=AT)
    assert (first, again) == (260, 0)
    assert await stored(uow_factory) == (260, 260)
    assert sorted(r.messages for r in rows) == [2] * 130


REHEARSED = (ChatRow, UserRow, MembershipRow, EventRow, ProcessedUpdateRow, CheckinRow, LedgerRow)


async def test_the_rehearsal_at_start_runs_through_and_leaves_nothing_behind(database_url, caplog):
    engine = create_engine(database_url)
    sessions = session_factory(engine)

    await rehearse(
        lambda: SqlUnitOfWork(sessions, durable=False, rehearsal=True),
        bot_id=1, defaults=DEFAULTS, now=AT,
    )  # fmt: skip
    async with SqlUnitOfWork(sessions) as uow:
        counts = [
            await uow.session.scalar(select(func.count()).select_from(table)) for table in REHEARSED
        ]
    await engine.dispose()

    assert counts == [0] * len(REHEARSED)
    assert "rehearsal failed" not in caplog.text  # it ran through: message and check-in


async def test_processes_starting_together_rehearse_without_a_warning(database_url, caplog):
    """`growthbot run` and a worker started together rehearse on the same made-up rows;
    PostgreSQL ended one as a deadlock and the operator read a warning with its SQL."""
    engines = [create_engine(database_url) for _ in range(3)]

    async def start(engine: object) -> None:
        sessions = session_factory(engine)  # type: ignore[arg-type]
        await rehearse(
            lambda: SqlUnitOfWork(sessions, durable=False, rehearsal=True),
            bot_id=1, defaults=DEFAULTS, now=AT,
        )  # fmt: skip

    for _ in range(3):
        await asyncio.gather(*(start(engine) for engine in engines))
    for engine in engines:
        await engine.dispose()

    assert "rehearsal failed" not in caplog.text


async def say(buffer: ActivityBuffer, update_id: int, person: Person) -> None:
    await buffer.add(dataclasses.replace(messages(update_id, 1)[0], person=person))
    await buffer.flush()


async def test_a_name_another_writer_stored_is_corrected_by_the_members_next_words(uow_factory):
    clock = FakeClock(AT)
    buffer = ActivityBuffer(uow_factory, bot_id=1, defaults=DEFAULTS, clock=clock)
    ann = Person(100, "Ann")
    await say(buffer, 1, ann)
    async with uow_factory() as uow:  # "Anna" for a day, stored by a check-in, say
        await uow.users.upsert([Person(100, "Anna")])
        await uow.commit()
    clock.advance(KEEP_WRITTEN.total_seconds())  # back to "Ann", speaking again later

    await say(buffer, 2, ann)

    assert (await names(uow_factory))[100] == "Ann"


async def test_a_member_whose_stored_row_the_database_lost_is_written_again(uow_factory):
    """A non-durable commit lost in a PostgreSQL crash, or a restored backup: the writer
    remembers a user the database no longer has, and their membership needs that row."""
    buffer = ActivityBuffer(uow_factory, bot_id=1, defaults=DEFAULTS)
    ann = Person(100, "Ann")
    await say(buffer, 1, ann)
    async with uow_factory() as uow:  # everything of that batch is gone
        for table in (EventRow, MembershipRow, ProcessedUpdateRow, UserRow):
            await uow.session.execute(delete(table))
        await uow.commit()

    await say(buffer, 2, ann)
    await say(buffer, 3, ann)

    assert buffer.dropped == 0
    assert (await names(uow_factory))[100] == "Ann"
    assert await stored(uow_factory) == (2, 2)


async def test_check_ins_amid_batches_of_their_own_members_all_go_through_once(uow_factory):
    """A batch takes the rows a check-in takes (the member's, the member's month, the day's
    counters) in a check-in's order, last in its transaction: check-ins of its own members,
    in every interleaving, neither deadlock nor lose or double a count."""
    crowd = [Person(300 + i, f"Crowd {i}") for i in range(20)]
    async with uow_factory() as uow:  # everyone has spoken before: their rows exist
        await uow.chats.register(GROUP, active=True, bot_status=None, defaults=DEFAULTS)
        await uow.users.upsert(crowd)
        for person in crowd:
            await uow.members.seen_in(GROUP.chat_id, person.user_id, AT - dt.timedelta(days=1))
        await uow.commit()

    async def batch(first: int) -> None:
        said = [
            MessageSeen(
                first + i, GROUP, crowd[i % len(crowd)], AT + dt.timedelta(seconds=i), "text"
            )
            for i in range(100)
        ]
        await record_messages(uow_factory(), bot_id=1, messages=said, at=AT, defaults=DEFAULTS)

    async def checkin(n: int, person: Person, delay: int) -> None:
        for _ in range(delay):
            await asyncio.sleep(0)
        await check_in(
            uow_factory(), bot_id=1, update_id=50_000 + n, chat=GROUP, person=person,
            at=AT + dt.timedelta(minutes=5), defaults=DEFAULTS, settings=DEFAULTS,
        )  # fmt: skip

    await asyncio.gather(
        batch(10_000), batch(20_000),
        *(checkin(n, person, delay=n % 7) for n, person in enumerate(crowd)),
    )  # fmt: skip

    async with uow_factory() as uow:
        pk = (await uow.chats.get(GROUP.chat_id)).pk
        [today] = await uow.stats.days(pk, AT.date(), AT.date())
        checkins = await uow.session.scalar(select(func.count()).select_from(CheckinRow))
    assert (today.messages, today.checkins, checkins) == (200, 20, 20)
    assert await stored(uow_factory) == (200, 200)
