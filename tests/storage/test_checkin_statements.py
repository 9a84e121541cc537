"""A check-in's first statements run on the driver (SQLite: compiled from the Core
statements; PostgreSQL: one statement of CTEs). Both must store and answer exactly what the
plain Core statements do (`SqlUpdateLog.claim`, then `SqlMembers.seen_in`), member by member."""

from __future__ import annotations

import asyncio
import datetime as dt
from typing import Any

import pytest
from sqlalchemy import select, text, update
from sqlalchemy.dialects import postgresql

from campaigns.checkin import local_day
from campaigns.errors import AlreadyCheckedIn
from campaigns.members import ChatInfo, Person
from campaigns.ports.members import Seen
from campaigns.services.checkin import CheckedIn, check_in
from campaigns.settings import ChatSettings
from storage.engine import create_engine, session_factory
from storage.models import MembershipRow, ProcessedUpdateRow
from storage.repositories.base import Repository
from storage.repositories.members import _claim_if_done, _counters
from storage.repositories.updates import SqlUpdateLog
from storage.uow import SqlUnitOfWork

AT = dt.datetime(2026, 11, 16, 1, 2, 3, 456789, tzinfo=dt.UTC)
DAY = dt.timedelta(days=1)
ACTIVE = ChatInfo(chat_id=-1001, type="supergroup", title="Shop")
GONE = ChatInfo(chat_id=-1002, type="supergroup", title="Closed")
DEFAULTS = ChatSettings(timezone="Asia/Shanghai")
# (chat, user, update): a stored member; someone whose first words these are; a member who
# left before speaking again; a user never stored; a group the bot left; a replayed update.
CASES = [(ACTIVE, 1, 11), (ACTIVE, 2, 12), (ACTIVE, 3, 13), (ACTIVE, 99, 14), (GONE, 1, 15),
         (ACTIVE, 1, 11)]  # fmt: skip


async def _state(uow: Any) -> list[tuple[Any, ...]]:
    table = MembershipRow.__table__
    members = await uow.session.execute(  # the id aside: a sequence never goes back on PostgreSQL
        select(*(c for c in table.c if c.name != "id")).order_by(
            MembershipRow.chat_id, MembershipRow.user_id
        )
    )
    claims = await uow.session.execute(
        select(ProcessedUpdateRow.__table__).order_by(ProcessedUpdateRow.update_id)
    )
    stored = await uow.session.execute(  # as stored: on SQLite, the text of each time
        text("SELECT chat_id, user_id, last_active_at FROM memberships ORDER BY 1, 2")
    )
    return [tuple(r) for r in members] + [tuple(r) for r in claims] + [tuple(r) for r in stored]


async def _setup(uow: Any) -> None:
    active = await uow.chats.register(ACTIVE, active=True, bot_status=None, defaults=DEFAULTS)
    gone = await uow.chats.register(GONE, active=True, bot_status=None, defaults=DEFAULTS)
    await uow.users.upsert([Person(1, "Ann"), Person(2, "Bob"), Person(3, "Cy")])
    for user in (1, 3):
        await uow.members.seen_in(ACTIVE.chat_id, user, AT - dt.timedelta(days=3))
    await uow.members.seen_in(GONE.chat_id, 1, AT - dt.timedelta(days=3))
    await uow.members.update_presence(
        active.pk, 3, status="left", present=False, at=AT - dt.timedelta(days=2)
    )
    await uow.session.execute(  # Ann has a streak going, points and a tier
        update(MembershipRow)
        .where(MembershipRow.chat_id == active.pk, MembershipRow.user_id == 1)
        .values(streak=4, best_streak=6, points=120, tier=2, last_checkin_day=AT.date() - DAY)
    )
    await uow.chats.register(GONE, active=False, bot_status="left", defaults=DEFAULTS)
    assert gone.pk != active.pk
    await uow.commit()


async def _run(uow_factory: Any, plain: bool, monkeypatch: Any) -> tuple[list[Any], list[Any]]:
    if plain:  # no driver: SQLite's fallback, the two Core statements

        async def no_driver(self: Repository) -> None:
            return None

        monkeypatch.setattr(Repository, "driver", no_driver)
    answers = []
    async with uow_factory() as uow:
        for n, (chat, user, update) in enumerate(CASES):
            at = AT + dt.timedelta(minutes=n)
            if plain:
                claimed = await SqlUpdateLog(uow.session).claim(7, update, at)
                seen = await uow.members.seen_in(chat.chat_id, user, at) if claimed else None
                answers.append((claimed, seen))
            else:
                found = await uow.members.claim_and_see(7, update, chat.chat_id, user, at)
                answers.append((found.claimed, found.member))
        state = await _state(uow)  # left uncommitted: the other path starts from the same rows
    monkeypatch.undo()
    return answers, state


