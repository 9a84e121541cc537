"""Storage behaviour on SQLite and PostgreSQL: constraints, idempotency, migrations."""

import asyncio
import datetime as dt
import sqlite3

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from campaigns.errors import AlreadyCheckedIn, DuplicateUpdate
from campaigns.members import ChatInfo, Person
from campaigns.ports.members import MessageSeen
from campaigns.services.checkin import check_in
from campaigns.services.members import record_messages
from campaigns.services.profile import export_members
from campaigns.settings import ChatSettings
from storage.engine import create_engine
from storage.migrate import alembic_config, upgrade
from storage.models import Base, include_on

GROUP = ChatInfo(chat_id=-1009876543210, type="supergroup", title="Store")
BIG_ID = 7_123_456_789
AT = dt.datetime(2026, 11, 16, 4, 0, tzinfo=dt.UTC)
DEFAULTS = ChatSettings(timezone="Asia/Shanghai")


# SQLite cannot reflect expression indexes; the only ones (users' trigram indexes) exist on
# PostgreSQL alone, where they are compared.
@pytest.mark.filterwarnings("ignore:autogenerate skipping metadata-specified expression")
async def test_migrations_match_the_models(database_url):
    engine = create_engine(database_url)
    async with engine.connect() as conn:
        diff = await conn.run_sync(
            lambda sync: compare_metadata(
                MigrationContext.configure(
                    sync, opts={"include_object": include_on(sync.dialect.name)}
                ),
                Base.metadata,
            )
        )
    await engine.dispose()

    assert diff == []


async def test_concurrent_checkins_of_one_member_grant_once(uow_factory):
    person = Person(BIG_ID, "Big")

    results = await asyncio.gather(
        *(
            check_in(
                uow_factory(),
                bot_id=1,
                update_id=i,
                chat=GROUP,
                person=person,
                at=AT,
                defaults=DEFAULTS,
            )
            for i in range(1, 6)
        ),
        return_exceptions=True,
    )

    granted = [r for r in results if not isinstance(r, BaseException)]
    refused = [r for r in results if isinstance(r, AlreadyCheckedIn)]
    assert (len(granted), len(refused)) == (1, 4), results
    [row] = await export_members(uow_factory(), chat_id=GROUP.chat_id, at=AT)
    assert (row.user_id, row.points, row.checkins) == (BIG_ID, 10, 1)


async def test_a_week_of_checkins_keeps_the_balance_equal_to_the_ledger(uow_factory):
    from sqlalchemy import func, select

    from storage.models import LedgerRow

    person, settings = Person(BIG_ID, "Big"), ChatSettings(timezone="Asia/Shanghai")
    results = []
    for day in range(7):
        result = await check_in(
            uow_factory(), bot_id=1, update_id=day, chat=GROUP, person=person,
            at=AT + dt.timedelta(days=day), defaults=DEFAULTS, settings=settings,
        )  # fmt: skip
        results.append(result)

    async with uow_factory() as uow:
        ledger = await uow.session.scalar(
            select(func.sum(LedgerRow.delta)).where(LedgerRow.user_id == BIG_ID)
        )
    [row] = await export_members(uow_factory(), chat_id=GROUP.chat_id, at=AT)
    assert [r.award.streak for r in results] == [1, 2, 3, 4, 5, 6, 7]
    assert results[-1].award.milestone_points == 5  # day 7 of the default milestones
    assert results[-1].balance == row.points == ledger == sum(r.award.total for r in results)
    assert (row.checkins, row.streak, row.best_streak) == (7, 7, 7)


