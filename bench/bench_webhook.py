"""Webhook mode under load, on loopback: the Bot API double delivers updates to real
`growthbot run --webhook` (and `growthbot worker`) processes, as Telegram would (one chat's
updates one at a time, up to 40 chats at once, retried on any non-2xx).

    PYTHONPATH=. .venv/bin/python bench/bench_webhook.py [--workers 1 2] [--updates 4000]
        [--chats 200] [--checkin-every 10] [--rate 100] [--database-url postgresql+asyncpg://…]
        [--check]

For each number of processes: a throughput run (every update handed over at once; updates/s
from the first hand-over to the last update processed), then a latency run paced at --rate
(p50/p99 from Telegram handing the update over to the worker marking it done, and of the
webhook's acknowledgement alone). With --check (the scale-out run: `--workers 3 --updates
20000 --chats 200 --check`) it also checks that every chat's updates ran in order (each
member's check-in rank, and no update marked done before an earlier one of its chat), that
nothing was lost or doubled, and that each scheduled job ran in one process only.

PostgreSQL: a database is created next to the one in --database-url for each run and
dropped afterwards (the role needs CREATEDB). Without --database-url, SQLite, one process.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import os
import statistics
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.engine import make_url

from bot.double import FakeTelegram
from bot.double.server import DoubleServer
from storage.engine import create_engine
from storage.migrate import upgrade
from storage.models import Base, InboxRow
from tests.e2e.test_run_process import OWNER
from tests.e2e.test_webhook_process import (
    all_processed,
    check_effects,
    done_in_order,
    free_port,
    job_runs,
    receiver,
    start,
    stop,
)


def community(chats: int, per_chat: int) -> tuple[FakeTelegram, dict[int, list[int]]]:
    world = FakeTelegram()
    world.add_user(OWNER, "Olga")
    members: dict[int, list[int]] = {}
    for c in range(chats):
        chat = -1004000000000 - c
        world.add_group(chat, f"Group {c}", owner=OWNER)
        members[chat] = [8_000_000_000 + c * 1000 + i for i in range(per_chat)]
        for uid in members[chat]:
            world.add_user(uid, f"M{uid}")
    return world, members


def updates_for(
    world: FakeTelegram,
    members: dict[int, list[int]],
    n: int,
    checkin_every: int,
    first: bool,
    checked_in: dict[int, list[int]] | None = None,
) -> list[dict[str, Any]]:
    """`n` updates over the groups in turn: every `checkin_every`-th message of a group is
    the check-in of its next member (in member order), the rest chatter. `first`: each group
    starts with the bot being added."""
    now = dt.datetime.now(dt.UTC)
    chats = list(members)
    out: list[dict[str, Any]] = []
    if first:
        out += [world.add_bot(chat, by=OWNER, at=now) for chat in chats]
    said: Counter[int] = Counter()
    checked: Counter[int] = Counter()
    while len(out) < n:
        chat = chats[len(out) % len(chats)]
        ids = members[chat]
        said[chat] += 1
        if said[chat] % checkin_every == 0 and checked[chat] < len(ids):
            out.append(world.message(chat, ids[checked[chat]], "签到", at=now))
            if checked_in is not None:
                checked_in.setdefault(chat, []).append(ids[checked[chat]])
            checked[chat] += 1
        else:
            out.append(world.message(chat, ids[said[chat] % len(ids)], "hi", at=now))
    return out


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU the processes used so far (Linux /proc): a figure that other load
    on a shared machine does not distort, unlike updates/s."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for pid in pids:
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / ticks
    return total


def system_load() -> str:
    return Path("/proc/loadavg").read_text().split()[0]


def pct(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=1000)[int(q * 10) - 1] if len(values) > 1 else 0.0


async def done_times(url: str) -> dict[int, tuple[dt.datetime, dt.datetime]]:
    engine = create_engine(url, read_only=True)
    try:
        async with engine.connect() as conn:
            rows = await conn.execute(
                select(InboxRow.update_id, InboxRow.received_at, InboxRow.done_at)
            )
            return {u: (r, d) for u, r, d in rows}
    finally:
        await engine.dispose()


class Database:
    """A fresh database for the benchmark: an SQLite file, or a PostgreSQL database created
    next to the one named (dropped at the end) and emptied before each run."""

    def __init__(self, base: str | None, workdir: Path) -> None:
        self.base, self.workdir = base, workdir
        self.name = f"bench_webhook_{os.getpid()}"
        self.url = ""

    async def _admin(self, *statements: str, url: str | None = None) -> None:
        engine = create_engine(url or self.base or "", isolation_level="AUTOCOMMIT")
        async with engine.connect() as conn:
            for statement in statements:
                await conn.execute(text(statement))
        await engine.dispose()

    def fresh(self, run: str) -> str:
        """An empty, migrated database, with no checkpoint left to write during the run."""
        if not self.base:
            self.url = f"sqlite+aiosqlite:///{self.workdir}/{run}.db"
            upgrade(self.url)
            return self.url
        if not self.url:
            self.url = make_url(self.base).set(database=self.name).render_as_string(False)
            asyncio.run(
                self._admin(
                    f'DROP DATABASE IF EXISTS "{self.name}"',
                    f'CREATE DATABASE "{self.name}" STRATEGY FILE_COPY',
                )
            )
            upgrade(self.url)
        tables = ", ".join(t.name for t in Base.metadata.sorted_tables)
        asyncio.run(self._admin(f"TRUNCATE {tables} RESTART IDENTITY CASCADE", url=self.url))
        asyncio.run(self._admin("CHECKPOINT"))
        return self.url

    def drop(self) -> None:
        if self.base and self.url:
            asyncio.run(self._admin(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)'))


def run(args: argparse.Namespace, workers: int, workdir: Path, database: Database) -> None:
    world, members = community(args.chats, args.members)
    checked_in: dict[int, list[int]] = {}
    updates = updates_for(
        world, members, args.updates, args.checkin_every, first=True, checked_in=checked_in
    )
    paced = updates_for(world, members, args.paced, 10**9, first=False)  # chatter only
    port = free_port()
    world.reverse_proxy = f"http://127.0.0.1:{port}"
    level = {"LOG_LEVEL": "DEBUG" if args.check else "INFO"}
    if args.check:
        level |= {"OUTBOX_TICK_SECONDS": "1", "REFERRAL_SWEEP_SECONDS": "5"}
    names = ["run", *(f"w{i}" for i in range(1, workers))]
    rundir = workdir / f"{workers}-workers"
    rundir.mkdir()
    url = database.fresh(f"{workers}-workers")
    with DoubleServer(world) as server:
        procs = {"run": receiver(url, server.base_url, rundir, port, **level)}
        for name in names[1:]:
            procs[name] = start(["worker"], url, server.base_url, rundir, name, **level)
        try:
            deadline = time.monotonic() + 60
            while world.webhook is None or any(
                "Application started" not in (rundir / f"{n}.log").read_text() for n in names
            ):
                if time.monotonic() > deadline:
                    raise SystemExit("the bot did not start")
                time.sleep(0.1)
            pids = [p.pid for p in procs.values()]
            started, cpu, load_before = time.monotonic(), cpu_seconds(pids), system_load()
            for update in updates:
                world.push(update)
            while not all_processed(world, url, len(updates)):
                time.sleep(0.2)
            took, cpu = time.monotonic() - started, cpu_seconds(pids) - cpu
            first_paced = len(world.webhook_log.delivered)
            began = time.monotonic()
            for i, update in enumerate(paced, 1):
                world.push(update)
                lag = began + i / args.rate - time.monotonic()
                if lag > 0:
                    time.sleep(lag)
            while not all_processed(world, url, len(updates) + len(paced)):
                time.sleep(0.2)
        finally:
            logs = {name: stop(p, rundir, name) for name, p in procs.items()}
        times = asyncio.run(done_times(url))
        delivered = world.webhook_log.delivered[first_paced:]
        e2e = [(times[d.update_id][1].timestamp() - d.queued_wall) * 1000 for d in delivered]
        ack = [(d.acked_at - d.posted_at) * 1000 for d in delivered]
        db = "PostgreSQL" if args.database_url else "SQLite"
        print(
            f"{db}, {workers} process{'es' if workers > 1 else ''} (run --webhook"
            f"{f' + {workers - 1} worker' if workers > 1 else ''}{'s' if workers > 2 else ''}), "
            f"{len(updates)} updates over {args.chats} chats, 1 check-in in {args.checkin_every}:"
        )
        print(
            f"  throughput: {len(updates) / took:.0f} updates/s ({took:.1f} s; load average "
            f"{load_before} before); the bot's CPU: {cpu * 1000 / len(updates):.2f} ms per "
            f"update = {len(updates) / cpu:.0f} updates per CPU-second"
        )
        print(
            f"  paced at {args.rate:g}/s ({len(paced)} chatter): processed p50 {pct(e2e, 50):.1f} "
            f"ms, p99 {pct(e2e, 99):.1f} ms; acknowledged p50 {pct(ack, 50):.1f} ms, "
            f"p99 {pct(ack, 99):.1f} ms"
        )
        print(f"  webhook answers: {dict(world.webhook_log.answers)}")
        if args.check:
            check(world, checked_in, url, logs, len(updates) + len(paced))


def check(
    world: FakeTelegram, checked_in: dict[int, list[int]], url: str, logs, total: int
) -> None:
    """Raises unless each member who checked in did so once, ranked in their group's order."""
    unanswered, stats = check_effects(world, checked_in, url)
    counted, early = done_in_order(url)
    claims = {name: log.count("inbox: claimed") for name, log in logs.items()}
    runs = {name: job_runs(log) for name, log in logs.items()}
    leaders = [name for name, log in logs.items() if "now runs the scheduled jobs" in log]
    ran = {name: dict(r) for name, r in runs.items() if r}
    print(
        f"  updates stored {counted} of {total}, done before an earlier one of their chat: {early}"
    )
    print(f"  check-ins stored once each: yes; left unanswered: {unanswered}")
    print(f"  messages counted: {sum(s.messages for v in stats.values() for s in v)}")
    print(f"  claims per process: {claims}")
    print(f"  leader(s): {leaders}; scheduled job runs by process: {ran}")
    print(f"  double: {len(world.problems())} spec problems")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--updates", type=int, default=4000)
    parser.add_argument("--chats", type=int, default=200)
    parser.add_argument("--members", type=int, default=20)
    parser.add_argument("--checkin-every", type=int, default=10)
    parser.add_argument("--paced", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=100.0)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args()
    if args.database_url is None and max(args.workers) > 1:
        raise SystemExit("several workers need PostgreSQL: pass --database-url")
    workdir = Path(tempfile.mkdtemp(prefix="bench-webhook-"))
    print(f"logs in {workdir}")
    database = Database(args.database_url, workdir)
    try:
        for workers in args.workers:
            run(args, workers, workdir, database)
    finally:
        database.drop()


if __name__ == "__main__":
    main()
