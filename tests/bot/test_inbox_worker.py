"""The inbox worker through the real Application and the double, on SQLite and PostgreSQL:
chats in order, done only once committed, a dead worker's updates run again without
doubled effects, a stop gives the rest back."""

import asyncio
import json
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select

from bot.inbox import InboxWorker, inbox_store
from campaigns.services.profile import export_members
from storage.models import InboxRow
from tests.handlers.conftest import (
    ALICE,
    BOB,
    CAROL,
    GROUP,
    MONDAY,
    OWNER,
    Harness,
    make_harness,
)

LEASE = 30.0


@pytest.fixture
async def bot(database_url: str) -> AsyncIterator[Harness]:
    harness, app = await make_harness(database_url, activity_flush_seconds=60)
    yield harness
    from bot.app import stop_offline

    await stop_offline(app)
    assert harness.world.problems() == []


def worker(bot: Harness, holder: str, **options) -> InboxWorker:
    app = bot.app

    return InboxWorker(
        bot.app.bot_data.deps.uow,
        bot_id=app.bot.id,
        holder=holder,
        process=app.process_stored,
        flush=app.bot_data.deps.buffer.flush,
        lease=LEASE,
        clock=bot.clock,
        **options,
    )


async def receive(bot: Harness, *updates: dict) -> None:
    store = inbox_store(bot.app.bot_data.deps.uow, bot.app.bot.id, clock=bot.clock)
    for update in updates:
        await store(update["update_id"], update["message"]["chat"]["id"], json.dumps(update))


def said(bot: Harness, words: str) -> list[str]:
    return [c.text for c in bot.world.sent(GROUP) if words in c.text]


async def pending(bot: Harness) -> list[tuple[int, str | None]]:
    async with bot.app.bot_data.deps.uow() as uow:
        rows = await uow.session.execute(  # type: ignore[attr-defined]
            select(InboxRow.update_id, InboxRow.holder)
            .where(InboxRow.done_at.is_(None))
            .order_by(InboxRow.update_id)
        )
        return [(u, h) for u, h in rows]


async def test_a_chat_s_updates_run_in_order_and_are_marked_done(bot: Harness):
    w = bot.world
    await receive(
        bot,
        w.message(GROUP, BOB, "签到", at=MONDAY),
        w.message(GROUP, ALICE, "/checkin", at=MONDAY),
        w.message(GROUP, CAROL, "/checkin", at=MONDAY),
    )

    done = await worker(bot, "w1").drain()

    assert done == 3
    ranks = said(bot, "today")
    assert [("鲍勃" in r, "Alice" in r, "Carol" in r) for r in ranks] == [
        (True, False, False),
        (False, True, False),
        (False, False, True),
    ]
    assert ["#1 today" in ranks[0], "#2 today" in ranks[1], "#3 today" in ranks[2]] == [True] * 3
    assert await pending(bot) == []


async def test_a_member_message_is_done_only_once_it_is_written(bot: Harness):
    await receive(bot, bot.world.message(GROUP, ALICE, "hello", at=MONDAY))

    await worker(bot, "w1").drain()

    stats = await export_members(bot.app.bot_data.deps.uow(), chat_id=GROUP, at=MONDAY)
    assert next(s.messages for s in stats if s.user_id == ALICE) == 1  # no flush by the test


async def test_a_dead_worker_s_updates_run_again_after_its_lease_without_doubled_effects(
    bot: Harness,
):
    w = bot.world
    updates = [w.message(GROUP, m, "签到", at=MONDAY) for m in (ALICE, BOB, CAROL)]
    updates.append(w.message(GROUP, ALICE, "still here", at=MONDAY))
    await receive(bot, *updates)
    dead = worker(bot, "dead")
    claimed = await dead._claim(10)  # it leased the chat and ran two updates, then died
    for item in claimed[GROUP][:2]:
        await dead.process(item.body)
    await dead.flush()

    early = await worker(bot, "w2").drain()
    bot.clock.advance(LEASE + 1)
    late = await worker(bot, "w2").drain()

    assert (early, late) == (0, 4)
    assert len(said(bot, "today")) == 3  # the two already answered were not answered again
    stats = {
        s.user_id: s
        for s in await export_members(bot.app.bot_data.deps.uow(), chat_id=GROUP, at=MONDAY)
    }
    assert [stats[m].checkins for m in (ALICE, BOB, CAROL)] == [1, 1, 1]
    assert stats[ALICE].messages == 2 and stats[BOB].messages == 1


async def test_a_worker_known_to_be_gone_is_relieved_at_once(bot: Harness):
    update = bot.world.message(GROUP, ALICE, "签到", at=MONDAY)
    await receive(bot, update)
    await worker(bot, "gone:1:x")._claim(10)

    freed = await worker(bot, "w2", dead=lambda h: h.startswith("gone")).recover()

    assert freed == 1
    assert await pending(bot) == [(update["update_id"], None)]
    assert await worker(bot, "w2").drain() == 1


