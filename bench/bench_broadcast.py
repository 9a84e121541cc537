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
import json
import signal
import tempfile
import time
from collections import Counter
from pathlib import Path

from bot.double import FakeTelegram
from bot.double.server import DoubleServer
from storage.migrate import upgrade
from tests.e2e.test_outbox_process import TEXT, seed
from tests.e2e.test_run_process import GROUP, _cli, _run_bot

TELEGRAM_RATE = 30.0


def accepted(world: FakeTelegram) -> list[tuple[float, int]]:
    return [
        (c.at, int(c.params["chat_id"]))
        for c in list(world.calls)
        if c.method == "sendMessage" and c.status == 200 and c.params.get("text") == TEXT
    ]


def rate(sends: list[tuple[float, int]]) -> float:
    if len(sends) < 2:
        return 0.0
    return (len(sends) - 1) / (sends[-1][0] - sends[0][0])


def wait(predicate: object, timeout: float, every: float = 0.05) -> None:
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
        first = _run_bot(url, server.base_url, workdir)
        wait(lambda: len(accepted(world)) >= args.kill_after, 3600)
        first.send_signal(signal.SIGKILL)
        first.communicate(timeout=60)
        killed_at, before = time.monotonic(), len(accepted(world))
        second = _run_bot(url, server.base_url, workdir)
        wait(lambda: len(accepted(world)) > before, 600)
        resumed_at = accepted(world)[before][0]
        report: dict[str, int] = {}

        def finished() -> bool:
            report.update(json.loads(_cli(url, workdir, "broadcast", "--status", str(queued["id"]),
                                          "--json")))  # fmt: skip
            return report["status"] == "done"

        wait(finished, 3600, every=2.0)
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
    print(f"  duplicates: {duplicates}")
    print(f"  in flight at the kill (uncertain, not resent): {report['uncertain']}; "
          f"recipients without the message: {lost}")  # fmt: skip
    print(f"  resume: first message {resumed_at - killed_at:.1f} s after the kill "
          "(process start included)")  # fmt: skip


if __name__ == "__main__":
    main()