async def test_the_fast_path_stores_and_answers_what_the_core_statements_do(
    uow_factory, monkeypatch
):
    async with uow_factory() as uow:
        await _setup(uow)

    fast = await _run(uow_factory, plain=False, monkeypatch=monkeypatch)
    plain = await _run(uow_factory, plain=True, monkeypatch=monkeypatch)

    assert fast == plain
    answers, _ = fast
    assert [claimed for claimed, _ in answers] == [True] * 5 + [False]
    assert [seen is not None for _, seen in answers] == [True, True, True, False, False, False]
    ann = answers[0][1]
    assert (ann.streak, ann.best_streak, ann.points, ann.tier) == (4, 6, 120, 2)
    assert ann.last_checkin_day == AT.date() - DAY


# claim_if_done: a repeated 签到 refused in one statement on its own (UnitOfWork.alone).
async def _claims(uow_factory: Any) -> list[int]:
    async with uow_factory() as uow:
        rows = await uow.session.execute(select(ProcessedUpdateRow.update_id))
        return sorted(r[0] for r in rows)


async def test_a_member_done_that_day_is_claimed_once_and_anyone_else_is_left_alone(
    uow_factory, monkeypatch
):
    async with uow_factory() as uow:
        await _setup(uow)
    yesterday = AT.date() - DAY  # Ann's last check-in
    for plain in (False, True):  # on the driver, and through SQLAlchemy
        if plain:

            async def no_driver(self: Repository) -> None:
                return None

            monkeypatch.setattr(Repository, "driver", no_driver)
        base = 100 if plain else 0
        answers = []
        # Ann on her day (twice: a replay), Ann on another day, Bob (no check-in), a user
        # never stored, Ann in the group the bot left.
        for update_id, chat, user, day in [
            (base + 1, ACTIVE, 1, yesterday), (base + 1, ACTIVE, 1, yesterday),
            (base + 2, ACTIVE, 1, AT.date()), (base + 3, ACTIVE, 2, yesterday),
            (base + 4, ACTIVE, 99, yesterday), (base + 5, GONE, 1, yesterday),
        ]:  # fmt: skip
            async with uow_factory().alone() as alone:
                found = await alone.members.claim_if_done(7, update_id, chat.chat_id, user, day, AT)
                await alone.commit(durable=False)
            answers.append(found)
        monkeypatch.undo()

        first, replay, *others = answers
        assert first is not None and first.claimed and replay is not None and not replay.claimed
        assert first.member == replay.member and first.member is not None
        ann = first.member
        assert (ann.streak, ann.best_streak, ann.points, ann.tier) == (4, 6, 120, 2)
        assert ann.last_checkin_day == yesterday
        assert others == [None, None, None, None]
    assert await _claims(uow_factory) == [1, 101]  # nothing else was written


