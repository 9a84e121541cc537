"""The webhook inbox and named leases on SQLite and PostgreSQL: dedup by update id, chats
leased at their head and in order, leases that expire, and races on PostgreSQL."""

import asyncio
import datetime as dt
import functools

import pytest

from storage.engine import create_engine, session_factory
from storage.uow import SqlUnitOfWork

BOT = 5_000_000_001
AT = dt.datetime(2026, 12, 1, 8, 0, tzinfo=dt.UTC)
LEASE = dt.timedelta(seconds=30)
A, B = -1001, -1002


async def store(uow_factory, *updates: tuple[int, int], at: dt.datetime = AT) -> list[bool]:
    async with uow_factory() as uow:
        new = [
            await uow.inbox.store(BOT, u, chat, f'{{"update_id": {u}}}', at) for u, chat in updates
        ]
        await uow.commit()
    return new


async def claim(uow_factory, holder: str, *, at=AT, chats=10, per_chat=50) -> list[tuple[int, int]]:
    async with uow_factory() as uow:
        items = await uow.inbox.claim(BOT, holder, at, at + LEASE, chats=chats, per_chat=per_chat)
        await uow.commit()
    return [(i.update_id, i.chat_id) for i in items]


async def done(uow_factory, holder: str, ids: list[int], at=AT) -> int:
    async with uow_factory() as uow:
        n = await uow.inbox.done(BOT, holder, ids, at)
        await uow.commit()
    return n


async def test_an_update_is_stored_once_by_its_id(uow_factory):
    first = await store(uow_factory, (1, A))

    again = await store(uow_factory, (1, A))

    assert (first, again) == ([True], [False])
    async with uow_factory() as uow:
        assert await uow.inbox.depth(BOT) == 1


async def test_a_done_update_is_still_recognised_when_redelivered(uow_factory):
    await store(uow_factory, (1, A))
    await claim(uow_factory, "w1")
    await done(uow_factory, "w1", [1])

    again = await store(uow_factory, (1, A))

    assert again == [False]
    async with uow_factory() as uow:
        assert await uow.inbox.depth(BOT) == 0


async def test_a_claim_takes_whole_chats_in_update_order(uow_factory):
    await store(uow_factory, (3, A), (1, B), (2, A), (5, B), (4, A))

    claimed = await claim(uow_factory, "w1")

    assert claimed == [(1, B), (2, A), (3, A), (4, A), (5, B)]


async def test_a_chat_held_by_one_worker_is_not_given_to_another(uow_factory):
    await store(uow_factory, (1, A), (2, A), (3, B))
    await claim(uow_factory, "w1", chats=1)
    await store(uow_factory, (4, A))  # arrives while w1 has A

    other = await claim(uow_factory, "w2")

    assert other == [(3, B)]


async def test_a_chat_s_later_updates_wait_until_its_earlier_ones_are_done(uow_factory):
    await store(uow_factory, (1, A), (2, A))
    await claim(uow_factory, "w1")
    await store(uow_factory, (3, A))
    assert await claim(uow_factory, "w2") == []

    await done(uow_factory, "w1", [1, 2])

    assert await claim(uow_factory, "w2") == [(3, A)]


async def test_per_chat_caps_a_claim_and_the_rest_follows_in_order(uow_factory):
    await store(uow_factory, *[(u, A) for u in range(1, 6)])

    first = await claim(uow_factory, "w1", per_chat=2)
    while_held = await claim(uow_factory, "w2", per_chat=2)
    await done(uow_factory, "w1", [1, 2])
    second = await claim(uow_factory, "w2", per_chat=2)

    assert (first, while_held, second) == ([(1, A), (2, A)], [], [(3, A), (4, A)])


async def test_an_expired_lease_is_taken_over_and_the_old_holder_can_no_longer_finish(
    uow_factory,
):
    await store(uow_factory, (1, A), (2, A))
    await claim(uow_factory, "dead")

    before_expiry = await claim(uow_factory, "w2", at=AT + LEASE - dt.timedelta(seconds=1))
    after_expiry = await claim(uow_factory, "w2", at=AT + LEASE + dt.timedelta(seconds=1))
    late = await done(uow_factory, "dead", [1, 2])

    assert before_expiry == []
    assert after_expiry == [(1, A), (2, A)]
    assert late == 0


