"""The bot with its dashboard (DASHBOARD_URL set), two groups with different admins, and a
client that signs in with initData Telegram would have signed."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass

import httpx
import init_data_py
import pytest

from bot.app import stop_offline
from tests.handlers.conftest import (
    ADMIN,
    ALICE,
    BOB,
    CAROL,
    GROUP,
    MONDAY,
    OWNER,
    Harness,
    make_harness,
)

TOKEN = "123:TEST"  # the harness's bot token: Telegram signs initData with it
OTHER_GROUP = -1001500000002
OTHER_ADMIN = 31  # an admin of OTHER_GROUP only
URL = "http://bot/dashboard/"


def init_data(
    user_id: int,
    at: dt.datetime,
    *,
    token: str = TOKEN,
    language: str = "en",
    start_param: str | None = None,
) -> str:
    """initData as Telegram hands it to a Mini App opened by `user_id` at `at`."""
    fields = {"user": json.dumps({"id": user_id, "first_name": "Op", "language_code": language})}
    if start_param is not None:
        fields["start_param"] = start_param
    fields["query_id"] = "AAHdF6IQAAAAAN0XohDhrOrc"
    return init_data_py.sign(fields, token, auth_date=at)


@dataclass
class Board:
    """The bot (harness) and an HTTP client on its app, as a browser of the dashboard."""

    bot: Harness
    http: httpx.AsyncClient

    async def sign_in(self, user_id: int, **kwargs: object) -> httpx.Response:
        data = init_data(user_id, self.bot.clock.now(), **kwargs)  # type: ignore[arg-type]
        return await self.http.post("/dashboard/auth", data={"init_data": data})

    async def private(self, user_id: int, text: str) -> list[str]:
        """`user_id` sends `text` to the bot in their private chat, now."""
        if user_id not in self.bot.world.chats:
            self.bot.world.start_private(user_id)
        return await self.bot.say(user_id, text, chat=user_id, at=self.bot.clock.now())

    async def login_link(self, user_id: int) -> str:
        """The path of the one-time link `/dashboard login` gives."""
        replies = await self.private(user_id, "/dashboard login")
        return replies[-1].split("http://bot")[1].split()[0].replace("&amp;", "&")

    async def csrf(self) -> str:
        """The session's CSRF token, as a page's forms carry it."""
        page = await self.http.get(f"/dashboard/g/{GROUP}/settings")
        marker = 'name="csrf" value="'
        start = page.text.index(marker) + len(marker)
        return page.text[start : page.text.index('"', start)]


async def seed(bot: Harness) -> None:
    """Alice and Bob speak and started the bot, Carol only speaks; Alice is tagged vip and
    the audience `vip` (tag=vip) is saved; some check-ins for the KPIs."""
    for uid in (ALICE, BOB):
        await bot.say(uid, "hello", at=MONDAY)
        bot.world.start_private(uid)
        await bot.send(bot.world.message(uid, uid, "/start", at=MONDAY))
    await bot.say(CAROL, "hi all", at=MONDAY)
    for day in range(3):
        at = bot.clock.now() - dt.timedelta(days=day, hours=1)
        await bot.say(ALICE, "/checkin", at=at)
    said = bot.world.message(GROUP, ALICE, "hi there", at=MONDAY)["message"]
    await bot.send(bot.world.message(GROUP, OWNER, "/tag vip", reply_to_message=said))
    await bot.say(OWNER, "/audience save vip tag=vip")
    await bot.flush()


async def dashboard_harness(database_url: str, **settings: object) -> Harness:
    config: dict[str, object] = {"dashboard_url": URL, "dashboard_cookie_secure": False}
    harness, _ = await make_harness(database_url, bot_owner_ids="999", **(config | settings))
    world = harness.world
    world.add_user(OTHER_ADMIN, "Otto", language_code="en")
    world.add_group(OTHER_GROUP, "Other Shop", owner=OTHER_ADMIN)
    await harness.send(world.add_bot(OTHER_GROUP, by=OTHER_ADMIN, at=MONDAY - dt.timedelta(days=1)))
    return harness


@pytest.fixture
async def board(database_url: str) -> AsyncIterator[Board]:
    harness = await dashboard_harness(database_url)
    transport = httpx.ASGITransport(app=harness.app.http)
    async with httpx.AsyncClient(transport=transport, base_url="http://bot") as client:
        yield Board(harness, client)
    await stop_offline(harness.app)


__all__ = [
    "ADMIN",
    "ALICE",
    "BOB",
    "CAROL",
    "GROUP",
    "OTHER_ADMIN",
    "OTHER_GROUP",
    "OWNER",
    "Board",
    "init_data",
    "seed",
]
