"""Webhook mode in real processes: `growthbot run --webhook URL` behind the double's
stand-in reverse proxy, `growthbot worker`s on one PostgreSQL, SIGKILL mid-stream."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import re
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import httpx
import pytest

from bot.double import FakeTelegram
from bot.double.server import DoubleServer
from tests.e2e.db import read
from tests.e2e.test_run_process import ALICE, BOB, GROUP, OWNER, _cli, _env, _wait_for

WEBHOOK = "https://bot.example.com/tg/hook"
SECRET = "e2e_Webhook-secret"
JOB_RUN = re.compile(r"growthbot\.jobs: job (\S+) run")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start(
    command: list[str], database_url: str, base_url: str, cwd: Path, name: str, **extra: str
) -> subprocess.Popen[bytes]:
    """A growthbot process, its log in `cwd/name.log` (a pipe nobody reads would stall it)."""
    env = _env(database_url, base_url) | {
        "TELEGRAM_WEBHOOK_SECRET": SECRET,
        "ACTIVITY_FLUSH_SECONDS": "5",
    }
    with (cwd / f"{name}.log").open("ab") as log:
        return subprocess.Popen(
            [sys.executable, "-m", "bot", *command],
            cwd=cwd,
            env=env | extra,
            stdout=log,
            stderr=subprocess.STDOUT,
        )


def receiver(database_url: str, base_url: str, cwd: Path, port: int, **extra: str):
    """`growthbot run --webhook`: sets the webhook, receives on `port`, processes too."""
    return start(
        ["run", "--webhook", WEBHOOK], database_url, base_url, cwd, "run", HTTP_PORT=str(port),
        **extra,
    )  # fmt: skip


def stop(proc: subprocess.Popen[bytes], cwd: Path, name: str) -> str:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=60)
    return (cwd / f"{name}.log").read_text(errors="replace")


def club(n_members: int = 0, first: int = 7_000_000_000) -> tuple[FakeTelegram, list[int]]:
    world = FakeTelegram()
    world.add_user(OWNER, "Olga")
    world.add_user(ALICE, "Alice", language_code="en")
    world.add_user(BOB, "Bob")
    world.add_group(GROUP, "E2E Club", owner=OWNER)
    members = [first + i for i in range(n_members)]
    for uid in members:
        world.add_user(uid, f"M{uid % 10_000}")
    return world, members


def checkin_replies(world: FakeTelegram) -> Counter[int]:
    """Check-in acknowledgements per member (the reply quotes the member's message)."""
    return Counter(
        int(c.params["reply_parameters"]["message_id"]) if "reply_parameters" in c.params else -1
        for c in list(world.calls)
        if c.method == "sendMessage" and "签到成功" in c.text
    )


@pytest.mark.e2e
def test_run_with_a_webhook_sets_it_receives_processes_and_refuses_a_wrong_token(
    database_url: str, tmp_path: Path
):
    world, _ = club()
    port = free_port()
    world.reverse_proxy = f"http://127.0.0.1:{port}"
    now = dt.datetime.now(dt.UTC)
    world.add_bot(GROUP, by=OWNER, queue=True, at=now)  # waiting since before the webhook
    world.message(GROUP, ALICE, "大家好", queue=True, at=now)

    with DoubleServer(world) as server:
        proc = receiver(database_url, server.base_url, tmp_path, port)
        try:
            assert _wait_for(lambda: world.webhook is not None and world.sent(GROUP) != [])
            world.message(GROUP, ALICE, "签到", queue=True)
            world.message(GROUP, BOB, "/checkin", queue=True)
            replied = _wait_for(lambda: len(world.sent(GROUP)) >= 3)
            forged = httpx.post(
                f"http://127.0.0.1:{port}/tg/hook",
                json=world.message(GROUP, BOB, "签到"),
                headers={"X-Telegram-Bot-Api-Secret-Token": "guess"},
            )
            info = world.api_getWebhookInfo({})
            secret = world.webhook.secret if world.webhook else None
        finally:
            output = stop(proc, tmp_path, "run")

    assert replied, output
    assert proc.returncode == 0, output
    assert forged.status_code == 401
    assert (info["url"], info["pending_update_count"], secret) == (WEBHOOK, 0, SECRET)
    assert {"chat_member", "chat_join_request"} <= set(info["allowed_updates"])
    assert world.problems() == []
    texts = [c.text for c in world.sent(GROUP)]
    assert "<b>Alice</b> 签到成功，今日第 1 位！" in texts[1]
    assert "<b>Bob</b> 签到成功，今日第 2 位！" in texts[2]
    rows = json.loads(
        _cli(database_url, tmp_path, "export", "members", "--chat", str(GROUP), "--format", "json")
    )
    alice = next(r for r in rows if r["user_id"] == ALICE)
    assert (alice["messages"], alice["checkins"]) == (2, 1)


CHECKED_IN = re.compile(r"<b>(M\d+)</b> 签到成功，今日第 (\d+) 位")
CHECKED_IN_LINE = re.compile(r"第(\d+)名 <b>(M\d+)</b>")  # a line of a rush's list


def community(chats: int, per_chat: int) -> tuple[FakeTelegram, dict[int, list[int]]]:
    """`chats` groups of `per_chat` members each (names M<id>), the bot not yet added."""
    world = FakeTelegram()
    world.add_user(OWNER, "Olga")
    members: dict[int, list[int]] = {}
    for c in range(chats):
        chat = -1003000000000 - c
        world.add_group(chat, f"Group {c}", owner=OWNER)
        members[chat] = [7_000_000_000 + c * 1000 + i for i in range(per_chat)]
        for uid in members[chat]:
            world.add_user(uid, f"M{uid}")
    return world, members


def script(world: FakeTelegram, members: dict[int, list[int]], chatter: int) -> list[dict]:
    """Per group: the bot is added, every member checks in (in member order), then
    `chatter` messages; groups interleaved, as a busy morning would deliver them."""
    now = dt.datetime.now(dt.UTC)
    per_chat = {
        chat: [
            world.add_bot(chat, by=OWNER, at=now),
            *(world.message(chat, uid, "签到", at=now) for uid in ids),
            *(world.message(chat, ids[i % len(ids)], f"hi {i}", at=now) for i in range(chatter)),
        ]
        for chat, ids in members.items()
    }
    longest = max(len(u) for u in per_chat.values())
    return [u for i in range(longest) for u in (q[i] for q in per_chat.values() if i < len(q))]


def stream(world: FakeTelegram, updates: list[dict], rate: float, after=None) -> None:
    """Hand updates to Telegram at `rate` a second (it delivers them to the webhook);
    `after(n)` is called after each."""
    started = time.monotonic()
    for n, update in enumerate(updates, 1):
        world.push(update)
        if after is not None:
            after(n)
        lag = started + n / rate - time.monotonic()
        if lag > 0:
            time.sleep(lag)


def inbox_depth(database_url: str) -> int:
    from bot.inbox import inbox_depth as depth
    from storage.engine import create_engine, session_factory
    from storage.uow import SqlUnitOfWork

    async def read() -> int:
        engine = create_engine(database_url, read_only=True)
        try:
            return await depth(lambda: SqlUnitOfWork(session_factory(engine)))
        finally:
            await engine.dispose()

    return asyncio.run(read())


def holds_updates(database_url: str, pid: int) -> bool:
    """Whether the worker process `pid` holds pending updates now (its holder id is
    host:pid:random, bot/outbox.worker_id)."""
    from sqlalchemy import text

    held = text("SELECT count(*) FROM inbox WHERE done_at IS NULL AND holder LIKE :h")
    return read(database_url, held, {"h": f"%:{pid}:%"}) != [(0,)]


def all_processed(world: FakeTelegram, database_url: str, total: int) -> bool:
    hook = world.webhook
    return (
        hook is not None
        and len(world.webhook_log.delivered) >= total
        and hook.pending == 0
        and inbox_depth(database_url) == 0
    )


def acknowledged(world: FakeTelegram, chat: int) -> list[tuple[str, int]]:
    """(member, rank) of each check-in answer the group shows, in message order: answers
    alone, and lines of the lists that acknowledge a rush (each list as last edited)."""
    found: list[tuple[str, int]] = []
    for text in world.shown(chat):
        found += [(name, int(rank)) for name, rank in CHECKED_IN.findall(text)]
        found += [(name, int(rank)) for rank, name in CHECKED_IN_LINE.findall(text)]
    return found


def check_effects(world: FakeTelegram, members: dict[int, list[int]], database_url: str):
    """Every member checked in exactly once, acknowledged at most once and in their group's
    order; every chatter message counted once. Returns the check-ins left unanswered."""
    replies = {chat: acknowledged(world, chat) for chat in members}
    unanswered = 0
    for chat, ids in members.items():
        names = [name for name, _ in replies[chat]]
        assert len(names) == len(set(names)), f"a member of {chat} was answered twice"
        # Order: the k-th member to check in is told #k, and members check in in list order.
        assert all(f"M{ids[rank - 1]}" == name for name, rank in replies[chat]), replies[chat]
        unanswered += len(ids) - len(names)
    stats = member_stats(database_url, list(members))
    for chat, ids in members.items():
        checkins = {s.user_id: s.checkins for s in stats[chat] if s.checkins}
        assert checkins == dict.fromkeys(ids, 1)  # those who checked in, once; nobody else
    return unanswered, stats


def member_stats(database_url: str, chats: list[int]) -> dict[int, list]:
    """What `growthbot export members` says, for many groups at once (in process: fast)."""
    from campaigns.services.profile import export_members
    from storage.engine import create_engine, session_factory
    from storage.uow import SqlUnitOfWork

    async def read() -> dict[int, list]:
        engine = create_engine(database_url, read_only=True)
        sessions = session_factory(engine)
        at = dt.datetime.now(dt.UTC)
        try:
            return {
                chat: await export_members(SqlUnitOfWork(sessions), chat_id=chat, at=at)
                for chat in chats
            }
        finally:
            await engine.dispose()

    return asyncio.run(read())


def job_runs(log: str) -> Counter[str]:
    return Counter(JOB_RUN.findall(log))


def before(log: str, moment: dt.datetime) -> str:
    """The log's lines stamped before `moment` (local time, as logging writes it)."""
    kept = []
    for line in log.splitlines():
        try:
            at = dt.datetime.strptime(line[:23], "%Y-%m-%d %H:%M:%S,%f")
        except ValueError:
            continue
        if at < moment:
            kept.append(line)
    return "\n".join(kept)


@pytest.mark.e2e
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_worker_killed_while_updates_stream_in_loses_and_doubles_nothing(
    database_url: str, tmp_path: Path
):
    world, members = community(chats=30, per_chat=5)
    updates = script(world, members, chatter=5)
    port = free_port()
    world.reverse_proxy = f"http://127.0.0.1:{port}"
    fast = {"INBOX_LEASE_SECONDS": "3", "LEADER_LEASE_SECONDS": "3", "LOG_LEVEL": "DEBUG"}

    with DoubleServer(world) as server:
        procs = {"run": receiver(database_url, server.base_url, tmp_path, port, WORKER_CHATS="1",
                                 **fast)}  # fmt: skip
        for name in ("w1", "w2"):
            procs[name] = start(["worker"], database_url, server.base_url, tmp_path, name, **fast)
        try:
            assert _wait_for(lambda: world.webhook is not None)

            killed = []

            def kill_midway(n: int) -> None:
                """From two thirds of the stream on, at the first moment w1 holds updates
                (a fast worker may hold none at a given instant: then nothing is taken over)."""
                if killed or n < len(updates) * 2 // 3:
                    return
                if holds_updates(database_url, procs["w1"].pid) or n == len(updates):
                    procs["w1"].send_signal(signal.SIGKILL)
                    procs["w1"].wait()  # reaped, as systemd would: its pid is gone
                    killed.append(n)

            stream(world, updates, rate=150, after=kill_midway)
            done = _wait_for(lambda: all_processed(world, database_url, len(updates)), 90)
            time.sleep(1)  # anything answered twice would be answered now
        finally:
            logs = {name: stop(p, tmp_path, name) for name, p in procs.items()}

    assert done, logs
    assert procs["w1"].returncode == -signal.SIGKILL
    assert (procs["run"].returncode, procs["w2"].returncode) == (0, 0), logs
    assert "held by a worker that is gone, taken over" in logs["run"] + logs["w2"], logs
    unanswered, stats = check_effects(world, members, database_url)
    # A reply cut off by the kill after its check-in committed is not sent again (the check-in
    # is a DuplicateUpdate the second time): at most one per chat the dead worker had.
    assert unanswered <= 16
    counted = [s.messages for chat in members for s in stats[chat]]
    assert sum(counted) == 30 * (5 + 5)  # every message counted once
    assert world.problems() == []


def done_in_order(database_url: str) -> tuple[int, int]:
    """(updates, updates marked done before an earlier one of their chat)."""
    from sqlalchemy import select

    from storage.models import InboxRow

    rows = read(database_url, select(InboxRow.chat_id, InboxRow.update_id, InboxRow.done_at))
    last: dict[int, dt.datetime] = {}
    early = 0
    for chat, _, done_at in sorted(rows, key=lambda r: r[1]):
        if done_at < last.get(chat, done_at):
            early += 1
        last[chat] = max(done_at, last.get(chat, done_at))
    return len(rows), early


@pytest.mark.e2e
def test_run_with_a_webhook_killed_mid_stream_and_restarted_loses_and_doubles_nothing(
    database_url: str, tmp_path: Path
):
    world, members = community(chats=20, per_chat=4)
    updates = script(world, members, chatter=4)
    port = free_port()
    world.reverse_proxy = f"http://127.0.0.1:{port}"

    with DoubleServer(world) as server:
        first = receiver(database_url, server.base_url, tmp_path, port)
        second = None
        try:
            assert _wait_for(lambda: world.webhook is not None)

            def kill_midway(n: int) -> None:
                if n == len(updates) // 2:
                    first.send_signal(signal.SIGKILL)
                    first.wait()

            stream(world, updates, rate=100, after=kill_midway)
            refused = world.webhook_log.answers[0]
            second = receiver(database_url, server.base_url, tmp_path, port)
            done = _wait_for(lambda: all_processed(world, database_url, len(updates)), 90)
            time.sleep(1)  # anything answered twice would be answered now
        finally:
            output = stop(second, tmp_path, "run") if second else ""
            first.kill()
            first.wait()

    assert done, output
    assert refused > 0  # Telegram found nobody while the bot was down, and retried
    unanswered, stats = check_effects(world, members, database_url)
    # Known gap: answers the killed process still held in memory (coalesced, or mid-send) are
    # not given again; only check-ins it processed can be unanswered: at most the first half.
    assert unanswered <= 20 * 4 // 2
    assert sum(s.messages for chat in members for s in stats[chat]) == 20 * (4 + 4)
    assert done_in_order(database_url) == (len(updates), 0)
    assert world.problems() == []


@pytest.mark.e2e
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_three_workers_keep_each_chat_in_order_and_run_each_job_once(
    database_url: str, tmp_path: Path
):
    world, members = community(chats=200, per_chat=2)
    updates = script(world, members, chatter=7)
    port = free_port()
    world.reverse_proxy = f"http://127.0.0.1:{port}"
    options = {"LOG_LEVEL": "DEBUG", "OUTBOX_TICK_SECONDS": "0.5", "REFERRAL_SWEEP_SECONDS": "5"}

    metrics_port = free_port()

    with DoubleServer(world) as server:
        procs = {"run": receiver(database_url, server.base_url, tmp_path, port, **options)}
        # w1 serves its health and metrics; w2 shares run's .env with HTTP_PORT and serves nothing
        w1 = ["worker", "--http-port", str(metrics_port)]
        procs["w1"] = start(w1, database_url, server.base_url, tmp_path, "w1", **options)
        procs["w2"] = start(["worker"], database_url, server.base_url, tmp_path, "w2",
                            HTTP_PORT=str(port), **options)  # fmt: skip
        try:
            assert _wait_for(lambda: world.webhook is not None)
            stream(world, updates, rate=400)
            done = _wait_for(lambda: all_processed(world, database_url, len(updates)), 120)
            worker_http = f"http://127.0.0.1:{metrics_port}"
            ready = httpx.get(f"{worker_http}/readyz", timeout=5)
            metrics = httpx.get(f"{worker_http}/metrics", timeout=5).text
            orders = httpx.post(f"{worker_http}/api/orders", content=b"{}", timeout=5)
        finally:
            stopping = dt.datetime.now()  # the logs' local time
            logs = {name: stop(p, tmp_path, name) for name, p in procs.items()}

    assert done, logs
    assert len(updates) == 2000
    assert all(p.returncode == 0 for p in procs.values()), logs
    assert ready.status_code == 200 and orders.status_code == 404
    assert "growthbot_inbox_depth 0.0" in metrics.splitlines()
    handled = [ln for ln in metrics.splitlines() if ln.startswith("growthbot_updates_total{")]
    assert sum(float(ln.rsplit(" ", 1)[1]) for ln in handled) > 0  # w1 counted its own
    claimed = {name: log.count("inbox: claimed") for name, log in logs.items()}
    assert all(claimed.values()), claimed  # every worker took part
    unanswered, stats = check_effects(world, members, database_url)
    # Known gap (README, "Correct on many machines"): coalesced answers wait in the memory of
    # the process that handled the check-in; under load (a full suite beside it) one answer
    # was missing after the stop in two of about six runs, never when run alone. More than
    # one is a regression.
    assert unanswered <= 1
    assert sum(s.messages for chat in members for s in stats[chat]) == 200 * (2 + 7)
    assert done_in_order(database_url) == (2000, 0)
    # While they ran together (a stop hands the lease to a process still running).
    logs = {name: before(log, stopping) for name, log in logs.items()}
    runs = {name: job_runs(log) for name, log in logs.items()}
    leaders = [name for name, log in logs.items() if "now runs the scheduled jobs" in log]
    assert len(leaders) == 1, leaders
    assert [name for name, r in runs.items() if r] == leaders, runs
    assert runs[leaders[0]]["outbox"] >= 2
    assert world.problems() == []
