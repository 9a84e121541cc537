"""The outbox in real `growthbot run` processes against a double enforcing flood limits:
killed mid-broadcast and restarted, stopped cleanly, and two processes on one database."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import signal
import subprocess
import time
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import insert

from bot.double import FakeTelegram
from bot.double.server import DoubleServer
from tests.e2e.db import read
from tests.e2e.test_run_process import GROUP, _cli, _run_bot, _wait_for

FIRST = 7_000_000_000
TEXT = "Double 11 starts now 🎉"


def seed(url: str, world: FakeTelegram, n: int) -> list[int]:
    """A group with `n` members who started the bot (in the database and in the double)."""
    from campaigns.members import ChatInfo
    from campaigns.settings import ChatSettings
    from storage.engine import create_engine, session_factory
    from storage.models import MembershipRow, UserRow
    from storage.uow import SqlUnitOfWork

    ids = [FIRST + i for i in range(n)]
    world.add_group(GROUP, "Shop")
    for uid in ids:
        world.add_user(uid, f"M{uid % 1000}")
        world.start_private(uid)

    async def store() -> None:
        engine = create_engine(url)
        async with SqlUnitOfWork(session_factory(engine)) as uow:
            chat = await uow.chats.register(
                ChatInfo(GROUP, "supergroup", "Shop"),
                active=True,
                bot_status="administrator",
                defaults=ChatSettings(timezone="Asia/Shanghai"),
            )
            now = dt.datetime.now(dt.UTC)
            await uow.session.execute(
                insert(UserRow), [{"id": u, "first_name": "M", "reachable": True} for u in ids]
            )
            await uow.session.execute(
                insert(MembershipRow),
                [{"chat_id": chat.pk, "user_id": u, "joined_at": now} for u in ids],
            )
            await uow.commit()
        await engine.dispose()

    asyncio.run(store())
    return ids


def received(world: FakeTelegram, ids: list[int]) -> Counter[int]:
    got = Counter(
        int(c.params["chat_id"])
        for c in list(world.calls)
        if c.method == "sendMessage" and c.status == 200 and c.params.get("text") == TEXT
    )
    return Counter({uid: got[uid] for uid in ids})


def status(url: str, tmp_path: Path, broadcast_id: int) -> dict[str, int]:
    out = _cli(url, tmp_path, "broadcast", "--status", str(broadcast_id), "--json")
    return dict(json.loads(out))


def done(url: str, broadcast_id: int) -> bool:
    """The broadcast has finished, read directly: a CLI call per poll is a Python process
    start, seconds of CPU the bots under test need. The tests then ask the CLI."""
    from sqlalchemy import select

    from campaigns.outbox import BroadcastStatus
    from storage.models import BroadcastRow

    found = read(url, select(BroadcastRow.status).where(BroadcastRow.id == broadcast_id))
    return found == [(BroadcastStatus.DONE,)]


def senders(url: str) -> set[str]:
    """The processes (outbox worker ids) that sent outbox rows."""
    from sqlalchemy import select

    from campaigns.outbox import DeliveryStatus
    from storage.models import DeliveryRow

    sent = DeliveryRow.status == DeliveryStatus.SENT
    return {w for (w,) in read(url, select(DeliveryRow.worker).where(sent).distinct()) if w}


def _stop(proc: subprocess.Popen[str], sig: int = signal.SIGTERM) -> str:
    proc.send_signal(sig)
    output, _ = proc.communicate(timeout=60)
    return output


@pytest.mark.e2e
@pytest.mark.parametrize("how", [signal.SIGKILL, signal.SIGTERM])
def test_a_broadcast_killed_midway_resumes_and_reaches_everyone_once(
    database_url: str, tmp_path: Path, how: int
):
    world = FakeTelegram(flood_limits=True)
    ids = seed(database_url, world, 150)
    queued = json.loads(
        _cli(database_url, tmp_path, "broadcast", "--chat", str(GROUP), "--text", TEXT, "--yes",
             "--json")
    )  # fmt: skip

    with DoubleServer(world) as server:
        first = _run_bot(database_url, server.base_url, tmp_path)
        assert _wait_for(lambda: sum(received(world, ids).values()) >= 50, timeout=60)
        _stop(first, how)
        midway = sum(received(world, ids).values())
        second = _run_bot(database_url, server.base_url, tmp_path)
        try:
            assert _wait_for(lambda: done(database_url, queued["id"]), timeout=90)
        finally:
            output = _stop(second)

    report = status(database_url, tmp_path, queued["id"])  # as the operator asks for it
    got = received(world, ids)
    assert report["status"] == "done"
    assert queued["recipients"] == 150 and midway < 150
    assert max(got.values()) == 1, "nobody gets it twice"
    missing = [uid for uid in ids if got[uid] == 0]
    # Rows in flight at the kill are reported as uncertain (some did reach Telegram); every
    # recipient without the message is among them.
    assert len(missing) <= report["uncertain"]
    if how == signal.SIGTERM:
        assert report["uncertain"] == 0  # a clean stop finishes what it started
    else:
        assert report["uncertain"] <= 4  # at most one per sending worker
    assert report["sent"] == 150 - report["uncertain"]
    assert world.refused_429 == 0, output
    assert world.problems() == []


@pytest.mark.e2e
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)  # the scale-out store
def test_two_processes_on_one_database_send_every_post_and_message_once(
    database_url: str, tmp_path: Path
):
    world = FakeTelegram(flood_limits=True)
    ids = seed(database_url, world, 60)
    for i in range(3):  # each a little ahead of its own call: a busy machine starts CLIs slowly
        soon = (dt.datetime.now(dt.UTC) + dt.timedelta(seconds=12)).isoformat(timespec="seconds")
        _cli(database_url, tmp_path, "posts", "create", "--chat", str(GROUP), "--at", soon,
             "--text", f"Post {i}")  # fmt: skip
    queued = json.loads(
        _cli(database_url, tmp_path, "broadcast", "--chat", str(GROUP), "--text", TEXT, "--yes",
             "--json")
    )  # fmt: skip

    with DoubleServer(world) as server:
        # Telegram's 30/s is per bot, not per process: both are told the full rate, and only
        # the one holding the jobs lease sends (two at 29/s would meet 429s).
        bots = [_run_bot(database_url, server.base_url, tmp_path) for _ in range(2)]
        try:
            assert _wait_for(
                lambda: (
                    len([c for c in world.sent(GROUP) if c.status == 200]) >= 3
                    and done(database_url, queued["id"])
                ),
                timeout=90,
            )
            assert status(database_url, tmp_path, queued["id"])["status"] == "done"
            time.sleep(2)  # anything sent twice would arrive now
        finally:
            outputs = [_stop(p) for p in bots]

    posts = Counter(c.text for c in world.sent(GROUP) if c.status == 200)
    assert posts == Counter({"Post 0": 1, "Post 1": 1, "Post 2": 1}), outputs
    assert set(received(world, ids).values()) == {1}
    refused = [(c.method, c.params.get("chat_id")) for c in world.calls if c.status == 429]
    # Known gap (README, Telegram's limits): each process has its own view of the budget, and
    # now and then one private chat gets two sends within a second across the two processes;
    # the 429 is waited out and the recipient still gets the message once (asserted above).
    # More than one such refusal is a regression.
    assert world.refused_429 <= 1, (refused, outputs)
    assert len(senders(database_url)) == 1  # the leader