async def test_a_stopping_worker_finishes_its_update_and_gives_the_rest_back(bot: Harness):
    w = bot.world
    updates = [w.message(GROUP, ALICE, f"message {i}", at=MONDAY) for i in range(4)]
    await receive(bot, *updates)
    inside, resume = asyncio.Event(), asyncio.Event()
    first = worker(bot, "w1")
    process = first.process

    async def slow(body: str) -> bool:
        inside.set()
        await resume.wait()
        return await process(body)

    first.process = slow
    first.start()
    await inside.wait()
    stopping = asyncio.create_task(first.stop())
    await asyncio.sleep(0)
    resume.set()
    await stopping

    left = await pending(bot)
    assert [u for u, _ in left] == [u["update_id"] for u in updates[1:]]
    assert {h for _, h in left} == {None}  # free for anyone at once, no lease to wait out
    assert await worker(bot, "w2").drain() == 3
    stats = await export_members(bot.app.bot_data.deps.uow(), chat_id=GROUP, at=MONDAY)
    assert next(s.messages for s in stats if s.user_id == ALICE) == 4


async def test_processing_and_its_lease_renewal_go_on_while_the_clock_moves(bot: Harness):
    await receive(bot, bot.world.message(GROUP, ALICE, "签到", at=MONDAY))
    w = worker(bot, "w1")
    w.start()
    for _ in range(50):
        if not await pending(bot):
            break
        await asyncio.sleep(0.02)
    bot.clock.advance(LEASE)  # the heartbeat and the poll wake; nothing is left to do
    await asyncio.sleep(0.05)
    await w.stop()

    assert await pending(bot) == []
    assert w.processed == 1


async def test_an_update_the_bot_cannot_read_is_dropped_and_its_chat_goes_on(bot: Harness):
    store = inbox_store(bot.app.bot_data.deps.uow, bot.app.bot.id, clock=bot.clock)
    await store(1, GROUP, json.dumps({"update_id": 1, "message": {"chat": {"id": GROUP}}}))
    await receive(bot, bot.world.message(GROUP, ALICE, "签到", at=MONDAY))

    done = await worker(bot, "w1").drain()

    assert done == 2
    assert len(said(bot, "today")) == 1
    assert await pending(bot) == []


async def test_an_update_whose_handler_failed_runs_again_later_and_its_chat_waits_for_it(
    bot: Harness, monkeypatch: pytest.MonkeyPatch
):
    import handlers.checkin

    real, failures = handlers.checkin.check_in, [RuntimeError("database gone for a moment")]

    async def flaky(*args, **kwargs):
        if failures:
            raise failures.pop()
        return await real(*args, **kwargs)

    monkeypatch.setattr(handlers.checkin, "check_in", flaky)
    w = bot.world
    updates = [w.message(GROUP, ALICE, "签到", at=MONDAY), w.message(GROUP, BOB, "签到", at=MONDAY)]
    await receive(bot, *updates)

    first = await worker(bot, "w1").drain()
    waiting = await pending(bot)
    bot.clock.advance(1)
    still = await worker(bot, "w1").drain()  # its pause is not over: Bob waits behind it
    bot.clock.advance(1.5)
    second = await worker(bot, "w1").drain()

    assert (first, still) == (0, 0)
    assert [u for u, _ in waiting] == [u["update_id"] for u in updates]
    assert second == 2
    ranks = said(bot, "today")
    assert ["Alice" in ranks[0], "鲍勃" in ranks[1]] == [True, True]  # in order, once each
    assert await pending(bot) == []


async def test_an_update_that_always_fails_is_given_up_after_four_runs_and_its_chat_goes_on(
    bot: Harness, monkeypatch: pytest.MonkeyPatch
):
    import handlers.checkin

    runs = 0
    real = handlers.checkin.check_in

    async def broken(*args, **kwargs):
        nonlocal runs
        if kwargs.get("person") is not None and kwargs["person"].user_id == ALICE:
            runs += 1
            raise RuntimeError("a bug")
        return await real(*args, **kwargs)

    monkeypatch.setattr(handlers.checkin, "check_in", broken)
    w = bot.world
    await receive(
        bot,
        w.message(GROUP, ALICE, "签到", at=MONDAY),
        w.message(GROUP, BOB, "签到", at=MONDAY),
    )

    done = 0
    for pause in (0, 2.5, 10.5, 60.5):
        bot.clock.advance(pause)
        done += await worker(bot, "w1").drain()

    assert runs == 4 and done == 2
    assert len(said(bot, "today")) == 1  # Bob, once Alice's update was given up
    assert await pending(bot) == []


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)  # processes share it
async def test_a_settings_change_reaches_every_listening_process_at_once(
    bot: Harness, database_url: str
):
    other = worker(bot, "other-process")
    told: list[int] = []
    got = asyncio.Event()

    def forget(chat_id: int) -> None:
        told.append(chat_id)
        got.set()

    other.on_settings = forget
    await other.listen(database_url)
    try:
        [said] = await bot.say(OWNER, "/set language zh")
        await asyncio.wait_for(got.wait(), timeout=10)
    finally:
        await other.stop()

    assert "zh" in said and told == [GROUP]
