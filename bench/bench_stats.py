"""/stats at scale: the KPI card of one big group, from the daily rollup.

    PYTHONPATH=. .venv/bin/python bench/bench_stats.py [--members 1000000] [--events 10000000]
        [--database-url postgresql+asyncpg://...]

Seeds one group in bulk SQL: `--members` memberships (joined over two years, one in fifty
gone), the member days of `--events` events (three messages per active member and day, over
the last 180 days: `events / 3` rows of member_days, each day's actives a shifted slice of a
fifth of the members), an order for one member in ten over the same days, and the 180 daily
rollup rows the writes would have kept. Then times `group_stats` (what /stats and `growthbot
stats` run) for 7, 30 and 90 days, three times each, and prints the median. SQLite in a
temporary directory by default; a PostgreSQL database given with --database-url is EMPTIED.

Goal (analytics issue): with 1,000,000 members and 10,000,000 events, /stats answers in
<= 2 s on PostgreSQL and <= 5 s on SQLite.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import statistics
import tempfile
import time
from pathlib import Path

from bench_segments import empty  # the same emptying: a PostgreSQL database is truncated
from sqlalchemy import insert, text

from campaigns.members import ChatInfo
from campaigns.services.stats import group_stats
from campaigns.settings import ChatSettings
from campaigns.stats import Asked, Kpi
from storage.engine import create_engine, is_sqlite, session_factory
from storage.models import DailyStatsRow
from storage.uow import SqlUnitOfWork

GROUP = ChatInfo(chat_id=-1005000000002, type="supergroup", title="Big")
NOW = dt.datetime(2026, 11, 30, 4, 0, tzinfo=dt.UTC)  # noon in Shanghai
TODAY = dt.date(2026, 11, 30)
DAYS = 180


def _sql(url: str, pk: int, members: int, day_rows: int) -> list[str]:
    """users, memberships, member_days, orders: one INSERT … SELECT each."""
    pool = max(members // 5, 1)  # who is ever active
    per_day = max(day_rows // DAYS, 1)
    orders = members // 10
    if is_sqlite(url):

        def series(n: int) -> str:
            last = n - 1
            return (
                f"WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < {last}) "
            )

        ago = "datetime('2026-11-30 04:00:00', '-' || ({expr}) || ' minutes')"
        day = "date('2026-11-30', '-' || ({expr}) || ' days')"
        tail = " FROM n"
        cast = ""
    else:

        def series(n: int) -> str:
            return ""

        ago = "timestamptz '2026-11-30 04:00:00+00' - make_interval(mins => ({expr})::int)"
        day = "date '2026-11-30' - ({expr})::int"
        cast = "::bigint"
        tail = ""

    def gen(n: int) -> str:
        return tail if is_sqlite(url) else f" FROM generate_series(0, {n - 1}) AS n(i)"

    joined = ago.format(expr=f"(i{cast} * 7919) % (730 * 1440)")
    left = ago.format(expr=f"(i{cast} * 104729) % (180 * 1440)")
    return [
        series(members) + "INSERT INTO users (id, first_name, reachable, updated_at) "
        f"SELECT 100000 + i, 'M' || i, {'1' if is_sqlite(url) else 'true'}, "
        f"{ago.format(expr='0')}" + gen(members),
        series(members) + "INSERT INTO memberships (chat_id, user_id, status, present, joined_at, "
        "left_at, messages, checkins, streak, best_streak, points) "
        f"SELECT {pk}, 100000 + i, 'member', (i % 50) <> 0, {joined}, "
        f"CASE WHEN i % 50 = 0 THEN {left} END, 0, 0, 0, 0, 0" + gen(members),
        # Day d's actives: per_day members of the pool from a start that moves 1013 a day
        # (unique per member and day while per_day <= pool).
        series(per_day * DAYS) + "INSERT INTO member_days (chat_id, user_id, day) "
        f"SELECT {pk}, 100000 + ((i / {DAYS}) + (i % {DAYS}) * 1013) % {pool}, "
        f"{day.format(expr=f'i % {DAYS}')}" + gen(per_day * DAYS),
        series(orders) + "INSERT INTO orders (chat_id, external_id, user_id, amount, currency, at, "
        "coupon_codes, source, created_at) "
        f"SELECT {pk}, 'o' || i, 100000 + (i{cast} * 7919) % {members}, 1000 + (i * 37) % 90000, "
        f"'CNY', {ago.format(expr=f'(i{cast} * 104729) % ({DAYS} * 1440)')}, '{{}}', 'bench', "
        f"{ago.format(expr='0')}" + gen(orders),
    ]


async def seed(url: str, members: int, events: int) -> None:
    engine = create_engine(url)
    async with SqlUnitOfWork(session_factory(engine)) as uow:
        record = await uow.chats.register(
            GROUP, active=True, bot_status=None, defaults=ChatSettings(timezone="Asia/Shanghai")
        )
        await uow.commit()
    began = time.perf_counter()
    day_rows = events // 3
    async with engine.begin() as conn:
        for statement in _sql(url, record.pk, members, day_rows):
            await conn.execute(text(statement))
        per_day = events // DAYS
        await conn.execute(
            insert(DailyStatsRow),
            [
                {"chat_id": record.pk, "day": TODAY - dt.timedelta(days=d),
                 "joins": members // 700, "leaves": members // 3500, "messages": per_day,
                 "active": day_rows // DAYS, "checkins": day_rows // DAYS // 4,
                 "invites_confirmed": members // 7000, "coupons_claimed": members // 1000,
                 "coupons_redeemed": members // 4000, "discount": members // 4000 * 1500,
                 "orders": members // 10 // DAYS, "gmv": members // 10 // DAYS * 46_000,
                 "first_orders": members // 10 // DAYS // 3}
                for d in range(DAYS + 1)
            ],
        )  # fmt: skip
        if not is_sqlite(url):
            await conn.execute(text("ANALYZE"))
    print(f"seeded {members:,} members, {events:,} events ({day_rows:,} member days), "
          f"{members // 10:,} orders in {time.perf_counter() - began:.1f} s")  # fmt: skip
    await engine.dispose()


async def time_stats(url: str) -> dict[int, float]:
    engine = create_engine(url)
    sessions = session_factory(engine)
    medians = {}
    try:
        for days in (7, 30, 90):
            took = []
            for _ in range(3):
                began = time.perf_counter()
                card = await group_stats(
                    SqlUnitOfWork(sessions), chat_id=GROUP.chat_id, asked=Asked(days), now=NOW
                )
                took.append(time.perf_counter() - began)
            medians[days] = statistics.median(took)
            runs = ", ".join(f"{t:.3f}" for t in took)
            members, mau = card[Kpi.MEMBERS].value, card[Kpi.MAU].value
            print(f"/stats {days}d: {medians[days]:.3f} s (runs {runs}); members {members}, "
                  f"MAU {mau}")  # fmt: skip
    finally:
        await engine.dispose()
    return medians


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--members", type=int, default=1_000_000)
    parser.add_argument("--events", type=int, default=None, help="default: 10 per member")
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    events = args.events if args.events is not None else args.members * 10
    with tempfile.TemporaryDirectory() as folder:
        url = args.database_url or f"sqlite+aiosqlite:///{Path(folder) / 'stats.db'}"
        await empty(url)
        await seed(url, args.members, events)
        goal = 5.0 if is_sqlite(url) else 2.0
        medians = await time_stats(url)
        worst = max(medians.values())
        verdict = "met" if worst <= goal else "NOT met"
        print(f"slowest median {worst:.3f} s; goal <= {goal:.0f} s: {verdict}")


if __name__ == "__main__":
    asyncio.run(main())
