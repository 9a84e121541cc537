"""Throughput and latency of the real Application vs a bare PTB Application, same run.

    .venv/bin/python bench/bench_updates.py [--updates 5000] [--members 200] [--rate 300]
        [--checkin-every 0 10] [--database-url postgresql+asyncpg://...] [--repeat 3]
        [--profile] [--why] [--listen]

Both apps get the same Bot API JSON through Update.de_json and process_update, and talk
over HTTP on 127.0.0.1 to the same offline Bot API double (no network), run in a process of
its own as Telegram answers from elsewhere (DoubleProcess: its checks of each request are
neither the bot's CPU time nor its interpreter lock; it shares the machine's two cores).
The growth bot writes to SQLite in a temporary directory, or to the PostgreSQL database given
with --database-url (migrated, then EMPTIED before each run: give it a database of its own).
Its job queue runs as in production.

Goals (issue 13), as ratios to bare PTB in the same run: chatter only >= 0.8, one check-in in
ten >= 0.5; paced at 300 updates/s p99 <= 10 ms (chatter) and <= 25 ms (check-ins); no callback
holds the event loop for more than 5 ms. Every callback the loop runs is timed (LoopBlocks):
the longest ones are printed with the task and the line it was at.

--listen gives the group 50 watch words and 50 FAQ questions first (none of which the
chatter says), so every message is matched against a full reply book.

--profile runs the unpaced growth bot under py-spy (pip install py-spy; not a dependency)
and prints the top of the profile by cumulative samples for each mix. --why samples the
stacks of the callbacks that ran over 5 ms and prints the commonest.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import datetime as dt
import gc
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import make_url
from telegram import Update
from telegram.ext import Application, MessageHandler, filters

from bot.app import build_application, start_offline, stop_offline
from bot.double import FakeTelegram
from bot.double.server import DoubleServer
from bot.settings import Settings
from campaigns.faq import read_faq
from campaigns.members import ChatInfo
from campaigns.services.faq import save_faq
from campaigns.services.watch import add_watch_words
from storage.engine import create_engine, is_sqlite
from storage.migrate import upgrade_async
from storage.models import Base

GROUP = -1003000000001
PROJECT = ("/bot/", "/campaigns/", "/storage/", "/handlers/")
BLOCK_GOAL = 0.005


def make_updates(world: FakeTelegram, n: int, members: int, every: int) -> list[dict[str, Any]]:
    """Group chatter with a check-in every `every` updates (0: chatter only)."""
    if GROUP not in world.chats:
        world.add_group(GROUP, "Bench")
        for uid in range(1, members + 1):
            world.add_user(uid, f"Member {uid}")
    start = dt.datetime(2026, 11, 1, 1, 0, tzinfo=dt.UTC)
    out = []
    checkins = 0
    for i in range(n):
        at = start + dt.timedelta(seconds=i * 5)
        if every and i % every == 0:  # the k-th check-in's member: each once, then repeats
            uid, text = 1 + (checkins * 7919) % members, "/checkin"
            checkins += 1
        else:
            uid, text = 1 + (i * 7919) % members, "hello"
        out.append(world.message(GROUP, uid, text, at=at))
    return out


def percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


@dataclass
class LoopBlocks:
    """Times every callback the event loop runs, by wrapping asyncio's Handle._run (what
    debug mode's slow-callback warning times, without debug mode's other costs).

    A task step's time is charged to the task, described by its name and the innermost line
    of this project it is suspended at after the step (SQLAlchemy's greenlet frames are not
    on the task's stack, so a repository method is the deepest it shows). With `sample`, a
    thread also looks at the loop's stack every half millisecond while a callback has run
    for longer than the threshold: `stacks` counts where those long callbacks spent it.

    Each of the longest callbacks also shows the CPU time the loop's thread spent in it
    (the rest it was not running) and, with `sample`, how much of that rest it waited,
    ready to run, for a CPU (Linux's schedstat): on two cores shared with PostgreSQL, the
    database's process woken by a statement can take the bot's CPU for a few milliseconds.
    """

    threshold: float = BLOCK_GOAL
    sample: bool = False
    over: int = 0
    callbacks: int = 0
    worst: list[tuple[float, str]] = field(default_factory=list)
    stacks: collections.Counter[str] = field(default_factory=collections.Counter)
    _original: Any = None
    _open: bool = False
    _began: float | None = None
    _schedstat: int | None = None
    _gc_time: float = 0.0
    _gc_began: float = 0.0

    def __enter__(self) -> LoopBlocks:
        handle = asyncio.events.Handle
        self._original = original = handle._run
        clock, cpu_clock = time.perf_counter, time.thread_time
        self._open = True

        waited = self._run_queue_wait if self.sample else lambda: 0.0
        gc.callbacks.append(self._collected)

        def timed(this: Any) -> None:
            self._began = begin = clock()
            cpu_begin, queue_begin, gc_begin = cpu_clock(), waited(), self._gc_time
            original(this)
            self._began = None
            took = clock() - begin
            if not self._open:
                return  # the step that was running when the measurement ended
            self.callbacks += 1
            if took > self.threshold:
                self.over += 1
            if took > 0.001:
                gc_took = self._gc_time - gc_begin
                self._keep(took, cpu_clock() - cpu_begin, waited() - queue_begin, gc_took, this)

        handle._run = timed  # type: ignore[method-assign]
        if self.sample:
            loop_thread = threading.get_ident()
            threading.Thread(target=self._sampler, args=(loop_thread,), daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._open = False
        gc.callbacks.remove(self._collected)
        asyncio.events.Handle._run = self._original  # type: ignore[method-assign]

    def _sampler(self, loop_thread: int) -> None:
        while self._open:
            time.sleep(0.0005)
            began = self._began
            if began is None or time.perf_counter() - began < self.threshold:
                continue
            frame = sys._current_frames().get(loop_thread)
            names = []
            while frame is not None and frame.f_code.co_name != "_run":
                code = frame.f_code
                names.append(f"{Path(code.co_filename).stem}.{code.co_name}")
                frame = frame.f_back
            self.stacks[" < ".join(names[:8])] += 1

    def _run_queue_wait(self) -> float:
        """Seconds the loop's thread has waited, runnable, for a CPU (Linux schedstat)."""
        if self._schedstat is None:
            self._schedstat = os.open("/proc/thread-self/schedstat", os.O_RDONLY)
        return int(os.pread(self._schedstat, 100, 0).split()[1]) / 1e9

    def _collected(self, phase: str, info: dict[str, int]) -> None:
        """Python's garbage collector at work (gc.callbacks): its time, for the blocks."""
        if phase == "start":
            self._gc_began = time.perf_counter()
        else:
            self._gc_time += time.perf_counter() - self._gc_began

    def _keep(self, took: float, cpu: float, queued: float, gc_took: float, handle: Any) -> None:
        if len(self.worst) >= 5 and took <= self.worst[-1][0]:
            return
        how = f"cpu {cpu * 1000:.1f} ms"
        if gc_took:
            how += f" (of which collecting garbage {gc_took * 1000:.1f} ms)"
        if self.sample:
            how += f", waiting for a cpu {queued * 1000:.1f} ms"
        self.worst.append((took, f"{describe(handle)} ({how})"))
        self.worst.sort(key=lambda w: -w[0])
        del self.worst[5:]

    @property
    def max_ms(self) -> float:
        return self.worst[0][0] * 1000 if self.worst else 0.0


def describe(handle: Any) -> str:
    """Which task a callback stepped and where in this project it stopped."""
    task = getattr(handle._callback, "__self__", None)
    if not isinstance(task, asyncio.Task):
        return repr(handle._callback)[:80]
    where = "done"
    for code in reversed(awaiting(task.get_coro())):
        name = code.co_filename
        if any(p in name for p in PROJECT):
            where = f"{name[name.rfind('/', 0, name.rfind('/')) + 1 :]}:{code.co_name}"
            break
    return f"task {task.get_name()!r} at {where}"


def awaiting(coro: Any) -> list[Any]:
    """The code objects of a suspended coroutine and of everything it awaits, outermost first."""
    codes = []
    while coro is not None:
        code = getattr(coro, "cr_code", None) or getattr(coro, "gi_code", None)
        if code is None:
            break
        codes.append(code)
        coro = getattr(coro, "cr_await", None) or getattr(coro, "gi_yieldfrom", None)
    return codes


async def drive(app: Any, updates: list[dict[str, Any]], rate: float | None) -> dict[str, Any]:
    """Feed updates in order (optionally paced); latency = done - due time.

    The loop gets a turn after each update (as between updates a bot fetched apart), so the
    app's own tasks (the activity flush, the jobs) run among the updates, as in a live bot,
    rather than only when a backlog forces them into a handler.
    """
    latencies: list[float] = []
    begin, cpu = time.perf_counter(), time.process_time()
    for i, raw in enumerate(updates):
        due = begin + i / rate if rate else time.perf_counter()
        if rate:
            delay = due - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
        await app.process_update(Update.de_json(raw, app.bot))
        latencies.append(time.perf_counter() - due)
        await asyncio.sleep(0)
    elapsed = time.perf_counter() - begin
    return {
        "rate": len(updates) / elapsed,
        "cpu": (time.process_time() - cpu) / len(updates),  # this process, all its threads
        "p50_ms": percentile(latencies, 50) * 1000,
        "p99_ms": percentile(latencies, 99) * 1000,
    }


class DoubleProcess:
    """The Bot API double in a process of its own, over HTTP on 127.0.0.1, as Telegram is
    elsewhere: its checks of every request (an HTML parse of each text, say) then neither
    count as the bot's CPU time nor take the bot's interpreter lock, and the bot pays for
    its HTTP requests as it does in production. Its world is made as the updates' is
    (make_updates with the same figures), so the messages the bot replies to exist there.
    """

    def __init__(self, n: int, members: int, every: int) -> None:
        self.argv = [sys.executable, __file__, "--serve-double", str(n), str(members), str(every)]
        self.process: subprocess.Popen[str] | None = None
        self.base_url = ""

    def __enter__(self) -> DoubleProcess:
        self.process = subprocess.Popen(self.argv, stdout=subprocess.PIPE, text=True)
        assert self.process.stdout is not None
        self.base_url = self.process.stdout.readline().strip()
        if not self.base_url.startswith("http://"):
            raise RuntimeError("the double's process did not start")
        return self

    def __exit__(self, *exc: object) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait()


def serve_double(n: int, members: int, every: int) -> None:
    """The child of DoubleProcess: serve the world until terminated (keep-alive, as
    Telegram's servers keep a bot's connections)."""
    world = FakeTelegram()
    make_updates(world, n, members, every)
    server = DoubleServer(world)
    handler: Any = server.httpd.RequestHandlerClass
    handler.protocol_version = "HTTP/1.1"
    handler.disable_nagle_algorithm = True  # else its answers wait for the bot's delayed ACK
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    with server:
        print(server.base_url, flush=True)
        threading.Event().wait()


async def bare(updates: list[dict[str, Any]], rate: float | None, base_url: str) -> dict[str, Any]:
    counted = 0

    async def count(update: Update, _context: Any) -> None:
        nonlocal counted
        counted += 1

    app = Application.builder().token("1:BARE").base_url(base_url).build()
    app.add_handler(MessageHandler(filters.ALL, count))
    await app.initialize()
    result = await drive(app, updates, rate)
    await app.shutdown()
    assert counted == len(updates)
    return result


async def fresh_database(url: str | None, tmp: Path, tag: str) -> str:
    """A migrated, empty database: a new SQLite file, or the PostgreSQL one truncated."""
    if url is None:
        url = f"sqlite+aiosqlite:///{tmp / (tag + '.db')}"
    await upgrade_async(url)
    if not is_sqlite(url):
        engine = create_engine(url)
        names = ", ".join(t.name for t in Base.metadata.sorted_tables)
        async with engine.begin() as conn:
            await conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        await engine.dispose()
    return url


async def growth(
    updates: list[dict[str, Any]],
    base_url: str,
    url: str,
    rate: float | None,
    *,
    sample: bool = False,
    spy: Path | None = None,
    spy_idle: bool = True,
    listen: bool = False,
) -> dict[str, Any]:
    settings = Settings(
        _env_file=None,
        telegram_bot_token="1:BENCH",
        database_url=url,
        default_timezone="Asia/Shanghai",
        telegram_api_base_url=base_url,
    )
    app = build_application(settings, set_commands=False)
    await start_offline(app)
    if listen:
        await full_reply_book(app.bot_data.deps)
    assert app.job_queue is not None
    await app.job_queue.start()
    spying = await start_spy(spy, spy_idle) if spy else None
    with LoopBlocks(sample=sample) as blocks:
        begin, cpu = time.perf_counter(), time.process_time()
        result = await drive(app, updates, rate)
        await app.job_queue.stop(wait=True)
        await app.bot_data.deps.buffer.flush()  # the final write counts towards the time
        result["rate"] = len(updates) / (time.perf_counter() - begin)
        result["cpu"] = (time.process_time() - cpu) / len(updates)
        # Not counted: answers coalesced in a rush still waiting for the group's room in
        # Telegram's limits at the end (sent at stop): that is Telegram's pace, not the bot's.
        await stop_offline(app)
    if spying:
        spying.send_signal(signal.SIGINT)
        await spying.wait()
    result["blocks"] = blocks
    return result


async def full_reply_book(deps: Any) -> None:
    """The most a group can listen for: 50 watch words and 50 FAQs, none said by the chatter."""
    at = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
    first = -time.time_ns() // 1000  # update ids no earlier round used (SQLite is kept)
    chat = ChatInfo(GROUP, "supergroup", "Bench")
    words = ", ".join([f"投诉{i}" for i in range(25)] + [f"refund{i}" for i in range(25)])
    await add_watch_words(
        deps.uow(), update=(0, first), chat=chat, raw=words, by=None, at=at, defaults=deps.defaults
    )
    for i in range(50):
        draft = read_faq(f"发货{i}/shipping{i}/怎么+退款{i} | answer {i}")
        await save_faq(
            deps.uow(), update=(0, first - 1 - i), chat=chat, draft=draft, by=None, at=at,
            defaults=deps.defaults,
        )  # fmt: skip


async def start_spy(out: Path, idle: bool = True) -> asyncio.subprocess.Process:
    """py-spy sampling this process until it gets SIGINT: wall time, idle included, or with
    `idle` false only the samples where the thread was on the CPU (where the CPU goes)."""
    spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    command = [spy, "record", "--pid", str(os.getpid()), "--rate", "250", "-f", "speedscope"]
    process = await asyncio.create_subprocess_exec(
        *command, "--threads", *(["--idle"] if idle else []), "--nonblocking", "-o", str(out),
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    await asyncio.sleep(1.0)  # attached
    return process


def spy_top(path: Path, top: int) -> str:
    """The top of a py-spy profile of the loop's thread by inclusive samples (cumulative),
    from the first sample in `drive` to the last (py-spy's attach time left out).

    py-spy samples real stacks, so time across awaits is charged where it went (cProfile's
    cumulative counts a coroutine once per resumption and loses track at greenlet
    switches). SQLAlchemy's greenlet stacks appear as roots of their own; waiting for the
    database, a thread or the double shows as the selector's poll.
    """
    data = json.loads(path.read_text())
    frames = [f"{f['name']} ({Path(f.get('file') or '?').name}:{f.get('line')})"
              for f in data["shared"]["frames"]]  # fmt: skip
    loop = next(p for p in data["profiles"] if "MainThread" in p["name"])
    samples = loop["samples"]
    driving = [i for i, stack in enumerate(samples) if any("drive" in frames[f] for f in stack)]
    window = samples[driving[0] : driving[-1] + 1] if driving else samples
    inclusive: collections.Counter[str] = collections.Counter()
    own: collections.Counter[str] = collections.Counter()
    for stack in window:
        for name in {frames[f] for f in stack}:
            inclusive[name] += 1
        if stack:
            own[frames[stack[-1]]] += 1
    total = len(window) or 1
    lines = [f"{len(window)} samples of the loop's thread;  cum%  own%  function (file:line)"]
    shown = [(name, n) for name, n in inclusive.most_common() if not scaffolding(name)]
    for name, n in shown[:top]:
        lines.append(f"{100 * n / total:6.1f} {100 * own[name] / total:5.1f}  {name}")
    return "\n".join(lines)


SCAFFOLDING = (
    "thread (", "<module> (bench_updates", "run (runners", ".run_forever (",
    ".run_until_complete (", "._run_once (", "Handle._run (", "main (bench_updates",
    "growth (bench_updates",
)  # fmt: skip


def scaffolding(frame: str) -> bool:
    """asyncio's and this script's own frames, on every stack: they say nothing."""
    return any(part in frame for part in SCAFFOLDING) or "LoopBlocks" in frame


def mix_name(every: int) -> str:
    return "chatter only" if every == 0 else f"1 check-in in {every}"


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--updates", type=int, default=5000)
    parser.add_argument("--members", type=int, default=200)
    parser.add_argument("--rate", type=float, default=300.0)
    parser.add_argument(
        "--checkin-every", type=int, nargs="+", default=[0, 10], help="0: chatter only"
    )
    parser.add_argument("--database-url", default=None, help="default: SQLite in a temp dir")
    parser.add_argument(
        "--profile", action="store_true", help="py-spy the unpaced runs; print the tops"
    )
    parser.add_argument(
        "--cpu", action="store_true", help="with --profile: on-CPU samples only (no waiting)"
    )
    parser.add_argument("--top", type=int, default=15)
    parser.add_argument(
        "--why", action="store_true", help="sample the stacks of callbacks over 5 ms"
    )
    parser.add_argument(
        "--repeat", type=int, default=1, help="rounds per mix; medians are reported"
    )
    parser.add_argument(
        "--listen", action="store_true", help="50 watch words and 50 FAQs in the group"
    )
    args = parser.parse_args()
    where = (
        "SQLite"
        if args.database_url is None
        else make_url(args.database_url).render_as_string(hide_password=True)
    )
    print(f"{args.updates} updates, {args.members} members, {where}")
    rows = []
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        for every in args.checkin_every:
            updates = make_updates(FakeTelegram(), args.updates, args.members, every)
            with DoubleProcess(args.updates, args.members, every) as double:
                api = double.base_url
                if args.profile:
                    url = await fresh_database(args.database_url, tmp, f"profile{every}")
                    out = tmp / f"spy{every}.json"
                    g = await growth(updates, api, url, None, spy=out, spy_idle=not args.cpu)
                    kind = "on-CPU samples" if args.cpu else "wall time"
                    print(f"\n--- py-spy ({kind}), {mix_name(every)}, unpaced ({g['rate']:.0f}/s)")
                    print(spy_top(out, args.top))
                    continue
                for _ in range(args.repeat):
                    b = await bare(updates, None, api)
                    url = await fresh_database(args.database_url, tmp, f"flat{every}")
                    g = await growth(updates, api, url, None, sample=args.why, listen=args.listen)
                    url = await fresh_database(args.database_url, tmp, f"paced{every}")
                    paced = await growth(
                        updates, api, url, args.rate, sample=args.why, listen=args.listen
                    )
                    rows.append((every, b, g, paced))
    if rows:
        report(rows, args.rate, args.why)


def report(rows: list[tuple[int, Any, Any, Any]], rate: float, why: bool) -> None:
    """One line per mix: with several rounds, the median of each figure (the ratio is the
    median of each round's ratio: bare and growth bot run back to back), and the worst
    block both as the rounds' median and their maximum. `cpu` is the same ratio in CPU time
    of this process per update (PostgreSQL's own work not included): steadier than wall
    time on a machine shared with other work."""
    print(
        f"{'mix':<18} {'bare PTB':>9} {'growthbot':>10} {'ratio':>6} {'cpu':>5}"
        f"   paced at {rate:.0f}/s p50 / p99     worst loop block, callbacks > 5 ms"
    )
    mixes = sorted({every for every, *_ in rows}, key=lambda e: (e != 0, e))
    for every in mixes:
        rounds = [(b, g, p) for e, b, g, p in rows if e == every]
        worst = [max(g["blocks"].max_ms, p["blocks"].max_ms) for _b, g, p in rounds]
        over = [g["blocks"].over + p["blocks"].over for _b, g, p in rounds]
        print(
            f"{mix_name(every):<18}"
            f" {median(b['rate'] for b, _g, _p in rounds):8.0f}/s"
            f" {median(g['rate'] for _b, g, _p in rounds):8.0f}/s"
            f" {median(g['rate'] / b['rate'] for b, g, _p in rounds):6.2f}"
            f" {median(b['cpu'] / g['cpu'] for b, g, _p in rounds):5.2f}"
            f"   {median(p['p50_ms'] for *_, p in rounds):7.2f} ms"
            f" / {median(p['p99_ms'] for *_, p in rounds):7.2f} ms"
            f"     {median(worst):5.1f} ms (max {max(worst):.1f}), {median(over):.0f}"
        )
    print("goals: chatter >= 0.8, check-ins >= 0.5; p99 <= 10 ms chatter, <= 25 ms check-ins;")
    print("       no callback over 5 ms")
    for every in mixes:
        rounds = [(g, p) for e, _b, g, p in rows if e == every]
        for label, index in (("unpaced", 0), ("paced", 1)):
            run = max((r[index] for r in rounds), key=lambda x: x["blocks"].max_ms)
            print(f"longest callbacks, {mix_name(every)}, {label} (the round with the longest):")
            for took, what in run["blocks"].worst[:3]:
                print(f"  {took * 1000:6.1f} ms  {what}")
            if why:
                for stack, n in run["blocks"].stacks.most_common(6):
                    print(f"    {n:5d} x  {stack}")


def median(values: Any) -> float:
    return statistics.median(list(values))


if __name__ == "__main__":
    if sys.argv[1:2] == ["--serve-double"]:
        serve_double(*(int(a) for a in sys.argv[2:5]))
    else:
        asyncio.run(main())
