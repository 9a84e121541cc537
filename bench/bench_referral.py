"""Referral at scale: attributing joins and sweeping pending invites, time per 10k invitees.

    .venv/bin/python bench/bench_referral.py [--invitees 100000] [--inviters 1000]
        [--database-url postgresql+asyncpg://...]

Attribution runs the real use case (membership_changed with the invite link), one
transaction per join as the bot does for each chat_member update. Half the invitees then
speak (one batched write), and the sweep confirms the half whose hold has passed and who
spoke; a second sweep finds nothing due. SQLite in a temporary directory by default.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import tempfile
import time
from pathlib import Path

from bot import wiring
from campaigns.members import ChatInfo, Person
from campaigns.ports.members import MessageSeen
from campaigns.referral import ReferralProgram, parse_tiers
from campaigns.services.members import membership_changed, record_messages
from campaigns.services.referral import LinkSeen, sweep
from campaigns.settings import ChatSettings
from storage.engine import create_engine, session_factory
from storage.migrate import upgrade_async
from storage.uow import SqlUnitOfWork

GROUP = ChatInfo(chat_id=-1004000000001, type="supergroup", title="Bench")
START = dt.datetime(2026, 11, 1, 1, 0, tzinfo=dt.UTC)
PROGRAM = ReferralProgram(tiers=parse_tiers("3:50,10:200,50:1000"), burst=0)
DEFAULTS = ChatSettings(timezone="Asia/Shanghai", referral=PROGRAM)


def per_10k(seconds: float, n: int) -> str:
    return (
        f"{seconds:.2f} s for {n:,} = {seconds / n * 10_000:.2f} s per 10k ({n / seconds:,.0f}/s)"
    )


async def run(url: str, invitees: int, inviters: int) -> None:
    engine = create_engine(url)
    sessions = session_factory(engine)

    def uow() -> SqlUnitOfWork:
        return SqlUnitOfWork(sessions)

    links: list[str] = []
    async with uow() as work:
        record = await work.chats.register(GROUP, active=True, bot_status=None, defaults=DEFAULTS)
        await work.users.upsert([Person(10 + i, f"Inviter {i}") for i in range(inviters)])
        for i in range(inviters):
            await work.members.create(record.pk, 10 + i, status="member", present=True, at=START)
            url_i = f"https://t.me/+bench{i:06d}"
            await work.links.add(
                record.pk, 10 + i, url=url_i, name=f"r{10 + i}", kind="member", at=START
            )
            links.append(url_i)
        await work.commit()

    began = time.perf_counter()
    for n in range(invitees):
        uid = 1_000_000 + n
        await membership_changed(
            uow(),
            bot_id=1,
            update_id=n + 1,
            chat=GROUP,
            people=[Person(uid, f"Friend {n}")],
            status="member",
            present=True,
            at=START + dt.timedelta(seconds=n),
            source="chat_member",
            defaults=DEFAULTS,
            link=LinkSeen(url=links[n % inviters], name=None, by_bot=True),
        )
    attributed = time.perf_counter() - began
    print(f"attribution:  {per_10k(attributed, invitees)}")

    speakers = [
        MessageSeen(
            update_id=10_000_000 + n,
            chat=GROUP,
            person=Person(1_000_000 + n, f"Friend {n}"),
            at=START + dt.timedelta(seconds=n, minutes=5),
            kind="text",
        )
        for n in range(0, invitees, 2)
    ]
    began = time.perf_counter()
    for i in range(0, len(speakers), 500):  # the activity buffer's batch size
        await record_messages(
            uow(), bot_id=1, messages=speakers[i : i + 500], at=START, defaults=DEFAULTS
        )
    spoke = time.perf_counter() - began
    print(f"activity:     {per_10k(spoke, len(speakers))} (batches of 500, within the hold)")

    due = START + dt.timedelta(seconds=invitees, hours=25)
    began = time.perf_counter()
    notices = await sweep(uow, now=due)
    swept = time.perf_counter() - began
    confirmed = sum(len(n.invitees) for n in notices if n.kind == "confirmed")
    print(f"sweep:        {per_10k(swept, invitees)} pending; confirmed {confirmed:,}")

    began = time.perf_counter()
    notices = await sweep(uow, now=due + dt.timedelta(minutes=5))
    idle = time.perf_counter() - began
    print(
        f"idle sweep:   {idle:.2f} s over {invitees - confirmed:,} silent pending invites "
        f"({len(notices)} notices)"
    )
    await engine.dispose()


def main() -> None:
    wiring.install()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--invitees", type=int, default=100_000)
    parser.add_argument("--inviters", type=int, default=1_000)
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        url = args.database_url or f"sqlite+aiosqlite:///{Path(tmp) / 'bench.db'}"
        asyncio.run(upgrade_async(url))
        print(f"{args.invitees:,} invitees of {args.inviters:,} inviters on {url.split(':')[0]}")
        asyncio.run(run(url, args.invitees, args.inviters))


if __name__ == "__main__":
    main()
