"""A broadcast to 10,000 members through real `growthbot run` processes, against the Bot API
double enforcing Telegram's flood limits (429 when exceeded), killed midway and restarted.

    .venv/bin/python bench/bench_broadcast.py [--recipients 10000] [--kill-after 3000]
        [--database-url postgresql+asyncpg://...]

Prints the achieved rate as a fraction of 30 messages/s (goal >= 0.95), the 429s received
(goal 0), duplicates (must be 0), messages lost in flight at the kill (reported as
uncertain, never resent) and the time to resume after the restart.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import gc
import json
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

from bot.double import FakeTelegram
from bot.double.server import DoubleServer
from storage.migrate import upgrade
from tests.e2e.test_outbox_process import TEXT, seed
from tests.e2e.test_run_process import GROUP, _cli, _env

TELEGRAM_RATE = 30.0


def start_bot(url: str, base_url: str, workdir: Path, n: int) -> subprocess.Popen[bytes]:
    """`growthbot run`, its log in a file (a pipe nobody reads would fill and stall it)."""
    log = (workdir / f"bot{n}.log").open("wb")
    return subprocess.Popen(
        [sys.executable, "-m", "bot", "run"],
        cwd=workdir,
        env=_env(url, base_url),
        stdout=log,
        stderr=subprocess.STDOUT,
    )


def accepted(world: FakeTelegram) -> list[tuple[float, int]]:
    return [
        (c.at, int(c.params["chat_id"]))
        for c in list(world.calls)
        if c.method == "sendMessage" and c.status == 200 and c.params.get("text") == TEXT
    ]


async def status(url: str, broadcast_id: int) -> dict[str, Any]:
    """Read in-process (a CLI process every second would steal CPU from the bot)."""
    from campaigns.services.broadcasts import progress
    from storage.engine import create_engine, session_factory
    from storage.uow import SqlUnitOfWork

    engine = create_engine(url, read_only=True)
    try:
        p = await progress(
            SqlUnitOfWork(session_factory(engine)),
            broadcast_id=broadcast_id,
            now=dt.datetime.now(dt.UTC),
        )
    finally:
        await engine.dispose()
    return {"status": p.broadcast.status, "uncertain": p.uncertain, "sent": p.sent}


def rate(sends: list[tuple[float, int]]) -> float:
    if len(sends) < 2:
        return 0.0
    return (len(sends) - 1) / (sends[-1][0] - sends[0][0])


def wait(predicate: object, timeout: float, every: float = 0.5) -> None:
    """Poll gently: the double's server thread shares this process, and scanning its calls
    often would delay its answers (jitter that bunches requests into one second)."""
    deadline = time.monotonic() + timeout
    while not predicate():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise SystemExit("timed out")
        time.sleep(every)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--recipients", type=int, default=10_000)
    parser.add_argument("--kill-after", type=int, default=3_000)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    # The double timestamps a request when its thread gets the GIL: a cyclic-GC pause in this
    # process (tens of ms once it holds 10,000 recorded calls) would bunch those timestamps
    # and make it see a burst the bot never sent. Nothing here needs the cyclic collector.
    gc.disable()
    workdir = Path(tempfile.mkdtemp(prefix="bench-broadcast-"))
    url = args.database_url or f"sqlite+aiosqlite:///{workdir}/bench.db"
    upgrade(url)
    world = FakeTelegram(flood_limits=True)
    ids = seed(url, world, args.recipients)
    queued = json.loads(
        _cli(url, workdir, "broadcast", "--chat", str(GROUP), "--text", TEXT, "--yes", "--json")
    )
    print(f"{url.split(':')[0]}: broadcast to {queued['recipients']} members")
    with DoubleServer(world) as server:
        first = start_bot(url, server.base_url, workdir, 1)
        wait(lambda: len(accepted(world)) >= args.kill_after, 3600)
        first.send_signal(signal.SIGKILL)
        first.communicate(timeout=60)
        killed_at, before = time.monotonic(), len(accepted(world))
        second = start_bot(url, server.base_url, workdir, 2)
        wait(lambda: len(accepted(world)) > before, 600)
        resumed_at = accepted(world)[before][0]
        report: dict[str, Any] = {}

        def finished() -> bool:
            report.update(asyncio.run(status(url, queued["id"])))
            return report["status"] == "done"

        wait(finished, 3600, every=1.0)
        second.send_signal(signal.SIGTERM)
        second.communicate(timeout=60)

    sends = accepted(world)
    got = Counter(chat for _, chat in sends)
    duplicates = sum(n - 1 for n in got.values() if n > 1)
    lost = sum(1 for uid in ids if got[uid] == 0)
    first_run, second_run = sends[:before], sends[before:]
    print(f"  sent before the kill: {before}, after the restart: {len(second_run)}")
    for name, part in (("first process", first_run), ("after restart", second_run)):
        r = rate(part)
        print(f"  {name}: {r:.2f} messages/s = {r / TELEGRAM_RATE:.3f} of 30/s")
    print(f"  429s received: {world.refused_429}")
    sent_at = sorted(t for t, _ in sends)
    for c in [c for c in world.calls if c.status == 429]:
        window = [t for t in sent_at if c.at - 1 < t <= c.at]
        print(f"    429 at {c.at - sends[0][0]:.3f}s: {len(window)} sent in the second before, "
              f"first {c.at - window[0]:.3f}s before" if window else "")  # fmt: skip
    print(f"  duplicates: {duplicates}")
    print(f"  in flight at the kill (uncertain, not resent): {report['uncertain']}; "
          f"recipients without the message: {lost}")  # fmt: skip
    print(f"  resume: first message {resumed_at - killed_at:.1f} s after the kill "
          "(process start included)")  # fmt: skip


if __name__ == "__main__":
    main()
