"""Coupon claims and redemptions per second, on SQLite (default) or PostgreSQL.

    .venv/bin/python bench/bench_coupons.py [--claims 5000] [--concurrency 20]
        [--database-url postgresql+asyncpg://...]

Each claim and each redemption is the real use case in its own transaction, as a button
tap or a /redeem would run it. `--concurrency` of them run at once, as in a busy group.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from bot import wiring
from campaigns.access import ButtonKind, Tap
from campaigns.coupons import CouponKind, Template
from campaigns.members import ChatInfo, Person
from campaigns.services import coupons
from campaigns.settings import ChatSettings
from storage.engine import create_engine, session_factory
from storage.migrate import upgrade_async
from storage.uow import SqlUnitOfWork

GROUP = ChatInfo(chat_id=-1005000000001, type="supergroup", title="Bench")
AT = dt.datetime(2026, 11, 1, 1, 0, tzinfo=dt.UTC)


POSTED = Tap(chat_id=GROUP.chat_id, message_id=1)


class Everyone:
    """Every claimer is a member of the group (the benchmark measures the database)."""

    def is_owner(self, user_id: int) -> bool:
        return False

    async def is_admin(self, chat_id: int, user_id: int) -> bool:
        return False

    async def is_member(self, chat_id: int, user_id: int) -> bool:
        return True


EVERYONE = Everyone()


async def in_parallel(jobs: list[Callable[[], Awaitable[Any]]], concurrency: int) -> float:
    """Run the jobs `concurrency` at a time; seconds taken."""
    queue = list(reversed(jobs))

    async def worker() -> None:
        while queue:
            await queue.pop()()

    began = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return time.perf_counter() - began


async def run(url: str, n: int, concurrency: int) -> None:
    engine = create_engine(
        url, **({"pool_timeout": 600} if url.startswith("sqlite") else {"pool_size": concurrency})
    )
    sessions = session_factory(engine)

    def uow() -> SqlUnitOfWork:
        return SqlUnitOfWork(sessions)

    async with uow() as work:
        await work.chats.register(GROUP, active=True, bot_status=None, defaults=ChatSettings())
        await work.commit()
    offer = await coupons.create_offer(
        uow(),
        chat_id=GROUP.chat_id,
        name="满199减30",
        template=Template(CouponKind.FIXED, value=3000, min_spend=19900, valid_days=30),
        stock=n,
        per_member=1,
        at=AT,
    )
    async with uow() as work:  # members tap 🎟 on the offer's post
        await work.buttons.remember(ButtonKind.COUPON, offer.id, POSTED.chat_id, 1, AT)
        await work.commit()
    codes: list[str] = []

    def claim(i: int) -> Callable[[], Awaitable[None]]:
        async def job() -> None:
            issued = await coupons.claim(
                uow(),
                gate=EVERYONE,
                tap=POSTED,
                bot_id=1,
                update_id=i,
                template_id=offer.id,
                person=Person(10 + i),
                at=AT,
            )
            codes.append(issued.code)

        return job

    seconds = await in_parallel([claim(i) for i in range(n)], concurrency)
    print(f"claims:       {n / seconds:,.0f}/s ({n:,} in {seconds:.2f} s, {concurrency} at once)")

    def redeem(i: int, code: str) -> Callable[[], Awaitable[None]]:
        async def job() -> None:
            await coupons.redeem(
                uow(),
                bot_id=1,
                update_id=1_000_000 + i,
                chat_id=GROUP.chat_id,
                typed_code=code,
                order=25_000,
                staff_id=9,
                at=AT,
            )

        return job

    seconds = await in_parallel([redeem(i, c) for i, c in enumerate(codes)], concurrency)
    print(f"redemptions:  {len(codes) / seconds:,.0f}/s ({len(codes):,} in {seconds:.2f} s)")
    sold = await coupons.chat_coupons(uow(), chat_id=GROUP.chat_id)
    print(
        f"check:        {len(sold):,} issued of stock {n:,}, "
        f"{sum(c.status == 'used' for c in sold):,} used"
    )
    await engine.dispose()


def main() -> None:
    wiring.install()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--claims", type=int, default=5000)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"
        asyncio.run(upgrade_async(url))
        print(f"{args.claims:,} claims and redemptions on {url.split(':')[0]}")
        asyncio.run(run(url, args.claims, args.concurrency))


if __name__ == "__main__":
    main()
