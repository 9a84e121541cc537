"""The dashboard at scale: each page's server time on a big group, and the JavaScript shipped.

    PYTHONPATH=. .venv/bin/python bench/bench_dashboard.py [--members 1000000] [--events N]
        [--database-url postgresql+asyncpg://...] [--runs 5]

Seeds one group as bench/bench_stats.py does (`--members` memberships, their member days and
orders, 180 days of the daily rollup), plus a saved audience and a few scheduled posts; then
asks every page of the dashboard through its real Starlette app (in process, over ASGI, so
the time is the server's: routing, the admin check, the use cases' queries, the template),
signed in as an admin, `--runs` times each, and prints the median. Then the JavaScript a page
loads, raw and gzipped as the app serves it. SQLite in a temporary directory by default; a
PostgreSQL database given with --database-url is EMPTIED.

overview.json (the /stats report the overview draws) is timed cold and cached apart: it
is not a page's HTML. Goal (dashboard issue): each page's HTML in <= 200 ms of server time
with 1,000,000 members; the JavaScript shipped <= 500 KB compressed.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import gzip
import statistics
import tempfile
import time
from pathlib import Path

import httpx
from bench_segments import empty
from bench_stats import GROUP, NOW, seed
from starlette.applications import Starlette

from bot import wiring
from bot.dashboard.auth import DashboardAuth, Identity
from bot.dashboard.routes import COOKIE, HERE, Dashboard
from bot.dashboard.sessions import SessionStore
from campaigns.content import PostContent
from campaigns.schedule import parse_when
from campaigns.settings import ChatSettings
from storage.engine import create_engine, is_sqlite, session_factory
from storage.uow import SqlUnitOfWork

ADMIN = 42
PAGES = {
    "overview (30 days)": "/",
    "overview (90 days)": "/?days=90",
    "overview.json 30d, cold": "/overview.json",
    "overview.json 90d, cold": "/overview.json?days=90",
    "overview.json 30d, cached": "/overview.json",
    "members, page 1 by points": "/members",
    "members, page 200 by spend": "/members?sort=spend&page=200",
    "members, search": "/members?q=M12345",
    "members, audience": "/members?audience=buyers",
    "campaigns": "/campaigns",
    "content": "/content",
    "commerce": "/commerce",
    "settings": "/settings",
}
SCRIPTS = (
    "vendor/echarts.min.js", "charts.js", "tg.js", "signin.js", "confirm.js", "live.js",
    "settings.js",
)  # fmt: skip


class Admin:
    """The admin check, answered yes for ADMIN: what is measured is the page, not Telegram."""

    def is_owner(self, user_id: int) -> bool:
        return False

    async def is_admin(self, chat_id: int, user_id: int) -> bool:
        return user_id == ADMIN

    async def is_member(self, chat_id: int, user_id: int) -> bool:
        return True


async def extras(url: str) -> None:
    """A saved audience (buyers) and five scheduled posts for the content page."""
    engine = create_engine(url)
    async with SqlUnitOfWork(session_factory(engine)) as uow:
        record = await uow.chats.get(GROUP.chat_id)
        assert record is not None
        await uow.audiences.save(record.pk, "buyers", "orders>=1", by=ADMIN, at=NOW)
        for i in range(5):
            when = parse_when(f"daily {9 + i}:00", "Asia/Shanghai", NOW)
            await uow.calendar.add_post(
                record.pk, PostContent(text=f"Post {i}"), when, status="active",
                next_run_at=when.next_after(NOW), created_by=ADMIN, at=NOW,
            )  # fmt: skip
        await uow.commit()
    await engine.dispose()


async def time_pages(url: str, runs: int) -> dict[str, float]:
    engine = create_engine(url)
    sessions = session_factory(engine)
    auth = DashboardAuth(bot_token="1:BENCH", secret="bench" * 4, now=lambda: NOW)
    store = SessionStore(lambda: SqlUnitOfWork(sessions), lambda: NOW, dt.timedelta(hours=12))
    dashboard = Dashboard(
        auth=auth, uow=lambda: SqlUnitOfWork(sessions), gate=Admin, sessions=store,
        now=lambda: NOW, defaults=ChatSettings(timezone="Asia/Shanghai"), secure=False,
    )  # fmt: skip
    app = Starlette(routes=[dashboard.mount()])
    cookie = auth.session_cookie(Identity(ADMIN, "zh", "csrf", session=await store.open(ADMIN)))
    medians: dict[str, float] = {}
    transport = httpx.ASGITransport(app=app)
    headers = {"Cookie": f"{COOKIE}={cookie}"}
    async with httpx.AsyncClient(
        transport=transport, base_url="http://bench", headers=headers
    ) as client:
        for name, path in PAGES.items():
            took = []
            for _ in range(runs):
                if name.endswith("cold"):
                    dashboard._reports.clear()  # the figures as the first admin to look sees them
                began = time.perf_counter()
                response = await client.get(f"/dashboard/g/{GROUP.chat_id}{path}")
                took.append(time.perf_counter() - began)
                assert response.status_code == 200, (name, response.status_code)
            medians[name] = statistics.median(took)
            print(f"{name:<28} {1000 * medians[name]:7.1f} ms median "
                  f"(runs {', '.join(f'{1000 * t:.0f}' for t in took)}; "
                  f"{len(response.content) / 1024:.0f} KB HTML)")  # fmt: skip
    await engine.dispose()
    return medians


def javascript() -> tuple[int, int]:
    """Bytes of the JavaScript the overview loads (the heaviest page), raw and gzipped."""
    raw = zipped = 0
    for name in SCRIPTS:
        data = (HERE / "static" / name).read_bytes()
        raw += len(data)
        zipped += len(gzip.compress(data, 9))
        size = len(gzip.compress(data, 9))
        print(f"{name:<28} {len(data) / 1024:7.0f} KB, {size / 1024:5.0f} KB gzipped")
    return raw, zipped


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--members", type=int, default=1_000_000)
    parser.add_argument("--events", type=int, default=None, help="default: 10 per member")
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument(
        "--reuse", action="store_true", help="time the database as a previous run left it"
    )
    args = parser.parse_args()
    events = args.events if args.events is not None else args.members * 10
    with tempfile.TemporaryDirectory() as folder:
        url = args.database_url or f"sqlite+aiosqlite:///{Path(folder) / 'dashboard.db'}"
        if not args.reuse:
            await empty(url)
            await seed(url, args.members, events)
            await extras(url)
        print(f"{'SQLite' if is_sqlite(url) else 'PostgreSQL'}, {args.members:,} members")
        medians = await time_pages(url, args.runs)
    pages = {k: v for k, v in medians.items() if ".json" not in k}  # the HTML pages
    worst = max(pages, key=lambda k: pages[k])
    verdict = "met" if medians[worst] <= 0.2 else "NOT met"
    print(f"slowest page: {worst}, {1000 * medians[worst]:.0f} ms; goal <= 200 ms: {verdict}")
    raw, zipped = javascript()
    verdict = "met" if zipped <= 500 * 1024 else "NOT met"
    print(f"JavaScript: {raw / 1024:.0f} KB, {zipped / 1024:.0f} KB gzipped; goal <= 500 KB: "
          f"{verdict}")  # fmt: skip


if __name__ == "__main__":
    wiring.install()  # the cron engine the posts' schedules need
    asyncio.run(main())