async def test_a_replayed_update_raises_duplicate_and_changes_nothing(uow_factory):
    person = Person(BIG_ID, "Big")
    await check_in(
        uow_factory(), bot_id=1, update_id=9, chat=GROUP, person=person, at=AT, defaults=DEFAULTS
    )

    try:
        await check_in(
            uow_factory(),
            bot_id=1,
            update_id=9,
            chat=GROUP,
            person=person,
            at=AT + dt.timedelta(days=1),
            defaults=DEFAULTS,
        )
        replay_raised = False
    except DuplicateUpdate:
        replay_raised = True

    assert replay_raised
    [row] = await export_members(uow_factory(), chat_id=GROUP.chat_id, at=AT)
    assert row.checkins == 1


async def test_the_same_update_id_from_another_bot_is_a_new_update(uow_factory):
    person = Person(BIG_ID, "Big")
    other_group = ChatInfo(chat_id=-1001, type="supergroup", title="Other")

    await check_in(
        uow_factory(), bot_id=1, update_id=9, chat=GROUP, person=person, at=AT, defaults=DEFAULTS
    )
    await check_in(
        uow_factory(),
        bot_id=2,
        update_id=9,
        chat=other_group,
        person=person,
        at=AT,
        defaults=DEFAULTS,
    )

    assert len(await export_members(uow_factory(), chat_id=other_group.chat_id, at=AT)) == 1


async def test_message_batches_drop_replays_within_and_across_batches(uow_factory):
    person = Person(BIG_ID, "Big")
    batch = [
        MessageSeen(update_id=u, chat=GROUP, person=person, at=AT, kind="text")
        for u in (1, 2, 2, 3)
    ]

    first = await record_messages(uow_factory(), bot_id=1, messages=batch, at=AT, defaults=DEFAULTS)
    again = await record_messages(
        uow_factory(), bot_id=1, messages=batch[:2], at=AT, defaults=DEFAULTS
    )

    assert (first.stored, again.stored) == (3, 0)
    [row] = await export_members(uow_factory(), chat_id=GROUP.chat_id, at=AT)
    assert row.messages == 3


async def test_processed_update_records_are_pruned_after_they_can_no_longer_repeat(uow_factory):
    async with uow_factory() as uow:
        await uow.updates.claim(1, 100, AT - dt.timedelta(days=3))
        await uow.updates.claim(1, 101, AT)
        pruned = await uow.updates.prune(AT - dt.timedelta(days=2))
        reclaimed = await uow.updates.claim(1, 100, AT)
        await uow.commit()

    assert pruned == 1
    assert reclaimed


async def test_ledger_keys_are_unique(uow_factory):
    async with uow_factory() as uow:
        record = await uow.chats.register(GROUP, active=True, bot_status=None, defaults=DEFAULTS)
        first = await uow.ledger.add(record.pk, BIG_ID, delta=5, reason="x", key="k1", at=AT)
        second = await uow.ledger.add(record.pk, BIG_ID, delta=5, reason="x", key="k1", at=AT)
        await uow.commit()

    assert (first, second) == (True, False)


async def test_concurrent_signals_of_one_join_log_one_join(uow_factory):
    from sqlalchemy import func, select

    from campaigns.services.members import membership_changed
    from storage.models import EventRow

    person = Person(BIG_ID, "Big")

    changed = await asyncio.gather(
        *(
            membership_changed(
                uow_factory(),
                bot_id=1,
                update_id=i,
                chat=GROUP,
                people=[person],
                status="member",
                present=True,
                at=AT,
                source="test",
                defaults=DEFAULTS,
            )
            for i in range(1, 4)
        )
    )

    assert sum(result.changed for result in changed) == 1
    async with uow_factory() as uow:
        joins = await uow.session.scalar(
            select(func.count()).select_from(EventRow).where(EventRow.kind == "join")
        )
    assert joins == 1