async def test_renewing_keeps_a_chat_past_its_first_lease(uow_factory):
    await store(uow_factory, (1, A))
    await claim(uow_factory, "w1")
    async with uow_factory() as uow:
        kept = await uow.inbox.renew(BOT, "w1", [1], AT + 2 * LEASE)
        await uow.commit()

    taken = await claim(uow_factory, "w2", at=AT + LEASE + dt.timedelta(seconds=1))

    assert (kept, taken) == (1, [])


async def test_released_updates_are_free_at_once(uow_factory):
    await store(uow_factory, (1, A), (2, A))
    await claim(uow_factory, "w1")
    await done(uow_factory, "w1", [1])
    async with uow_factory() as uow:
        released = await uow.inbox.release(BOT, "w1", [2])
        await uow.commit()

    assert released == 1
    assert await claim(uow_factory, "w2") == [(2, A)]


async def test_done_rows_drop_their_body_and_are_pruned_after_the_redelivery_window(
    uow_factory,
):
    await store(uow_factory, (1, A), (2, A), at=AT - dt.timedelta(days=3))
    await store(uow_factory, (3, B))
    await claim(uow_factory, "w1")
    await done(uow_factory, "w1", [1, 3])

    async with uow_factory() as uow:
        pruned = await uow.inbox.prune(AT - dt.timedelta(days=2))
        await uow.commit()

    assert pruned == 1  # 2 is old but not done; 3 is done but recent
    async with uow_factory() as uow:
        assert await uow.inbox.depth(BOT) == 1
    assert await store(uow_factory, (3, B)) == [False]


async def test_a_lease_has_one_holder_until_it_expires_or_is_released(uow_factory):
    until = AT + dt.timedelta(seconds=15)

    async def acquire(holder: str, at: dt.datetime) -> bool:
        async with uow_factory() as uow:
            held = await uow.leases.acquire("jobs", holder, at, at + dt.timedelta(seconds=15))
            await uow.commit()
        return held

    first = await acquire("a", AT)
    other = await acquire("b", AT + dt.timedelta(seconds=5))
    renewed = await acquire("a", AT + dt.timedelta(seconds=10))
    still_renewed = await acquire("b", until + dt.timedelta(seconds=1))
    taken = await acquire("b", AT + dt.timedelta(seconds=26))
    async with uow_factory() as uow:
        assert await uow.leases.holder("jobs", AT + dt.timedelta(seconds=27)) == "b"
        assert await uow.leases.release("jobs", "b", AT + dt.timedelta(seconds=27))
        await uow.commit()
    after_release = await acquire("a", AT + dt.timedelta(seconds=28))

    assert (first, other, renewed, still_renewed, taken, after_release) == (
        True,
        False,
        True,
        False,
        True,
        True,
    )


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_workers_claiming_at_once_never_share_a_chat(database_url):
    engines = [create_engine(database_url) for _ in range(4)]
    factories = [functools.partial(SqlUnitOfWork, session_factory(e)) for e in engines]
    chats = [-(2000 + c) for c in range(40)]
    await store(factories[0], *[(u, chats[u % 40]) for u in range(1, 801)])
    held: dict[int, str] = {}
    seen: list[int] = []

    async def worker(name: str, factory) -> None:
        while claimed := await claim(factory, name, chats=3, per_chat=5):
            for _, chat in claimed:
                assert held.setdefault(chat, name) == name, f"chat {chat} given to two workers"
            seen.extend(u for u, _ in claimed)
            await asyncio.sleep(0)
            await done(factory, name, [u for u, _ in claimed])
            for chat in {c for _, c in claimed}:
                del held[chat]

    await asyncio.gather(*(worker(f"w{i}", f) for i, f in enumerate(factories)))
    for engine in engines:
        await engine.dispose()

    assert sorted(seen) == list(range(1, 801))


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_a_backlog_arriving_at_once_is_claimed_quickly_with_stale_statistics(
    database_url, uow_factory
):
    from sqlalchemy import insert, text

    from storage.models import InboxRow

    async with uow_factory() as uow:
        await uow.session.execute(text("ANALYZE inbox"))  # the planner believes it is empty
        await uow.session.execute(
            insert(InboxRow),
            [
                {"bot_id": BOT, "update_id": u, "chat_id": -(3000 + u % 200), "body": "{}",
                 "received_at": AT}
                for u in range(1, 20_001)
            ],
        )  # fmt: skip
        await uow.commit()
    started = asyncio.get_running_loop().time()

    claimed = await claim(uow_factory, "w1", chats=16, per_chat=50)

    assert len(claimed) == 16 * 50
    assert asyncio.get_running_loop().time() - started < 5
