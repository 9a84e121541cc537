"""Throughput and latency of the real Application vs a bare PTB Application, same run.

    .venv/bin/python bench/bench_updates.py [--updates 5000] [--members 200] [--rate 300]

Both apps get the same Bot API JSON through Update.de_json and process_update, and talk to
the same offline Bot API double (no network). The growth bot writes to SQLite in a temporary
directory. Goals (issue 2): >= 0.8 of bare PTB's updates/s; p99 <= 10 ms at 300 updates/s.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from telegram import Update
from telegram.ext import Application, MessageHandler, filters

from bot.app import build_application, start_offline, stop_offline
from bot.double import FakeTelegram
from bot.double.transport import double_request
from bot.settings import Settings
from storage.migrate import upgrade_async

GROUP = -1003000000001


def make_updates(world: FakeTelegram, n: int, members: int, every: int) -> list[dict[str, Any]]:
    """Group chatter with a check-in every `every` updates (0: chatter only)."""
    world.add_group(GROUP, "Bench")
    for uid in range(1, members + 1):
        world.add_user(uid, f"Member {uid}")
    start = dt.datetime(2026, 11, 1, 1, 0, tzinfo=dt.UTC)
    out = []
    for i in range(n):
        uid = 1 + (i * 7919) % members
        at = start + dt.timedelta(seconds=i * 5)
        text = "/checkin" if every and i % every == 0 else "hello"
        out.append(world.message(GROUP, uid, text, at=at))
    return out


def percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


async def drive(app: Any, updates: list[dict[str, Any]], rate: float | None) -> dict[str, float]:
    """Feed updates in order (optionally paced); latency = done - due time."""
    latencies: list[float] = []
    begin = time.perf_counter()
    for i, raw in enumerate(updates):
        due = begin + i / rate if rate else time.perf_counter()
        if rate:
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
        await app.process_update(Update.de_json(raw, app.bot))
        latencies.append(time.perf_counter() - due)
    elapsed = time.perf_counter() - begin
    return {
        "rate": len(updates) / elapsed,
        "p50_ms": percentile(latencies, 50) * 1000,
        "p99_ms": percentile(latencies, 99) * 1000,
    }


async def bare(updates: list[dict[str, Any]], rate: float | None) -> dict[str, float]:
    world = FakeTelegram()
    counted = 0

    async def count(update: Update, _context: Any) -> None:
        nonlocal counted
        counted += 1

    app = Application.builder().token("1:BARE").request(double_request(world)).build()
    app.add_handler(MessageHandler(filters.ALL, count))
    await app.initialize()
    result = await drive(app, updates, rate)
    await app.shutdown()
    assert counted == len(updates)
    return result


async def growth(
    updates: list[dict[str, Any]], world: FakeTelegram, tmp: Path, tag: str, rate: float | None
) -> dict[str, float]:
    url = f"sqlite+aiosqlite:///{tmp / (tag + '.db')}"
    await upgrade_async(url)
    settings = Settings(
        _env_file=None,
        telegram_bot_token="1:BENCH",
        database_url=url,
        default_timezone="Asia/Shanghai",
    )
    app = build_application(settings, request=double_request(world), set_commands=False)
    await start_offline(app)
    begin = time.perf_counter()
    result = await drive(app, updates, rate)
    await stop_offline(app)  # the final flush counts towards the time
    result["rate"] = len(updates) / (time.perf_counter() - begin)
    return result


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--updates", type=int, default=5000)
    parser.add_argument("--members", type=int, default=200)
    parser.add_argument("--rate", type=float, default=300.0)
    parser.add_argument("--checkin-every", type=int, default=10, help="0: chatter only")
    args = parser.parse_args()
    world = FakeTelegram()
    updates = make_updates(world, args.updates, args.members, args.checkin_every)
    checkins = args.updates // args.checkin_every if args.checkin_every else 0
    with tempfile.TemporaryDirectory() as tmp:
        b = await bare(updates, None)
        g = await growth(updates, world, Path(tmp), "flat", None)
        paced = await growth(updates, world, Path(tmp), "paced", args.rate)
    print(f"{args.updates} updates ({checkins} check-ins), {args.members} members, SQLite")
    print(
        f"bare PTB (count in memory): {b['rate']:8.0f} updates/s  p50 {b['p50_ms']:.2f} ms"
        f"  p99 {b['p99_ms']:.2f} ms"
    )
    print(
        f"growthbot end to end:       {g['rate']:8.0f} updates/s  p50 {g['p50_ms']:.2f} ms"
        f"  p99 {g['p99_ms']:.2f} ms"
    )
    print(f"ratio growthbot / bare PTB: {g['rate'] / b['rate']:.2f}  (goal >= 0.8)")
    print(
        f"paced at {args.rate:.0f} updates/s:     p50 {paced['p50_ms']:.2f} ms"
        f"  p99 {paced['p99_ms']:.2f} ms  (goal p99 <= 10 ms)"
    )


if __name__ == "__main__":
    asyncio.run(main())