async def test_on_postgresql_a_pooled_connection_closed_while_resting_is_replaced_unseen(
    pg_migrated, monkeypatch
):
    """Pooled connections are pinged only after resting (not on every checkout): one that a
    server restart or an idle timeout closed meanwhile is replaced before it is used."""
    from sqlalchemy import text

    from storage import engine as engines

    monkeypatch.setattr(engines, "IDLE_PING", 0.0)
    engine = create_engine(pg_migrated, pool_size=1, max_overflow=0)
    async with engine.connect() as conn:
        pid = (await conn.execute(text("SELECT pg_backend_pid()"))).scalar()
    killer = create_engine(pg_migrated)
    async with killer.connect() as conn:
        await conn.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    await killer.dispose()

    async with engine.connect() as conn:
        answer = (await conn.execute(text("SELECT pg_backend_pid()"))).scalar()
    await engine.dispose()

    assert answer != pid


async def test_on_postgresql_only_the_activity_batches_commit_without_waiting_for_the_disk(
    pg_migrated,
):
    from sqlalchemy import text

    from storage.engine import session_factory
    from storage.uow import SqlUnitOfWork

    engine = create_engine(pg_migrated, pool_size=1, max_overflow=0)  # one connection, reused
    sessions = session_factory(engine)
    seen = []
    for durable in (False, True):
        async with SqlUnitOfWork(sessions, durable=durable) as uow:
            seen.append((await uow.session.execute(text("SHOW synchronous_commit"))).scalar())
            await uow.commit()
    await engine.dispose()

    assert seen == ["off", "on"]  # SET LOCAL: the next transaction on the connection is durable


async def test_pruning_many_update_records_deletes_exactly_the_old_ones(uow_factory):
    from storage.repositories import updates

    old = AT - dt.timedelta(days=3)
    async with uow_factory() as uow:
        await uow.updates.claim_many(1, list(range(1, 1201)), old, scope="activity")
        await uow.updates.claim_many(1, list(range(1201, 1301)), AT, scope="activity")
        pruned = await uow.updates.prune(AT - dt.timedelta(days=2))
        fresh = await uow.updates.claim_many(1, [1, 1250, 1301], AT, scope="activity")
        await uow.commit()

    assert updates.PRUNE_BATCH < 1200  # took several statements
    assert pruned == 1200
    assert fresh == {1, 1301}


async def test_recording_a_checkin_writes_everything_once(uow_factory):
    """Checkins.record (one statement on PostgreSQL, several on SQLite) stores the same:
    the balance moves by the entries stored, a second record that day writes nothing, an
    existing ledger key is not paid twice, and a backlog day leaves the latest streak."""
    from sqlalchemy import func, select

    from campaigns.checkin import CheckinAward
    from campaigns.ports.activity import PointsEntry
    from storage.models import EventRow, LedgerRow

    def granted(day: dt.date, streak: int) -> CheckinAward:
        return CheckinAward(day, streak, base_points=10, streak_points=1, milestone_points=5)

    day = dt.date(2026, 11, 16)
    async with uow_factory() as uow:
        await uow.users.upsert([Person(BIG_ID, "Big"), Person(2, "Two")])
        await uow.chats.register(GROUP, active=True, bot_status=None, defaults=DEFAULTS)
        for uid in (BIG_ID, 2):
            member = await uow.members.seen_in(GROUP.chat_id, uid, AT)
            assert member is not None
        pk = member.chat_pk
        entries = [PointsEntry("checkin", 11, "c:1"), PointsEntry("streak_milestone", 5, "c:2")]
        other = await uow.checkins.record(pk, 2, granted(day, 1), AT, [PointsEntry("x", 3, "o")])
        first = await uow.checkins.record(pk, BIG_ID, granted(day, 2), AT, entries)
        again = await uow.checkins.record(pk, BIG_ID, granted(day, 2), AT, entries)
        await uow.ledger.add(pk, BIG_ID, delta=7, reason="x", key="paid", at=AT)
        tomorrow = await uow.checkins.record(
            pk,
            BIG_ID,
            granted(day + dt.timedelta(days=1), 3),
            AT + dt.timedelta(days=1),
            [PointsEntry("checkin", 4, "paid"), PointsEntry("checkin", 2, "new")],
        )
        backlog = await uow.checkins.record(
            pk, BIG_ID, granted(day - dt.timedelta(days=1), 1), AT - dt.timedelta(days=1), []
        )
        counters = await uow.members.seen_in(GROUP.chat_id, BIG_ID, AT)
        events = await uow.session.scalar(
            select(func.count()).select_from(EventRow).where(EventRow.user_id == BIG_ID)
        )
        entries_stored = await uow.session.scalar(
            select(func.count()).select_from(LedgerRow).where(LedgerRow.user_id == BIG_ID)
        )
        await uow.commit()

    assert other is not None and other.rank == 1
    assert first is not None and (first.balance, first.best_streak, first.rank) == (16, 2, 2)
    assert again is None
    assert tomorrow is not None and (tomorrow.balance, tomorrow.rank) == (16 + 2, 1)
    assert backlog is not None and backlog.best_streak == 3
    assert counters is not None
    assert (counters.streak, counters.last_checkin_day) == (3, day + dt.timedelta(days=1))
    assert counters.points == 18  # a bare ledger entry does not move the cached balance
    assert (events, entries_stored) == (3, 4)  # nothing for "again"; "paid" once


