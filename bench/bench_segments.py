"""Segments at scale: recomputing stages, RFM and the day's counts of one big group.

    .venv/bin/python bench/bench_segments.py [--members 1000000] [--months 12]
        [--database-url postgresql+asyncpg://... | sqlite+aiosqlite:///path] [--reuse]

Seeds one group with `--members` memberships (joined over two years, last active over the
last 400 days, a third with orders) and `--months` monthly buckets per member with activity
(as the writes keep them), in bulk SQL. Then times, as the hourly job and /segments run them:
the stage refresh (first run: every member gets a stage; second: only changes), the RFM
scoring and the day's counts, and the peak resident memory of this process (the recompute
runs in the database: nothing per member is loaded). SQLite in a temporary directory by
default; a PostgreSQL database given with --database-url is EMPTIED first (an SQLite file
given is deleted). With --reuse, a database this bench seeded before with the same
--members is used as it is: only what the recompute writes (stages, scores, the RFM window's
counters, the day's counts) is reset, so the first recompute is timed again without seeding;
with --later-only nothing is reset and three later recomputes are timed.
With --rebuild-again, a database a --rebuild run left is rebuilt once more (nothing to
correct), and each statement of it that took 0.5 s or more is printed.

`--rebuild EVENTS` logs EVENTS messages (most from few members) and two orders for each third
member, then times the full rebuild of the summaries from that log (`growthbot segments
--rebuild`: member days, monthly buckets, summaries, then stages and RFM), twice: first
correcting the seeded summaries, then with nothing to correct. Use a database of its own:
the rebuild rewrites the summaries the recompute figures start from.

Goals (issue 14): with 1,000,000 members the recompute takes <= 2 s on PostgreSQL and
<= 3 s on SQLite, and the process stays under 200 MiB resident; evaluating a saved audience
over them takes <= 1 s on PostgreSQL; a full rebuild from 10,000,000 logged events takes
<= 10 s on PostgreSQL and <= 30 s on SQLite.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import resource
import sqlite3
import tempfile
import time
from pathlib import Path
from typing import Any

from sqlalchemy import text

from campaigns.members import ChatInfo
from campaigns.services.segments import refresh_group
from campaigns.settings import ChatSettings
from storage.engine import create_engine, is_sqlite, session_factory
from storage.migrate import upgrade_async
from storage.models import Base
from storage.uow import SqlUnitOfWork

GROUP = ChatInfo(chat_id=-1005000000001, type="supergroup", title="Big")
NOW = dt.datetime(2026, 11, 30, 4, 0, tzinfo=dt.UTC)


def rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


SEED_SQLITE = """
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < :members)
INSERT INTO {table} {columns} SELECT {values} FROM n
"""


async def seed(url: str, members: int, months: int) -> int:
    engine = create_engine(url)
    sessions = session_factory(engine)
    async with SqlUnitOfWork(sessions) as uow:
        record = await uow.chats.register(
            GROUP, active=True, bot_status=None, defaults=ChatSettings(timezone="Asia/Shanghai")
        )
        await uow.commit()
    pk = record.pk
    began = time.perf_counter()
    async with engine.begin() as conn:
        if is_sqlite(url):
            series = "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {n})"
            ago = "datetime('2026-11-30 04:00:00', '-' || ({expr}) || ' minutes')"
            users = series.format(n=members) + (
                " INSERT INTO users (id, first_name, reachable, updated_at) "
                "SELECT 100000 + i, 'M' || i, 1, '2026-11-30 04:00:00' FROM n"
            )
            joined = ago.format(expr="(i * 7919) % (730 * 1440)")
            active = ago.format(expr="(i * 104729) % (400 * 1440)")
            ordered = ago.format(expr="(i * 1299709) % (365 * 1440)")
            memberships = series.format(n=members) + (
                " INSERT INTO memberships (chat_id, user_id, status, present, joined_at, "
                "last_active_at, messages, checkins, streak, best_streak, points, active_days, "
                "orders, spend, last_order_at, points_earned, tier) "
                f"SELECT {pk}, 100000 + i, 'member', (i % 50) != 0, {joined}, {active}, "
                "i % 300, 0, 0, 0, i % 1000, i % 200, CASE WHEN i % 3 = 0 THEN i % 9 ELSE 0 END, "
                "CASE WHEN i % 3 = 0 THEN (i * 37) % 500000 ELSE 0 END, "
                f"CASE WHEN i % 3 = 0 THEN {ordered} END, 0, 0 FROM n"
            )
            buckets = (
                series.format(n=members)
                + f", m(k) AS (SELECT 0 UNION ALL SELECT k + 1 FROM m WHERE k < {months - 1})"
                " INSERT INTO member_months (chat_id, user_id, month, active_days, orders, "
                "spend, points_earned) "
                f"SELECT {pk}, 100000 + i, date('2026-11-01', '-' || k || ' months'), "
                "(i + k) % 25, CASE WHEN i % 3 = 0 THEN (i + k) % 3 ELSE 0 END, "
                "CASE WHEN i % 3 = 0 THEN ((i + k) * 131) % 40000 ELSE 0 END, 0 FROM n, m"
            )
        else:
            ago = "timestamptz '2026-11-30 04:00:00+00' - make_interval(mins => ({expr})::int)"
            users = (
                "INSERT INTO users (id, first_name, reachable, updated_at) "
                f"SELECT 100000 + i, 'M' || i, true, now() FROM generate_series(1, {members}) i"
            )
            joined = ago.format(expr="(i::bigint * 7919) % (730 * 1440)")
            active = ago.format(expr="(i::bigint * 104729) % (400 * 1440)")
            ordered = ago.format(expr="(i::bigint * 1299709) % (365 * 1440)")
            memberships = (
                "INSERT INTO memberships (chat_id, user_id, status, present, joined_at, "
                "last_active_at, messages, checkins, streak, best_streak, points, active_days, "
                "orders, spend, last_order_at, points_earned, tier) "
                f"SELECT {pk}, 100000 + i, 'member', (i % 50) <> 0, {joined}, {active}, "
                "i % 300, 0, 0, 0, i % 1000, i % 200, CASE WHEN i % 3 = 0 THEN i % 9 ELSE 0 END, "
                "CASE WHEN i % 3 = 0 THEN (i::bigint * 37) % 500000 ELSE 0 END, "
                f"CASE WHEN i % 3 = 0 THEN {ordered} END, 0, 0 "
                f"FROM generate_series(1, {members}) i"
            )
            buckets = (
                "INSERT INTO member_months (chat_id, user_id, month, active_days, orders, "
                "spend, points_earned) "
                f"SELECT {pk}, 100000 + i, (date '2026-11-01' - make_interval(months => k))::date, "
                "(i + k) % 25, CASE WHEN i % 3 = 0 THEN (i + k) % 3 ELSE 0 END, "
                "CASE WHEN i % 3 = 0 THEN ((i + k)::bigint * 131) % 40000 ELSE 0 END, 0 "
                f"FROM generate_series(1, {members}) i, generate_series(0, {months - 1}) k"
            )
        for statement in (users, memberships, buckets):
            await conn.execute(text(statement))
        await conn.execute(
            text(
                "INSERT INTO orders (chat_id, external_id, user_id, amount, currency, at, "
                "coupon_codes, source, created_at) VALUES "
                f"({pk}, 'x', 100003, 100, 'CNY', :at, '{{}}', 'bench', :at)"
            ),
            {"at": NOW},
        )
        if not is_sqlite(url):
            await conn.execute(text("ANALYZE"))
    print(f"seeded {members:,} members and {members * months:,} monthly buckets "
          f"in {time.perf_counter() - began:.1f} s")  # fmt: skip
    await engine.dispose()
    return pk


async def recompute(url: str, label: str) -> float:
    engine = create_engine(url)
    sessions = session_factory(engine)
    try:
        async with SqlUnitOfWork(sessions) as uow:
            record = await uow.chats.get(GROUP.chat_id)
            assert record is not None
            began = time.perf_counter()
            changes = await refresh_group(uow, record, NOW)
            await uow.commit()
            took = time.perf_counter() - began
    finally:
        await engine.dispose()
    print(f"{label}: {took:.2f} s ({len(changes):,} stage changes), peak RSS {rss_mib():.0f} MiB")
    return took


AUDIENCES = ("stage=dormant and spend>0", "rfm=at_risk or (stage=silent and orders>=2)")


async def audiences(url: str) -> None:
    """Counting what a saved audience selects (as /audience show and a broadcast do)."""
    from campaigns.audience_expr import parse

    engine = create_engine(url)
    try:
        async with SqlUnitOfWork(session_factory(engine)) as uow:
            record = await uow.chats.get(GROUP.chat_id)
            assert record is not None
            if not is_sqlite(url):
                await uow.session.execute(text("SET LOCAL jit = off"))
            for rule in AUDIENCES:
                began = time.perf_counter()
                n = await uow.audiences.count(record.pk, parse(rule), NOW)
                took = time.perf_counter() - began
                print(f"audience {rule!r}: {n:,} members in {took:.2f} s")
    finally:
        await engine.dispose()


async def empty(url: str) -> None:
    await upgrade_async(url)
    if is_sqlite(url):
        return
    engine = create_engine(url)
    names = ", ".join(t.name for t in Base.metadata.sorted_tables)
    async with engine.begin() as conn:
        await conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    await engine.dispose()


async def seeded(url: str, members: int) -> bool:
    """Whether the group is there with `members` memberships, from an earlier run."""
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            found = await conn.scalar(
                text(
                    "SELECT count(*) FROM memberships m JOIN chats c ON c.id = m.chat_id "
                    "WHERE c.telegram_id = :chat"
                ),
                {"chat": GROUP.chat_id},
            )
    except Exception:  # no such tables yet
        return False
    finally:
        await engine.dispose()
    return int(found or 0) == members


def vacuum_sqlite(path: str) -> None:
    connection = sqlite3.connect(path, isolation_level=None)
    try:
        connection.execute("VACUUM")
    finally:
        connection.close()


async def reset(url: str) -> None:
    """Back to the state after seeding: no stage, no scores, no RFM window, no counts."""
    began = time.perf_counter()
    engine = create_engine(url)
    async with engine.begin() as conn:
        await conn.execute(
            text(
                "UPDATE memberships SET stage = NULL, stage_since = NULL, rfm_r = NULL, "
                "rfm_f = NULL, rfm_m = NULL, rfm_segment = NULL, w_orders = 0, w_spend = 0, "
                "w_days = 0"
            )
        )
        await conn.execute(text("UPDATE chats SET rfm_from = NULL"))
        await conn.execute(text("DELETE FROM segment_counts"))
        await conn.execute(text("DELETE FROM activity_events WHERE kind = 'stage'"))
    if is_sqlite(url):
        await asyncio.to_thread(vacuum_sqlite, url.split("///", 1)[1])
    else:
        async with engine.connect() as conn:
            conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text("VACUUM ANALYZE memberships"))
    await engine.dispose()
    print(f"reused the seeded database, reset in {time.perf_counter() - began:.1f} s")


async def seed_log(url: str, members: int, events: int) -> None:
    """`events` messages over the last 400 days, most of them from few members (a member's
    index is a cube of a uniform draw), and two orders each for a third of the members: the
    log `--rebuild` counts the summaries from. Skipped if the group has them already."""
    engine = create_engine(url)
    async with engine.begin() as conn:
        pk = await conn.scalar(
            text("SELECT id FROM chats WHERE telegram_id = :c"), {"c": GROUP.chat_id}
        )
        found = await conn.scalar(
            text("SELECT count(*) FROM activity_events WHERE chat_id = :pk AND kind = 'message'"),
            {"pk": pk},
        )
        if int(found or 0) == events:
            print(f"reused {events:,} logged messages")
            await engine.dispose()
            return
        began = time.perf_counter()
        await conn.execute(text("DELETE FROM activity_events WHERE chat_id = :pk"), {"pk": pk})
        await conn.execute(text("DELETE FROM orders WHERE chat_id = :pk"), {"pk": pk})
        draw = "((j * 2654435761) % 1000003) / 1000003.0"
        if is_sqlite(url):
            series = (
                "WITH RECURSIVE n(j) AS (SELECT 0 UNION ALL SELECT j + 1 FROM n "
                f"WHERE j < {events - 1})"
            )
            who = f"100001 + CAST({members} * {draw} * {draw} * {draw} AS INTEGER)"
            at = (
                "datetime('2026-11-30 04:00:00', "
                "'-' || ((j * 104729) % (400 * 1440)) || ' minutes')"
            )
            messages = series + (
                " INSERT INTO activity_events (chat_id, user_id, kind, at, value, meta) "
                f"""SELECT {pk}, {who}, 'message', {at}, NULL, '{{"type": "text"}}' FROM n"""
            )
            buyers = (
                "WITH RECURSIVE n(i) AS (SELECT 3 UNION ALL SELECT i + 3 FROM n "
                f"WHERE i < {members - 2}), "
                "k(x) AS (SELECT 0 UNION ALL SELECT 1)"
            )
            bought = (
                "datetime('2026-11-30 04:00:00', "
                "'-' || ((i * 1299709 + x * 7919) % (365 * 1440)) || ' minutes')"
            )
            orders = buyers + (
                " INSERT INTO orders (chat_id, external_id, user_id, amount, currency, at, "
                "coupon_codes, source, created_at) "
                f"SELECT {pk}, 'b' || i || '-' || x, 100000 + i, 100 + (i * 37 + x * 101) % 50000, "
                f"""'CNY', {bought}, '{{"codes": []}}', 'bench', {bought} FROM n, k"""
            )
        else:
            draw = "((j::bigint * 2654435761) % 1000003) / 1000003.0"
            who = f"100001 + floor({members} * ({draw}) ^ 3)::bigint"
            at = (
                "timestamptz '2026-11-30 04:00:00+00' "
                "- make_interval(mins => ((j::bigint * 104729) % (400 * 1440))::int)"
            )
            messages = (
                "INSERT INTO activity_events (chat_id, user_id, kind, at, value, meta) "
                f"""SELECT {pk}, {who}, 'message', {at}, NULL, '{{"type": "text"}}'::json """
                f"FROM generate_series(0, {events - 1}) j"
            )
            bought = (
                "timestamptz '2026-11-30 04:00:00+00' - make_interval(mins => "
                "((i::bigint * 1299709 + x * 7919) % (365 * 1440))::int)"
            )
            orders = (
                "INSERT INTO orders (chat_id, external_id, user_id, amount, currency, at, "
                "coupon_codes, source, created_at) "
                f"SELECT {pk}, 'b' || i || '-' || x, 100000 + i, 100 + (i * 37 + x * 101) % 50000, "
                f"""'CNY', {bought}, '{{"codes": []}}'::json, 'bench', {bought} """
                f"FROM generate_series(3, {members}, 3) i, generate_series(0, 1) x"
            )
        await conn.execute(text(messages))
        await conn.execute(text(orders))
    if not is_sqlite(url):
        async with engine.connect() as conn:
            conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text("VACUUM ANALYZE activity_events"))
            await conn.execute(text("VACUUM ANALYZE orders"))
    await engine.dispose()
    print(f"logged {events:,} messages and {members // 3 * 2:,} orders "
          f"in {time.perf_counter() - began:.1f} s")  # fmt: skip


async def rebuild(url: str, label: str, statements: bool = False) -> float:
    """One rebuild, timed; with `statements`, also each statement that took 0.5 s or more
    (SQLAlchemy's cursor events), in the order they ran."""
    from sqlalchemy import event

    from campaigns.services.segments import rebuild_group

    engine = create_engine(url)
    took_each: list[tuple[float, str]] = []
    if statements:

        @event.listens_for(engine.sync_engine, "before_cursor_execute")
        def _before(conn: Any, _cursor: Any, *_: Any) -> None:
            conn.info.setdefault("began", []).append(time.perf_counter())

        @event.listens_for(engine.sync_engine, "after_cursor_execute")
        def _after(conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
            took_each.append((time.perf_counter() - conn.info["began"].pop(), statement))

    try:
        began = time.perf_counter()
        done = await rebuild_group(
            SqlUnitOfWork(session_factory(engine)), chat_id=GROUP.chat_id, now=NOW
        )
        took = time.perf_counter() - began
    finally:
        await engine.dispose()
    print(f"{label}: {took:.2f} s ({done.summaries:,} summaries corrected, "
          f"{done.stage_changes:,} stage changes), peak RSS {rss_mib():.0f} MiB")  # fmt: skip
    for seconds, statement in took_each:
        if seconds >= 0.5:
            print(f"  {seconds:6.1f} s  {' '.join(statement.split())[:90]}")
    return took


async def main(
    members: int,
    months: int,
    url: str | None,
    reuse: bool,
    events: int | None = None,
    later_only: bool = False,
    rebuild_again: bool = False,
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        url = url or f"sqlite+aiosqlite:///{Path(tmp) / 'segments.db'}"
        print(f"{'SQLite' if is_sqlite(url) else 'PostgreSQL'}, peak RSS {rss_mib():.0f} MiB")
        if rebuild_again:
            if not await seeded(url, members):
                raise SystemExit("--rebuild-again needs a database a --rebuild run seeded")
            await upgrade_async(url)
            await rebuild(url, "rebuild from the log (as it was left)", statements=True)
            return
        if later_only and await seeded(url, members):
            await upgrade_async(url)
            for _ in range(3):
                await recompute(url, "later recompute (the hourly job, stages as stored)")
            await audiences(url)
            return
        if reuse and await seeded(url, members):
            await upgrade_async(url)
            await reset(url)
        else:
            if is_sqlite(url):
                Path(url.split("///", 1)[1]).unlink(missing_ok=True)  # noqa: ASYNC240
            await empty(url)
            await seed(url, members, months)
        if events is not None:
            await seed_log(url, members, events)
            await rebuild(url, "first rebuild from the log (the seeded summaries corrected)")
            await rebuild(url, "second rebuild from the log (nothing to correct)")
            return
        await recompute(url, "first recompute (every member gets a stage)")
        await recompute(url, "second recompute (the hourly job: stages unchanged)")
        await audiences(url)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--members", type=int, default=1_000_000)
    parser.add_argument("--months", type=int, default=12)
    parser.add_argument("--database-url", default=None)
    parser.add_argument(
        "--reuse", action="store_true", help="use a database an earlier run seeded as it is"
    )
    parser.add_argument(
        "--rebuild", type=int, metavar="EVENTS", default=None,
        help="log EVENTS messages (and orders) and time `growthbot segments --rebuild` instead",
    )  # fmt: skip
    parser.add_argument(
        "--later-only", action="store_true",
        help="with a database a run left recomputed: time three later recomputes (nothing "
        "reset) and the audiences",
    )  # fmt: skip
    parser.add_argument(
        "--rebuild-again", action="store_true",
        help="with a database a --rebuild run left: time one more rebuild (nothing to correct) "
        "and print its statements that took 0.5 s or more",
    )  # fmt: skip
    args = parser.parse_args()
    asyncio.run(
        main(
            args.members, args.months, args.database_url, args.reuse, args.rebuild,
            args.later_only, args.rebuild_again,
        )
    )  # fmt: skip