@pytest.mark.parametrize("last", [None, -2, -1, 0, 1])
async def test_the_quick_refusal_agrees_with_the_whole_check_in(uow_factory, last):
    """Two members with the same counters: one checks in with the hint that they are done
    today, one without. Same answer, same rows: the statement's pre-filter is the rule's."""
    today = local_day(AT, DEFAULTS.timezone)
    async with uow_factory() as uow:
        await _setup(uow)
        await uow.members.seen_in(ACTIVE.chat_id, 2, AT - 3 * DAY)
        pk = (await uow.chats.get(ACTIVE.chat_id)).pk
        same = MembershipRow.chat_id == pk, MembershipRow.user_id.in_([1, 2])
        day = None if last is None else today + last * DAY
        await uow.session.execute(
            update(MembershipRow)
            .where(*same)
            .values(streak=4, best_streak=6, points=120, tier=2, last_checkin_day=day)
        )
        await uow.commit()
    hint = CheckedIn()
    hint.saw(ACTIVE.chat_id, 1, today)
    outcomes = []
    learnt = CheckedIn()  # what the use case tells a caller who knew nothing
    for user, update_id, known in [(1, 21, hint), (2, 22, learnt)]:
        try:
            result = await check_in(
                uow_factory(), bot_id=7, update_id=update_id, chat=ACTIVE,
                person=Person(user, "x"), at=AT, defaults=DEFAULTS, settings=DEFAULTS,
                checked_in=known,
            )  # fmt: skip
            outcomes.append(("in", result.award, result.balance, result.best_streak))
        except AlreadyCheckedIn as refused:
            outcomes.append(("refused", refused.day, refused.streak, refused.balance))
    async with uow_factory() as uow:
        rows = await uow.session.execute(
            select(MembershipRow.streak, MembershipRow.points, MembershipRow.last_checkin_day)
            .where(*same)
            .order_by(MembershipRow.user_id)
        )
        ann, bob = rows.all()

    assert outcomes[0] == outcomes[1]
    assert ann == bob
    assert (outcomes[0][0] == "refused") == (last == 0)
    assert learnt.knows(ACTIVE.chat_id, 2, today)  # checked in now, or earlier today
    assert await _claims(uow_factory) == [21, 22]


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_on_postgresql_the_refusal_neither_waits_for_a_row_lock_nor_for_its_commit(
    uow_factory,
):
    """An activity batch holds the member's row until it commits: a repeated 签到 must not
    wait for it. And its claim stands as soon as its one statement has run."""
    async with uow_factory() as uow:
        await _setup(uow)
    yesterday = AT.date() - DAY
    async with uow_factory() as batch:  # a batch writing Ann's row, not yet committed
        await batch.session.execute(
            update(MembershipRow).where(MembershipRow.user_id == 1).values(messages=1)
        )
        async with asyncio.timeout(10):
            async with uow_factory().alone() as alone:
                found = await alone.members.claim_if_done(7, 31, ACTIVE.chat_id, 1, yesterday, AT)
                assert await _claims(uow_factory) == [31]  # visible before commit() is called
                await alone.commit(durable=False)
            known = CheckedIn()  # and the use case, told Ann is done that day, goes that way
            known.saw(ACTIVE.chat_id, 1, yesterday)
            with pytest.raises(AlreadyCheckedIn):
                await check_in(
                    uow_factory(), bot_id=7, update_id=32, chat=ACTIVE, person=Person(1, "Ann"),
                    at=AT - DAY, defaults=DEFAULTS, settings=DEFAULTS, checked_in=known,
                )  # fmt: skip
    assert found is not None and found.claimed
    assert await _claims(uow_factory) == [31, 32]


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_after_the_server_dropped_every_connection_repeats_are_refused_again_at_once(
    database_url,
):
    """A restart, a failover, a proxy's idle cut: the pool's connections are dead. The first
    statement to meet one fails (as any unit of work's would) and the pool drops them all;
    the quick refusal must not hand a dead one back to the pool again and again."""
    engine = create_engine(database_url, pool_size=3, max_overflow=0)
    make = lambda: SqlUnitOfWork(session_factory(engine))  # noqa: E731
    async with make() as uow:
        await _setup(uow)
    hint = CheckedIn()

    async def say(update_id: int) -> str:
        try:
            await check_in(
                make(), bot_id=7, update_id=update_id, chat=ACTIVE, person=Person(1, "Ann"),
                at=AT, defaults=DEFAULTS, settings=DEFAULTS, checked_in=hint,
            )  # fmt: skip
        except AlreadyCheckedIn:
            return "refused"
        except Exception as error:
            return type(error).__name__
        return "in"

    try:
        assert await say(1) == "in"
        assert await asyncio.gather(*(say(10 + i) for i in range(3))) == ["refused"] * 3
        killer = create_engine(database_url)
        async with killer.connect() as conn:
            await conn.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                    " WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            )
        await killer.dispose()
        answers = [await say(100 + i) for i in range(10)]
    finally:
        await engine.dispose()

    assert answers[1:] == ["refused"] * 9, answers


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
async def test_the_compiled_refusal_stores_and_answers_what_its_core_statement_does(
    uow_factory,
):
    async with uow_factory() as uow:
        await _setup(uow)
    yesterday = AT.date() - DAY
    shanghai = dt.timezone(dt.timedelta(hours=8))
    answers = {}
    for how in ("compiled", "core"):
        rows = []
        async with uow_factory() as uow:
            for n, at in enumerate([AT, AT.astimezone(shanghai), AT + dt.timedelta(seconds=1)]):
                params = {"bot_id": 7, "update_id": 40 + n, "chat_id": ACTIVE.chat_id,
                          "user_id": 1, "day": yesterday, "at": at}  # fmt: skip
                if how == "compiled":
                    rows.append(await uow.members.claim_if_done(**params))
                else:
                    found = await uow.session.execute(_claim_if_done(postgresql.insert), params)
                    row = found.first()
                    rows.append(Seen(bool(row[0]), _counters(row[1:])))
            stored = await uow.session.execute(
                select(ProcessedUpdateRow.update_id, ProcessedUpdateRow.processed_at).order_by(
                    ProcessedUpdateRow.update_id
                )
            )
            answers[how] = (rows, stored.all())  # rolled back: the other starts afresh
    assert answers["compiled"] == answers["core"]
    rows, stored = answers["core"]
    assert [r.claimed for r in rows] == [True, True, True]
    assert [at for _, at in stored] == [AT, AT, AT + dt.timedelta(seconds=1)]
