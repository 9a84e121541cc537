"""A real Application wired to the Bot API double; every request is checked against the spec."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
from telegram import Update

from bot.app import GrowthApp, build_application, start_offline, stop_offline
from bot.double import FakeTelegram
from bot.double.transport import double_request
from bot.outbox import OutboxSender
from bot.settings import Settings
from handlers.callbacks import Callback, build
from tests.clock import FakeClock

GROUP = -1001500000001
STUCK_AFTER = 60.0  # seconds of real time an update may take in a handler test
OWNER = 10
ADMIN = 11
ALICE = 5_000_000_123  # beyond 32 bits, like many real ids
BOB = 21
CAROL = 22
MONDAY = dt.datetime(2026, 11, 16, 2, 0, tzinfo=dt.UTC)  # 10:00 in Shanghai
NOW = MONDAY + dt.timedelta(days=14)  # where the bot's clock starts: two weeks after MONDAY


@dataclass
class Harness:
    """Feed updates through Application.process_update; read what members saw."""

    app: GrowthApp
    world: FakeTelegram
    clock: FakeClock  # the bot's and the world's: it moves only when a test moves it

    async def send(self, update: dict[str, Any]) -> list[str]:
        before = len(self.world.calls)
        try:  # a safety net, never reached by a passing test: a hang becomes a failure
            async with asyncio.timeout(STUCK_AFTER):
                await self.app.process_update(Update.de_json(update, self.app.bot))
        except TimeoutError:
            raise AssertionError(
                f"no end to the update after {STUCK_AFTER:.0f} s of real time: the bot is "
                "probably waiting on the test clock (a group's 20 messages a minute, a "
                "private chat's 1 a second); move the clock, or spread the updates' times"
            ) from None
        return [c.text for c in self.world.calls[before:] if c.method == "sendMessage"]

    async def say(
        self, user: int, text: str, at: dt.datetime = MONDAY, chat: int = GROUP
    ) -> list[str]:
        return await self.send(self.world.message(chat, user, text, at=at))

    async def flush(self) -> None:
        await self.app.bot_data.deps.buffer.flush()

    @property
    def outbox(self) -> OutboxSender:
        sender = self.app.bot_data.deps.outbox
        assert isinstance(sender, OutboxSender)
        return sender

    async def drain(self, now: dt.datetime | None = None) -> None:
        """The sender sends everything due by `now` (the clock's time if None); its pacing
        and flood waits pass on the clock at once."""
        await self.clock.run(self.outbox.drain(now))


async def tap(bot: Harness, chat: int, user: int, data: Callback | str, **where: Any) -> str:
    """`user` taps a button in `chat` (on the bot's newest message that shows it, or `where`:
    `message_id=` / `fresh=True`); the text of the bot's answer, "" when it answered blank."""
    raw = data if isinstance(data, str) else build(data)
    await bot.send(bot.world.callback(chat, user, raw, **where))
    answer = [c for c in bot.world.calls if c.method == "answerCallbackQuery"][-1]
    return str(answer.params.get("text", ""))


async def say_many(bot: Harness, user: int, n: int, command: str) -> None:
    """`user` sends `command.format(i=i)` for i in 0..n-1, 4 seconds apart, then two minutes
    pass (long lists are made this way)."""
    for i in range(n):
        bot.clock.advance(4)
        await bot.say(user, command.format(i=i), at=bot.clock.now())
    bot.clock.advance(120)


async def make_harness(
    database_url: str, *, flood_limits: bool = False, **settings: Any
) -> tuple[Harness, GrowthApp]:
    """`flood_limits`: the double refuses what Telegram would (429 with retry_after)."""
    clock = FakeClock(NOW)
    world = FakeTelegram(clock=clock.now, monotonic=clock.monotonic, flood_limits=flood_limits)
    world.add_user(OWNER, "Olga", username="olga_owner", language_code="en")
    world.add_user(ADMIN, "Adam", language_code="en")
    world.add_user(ALICE, "Alice", last_name="Liu", username="alice", language_code="en")
    world.add_user(BOB, "鲍勃", language_code="zh-hans")
    world.add_user(CAROL, "Carol", language_code="de")
    world.add_group(GROUP, "Sunny Tea Club", owner=OWNER)
    world.set_status(GROUP, ADMIN, "administrator")
    for member in (ALICE, BOB, CAROL):
        world.set_status(GROUP, member, "member")
    config = Settings(  # type: ignore[call-arg]
        _env_file=None,
        telegram_bot_token="123:TEST",
        database_url=database_url,
        default_timezone="Asia/Shanghai",
        default_language="en",
        **settings,
    )
    app = build_application(config, request=double_request(world), clock=clock)
    await start_offline(app)
    harness = Harness(app, world, clock)
    harness.outbox.autostart = False  # each test drains the outbox when it means to
    await harness.send(world.add_bot(GROUP, by=OWNER, at=MONDAY - dt.timedelta(days=1)))
    return harness, app


@pytest.fixture
async def bot(database_url: str) -> AsyncIterator[Harness]:
    """The bot in a group with an owner, an admin and three members; English by default."""
    harness, app = await make_harness(database_url, bot_owner_ids="999")
    yield harness
    await stop_offline(app)
    assert harness.world.problems() == [], "the bot sent requests that violate the Bot API spec"