async def test_a_claimed_update_is_not_seen_again(uow_factory):
    """Members.claim_and_see (one statement on PostgreSQL): a redelivered update claims
    nothing and leaves the member as it was; a new one registers and counts them."""
    async with uow_factory() as uow:
        await uow.users.upsert([Person(BIG_ID, "Big")])
        await uow.chats.register(GROUP, active=True, bot_status=None, defaults=DEFAULTS)
        first = await uow.members.claim_and_see(1, 5, GROUP.chat_id, BIG_ID, AT)
        later = AT + dt.timedelta(hours=1)
        replay = await uow.members.claim_and_see(1, 5, GROUP.chat_id, BIG_ID, later)
        unknown = await uow.members.claim_and_see(1, 6, -1, BIG_ID, later)
        await uow.commit()
    [row] = await export_members(uow_factory(), chat_id=GROUP.chat_id, at=AT)

    assert first.claimed and first.member is not None and first.member.points == 0
    assert (replay.claimed, replay.member) == (False, None)
    assert (unknown.claimed, unknown.member) == (True, None)  # no such group: claimed only
    assert row.last_active_at == AT


def test_this_rounds_migrations_go_down_and_up_on_sqlite_keeping_every_row(tmp_path):
    """0044 drops its column natively: a batch copy of `chats` would drop the old table, and
    with foreign keys on, every row referring to a group with it. 0043 swaps an index."""
    path = tmp_path / "m.db"
    url = f"sqlite+aiosqlite:///{path}"
    upgrade(url)
    with sqlite3.connect(path) as plain:
        plain.execute(
            "INSERT INTO chats (id, telegram_id, type, active, timezone, language,"
            " checkin_points, streak_bonus, streak_bonus_max, milestones, created_at,"
            " updated_at) VALUES (1, -100, 'supergroup', 1, 'UTC', 'en', 1, 1, 1, '{}',"
            " '2026-01-01', '2026-01-01')"
        )
        plain.execute(
            "INSERT INTO segment_counts (chat_id, day, dimension, key, members)"
            " VALUES (1, '2026-01-01', 'stage', 'new', 3)"
        )
    command.downgrade(alembic_config(url), "0042")
    with sqlite3.connect(path) as plain:
        down = plain.execute("SELECT count(*) FROM segment_counts").fetchone()[0]
        indexes = {r[0] for r in plain.execute("SELECT name FROM sqlite_master")}
    upgrade(url)
    with sqlite3.connect(path) as plain:
        up = plain.execute("SELECT count(*) FROM segment_counts").fetchone()[0]

    assert (down, up) == (1, 1)
    assert "ix_memberships_chat_segments" in indexes
    assert "ix_memberships_summary" not in indexes
