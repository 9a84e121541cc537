"""Stopping the bot: every step runs even when one fails (a database gone at the last
write), each failure is one log line, and the failures are counted for the exit code."""

from __future__ import annotations

import datetime as dt
import logging

import pytest

from bot.app import Role, build_application, start_offline, stop_offline
from bot.double import FakeTelegram
from bot.double.transport import double_request
from bot.leader import JOBS
from bot.settings import Settings


async def test_a_failed_last_write_is_logged_and_the_lease_is_still_released(
    database_url, uow_factory, caplog: pytest.LogCaptureFixture
):
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, telegram_bot_token="123:TEST", database_url=database_url
    )
    app = build_application(
        settings, request=double_request(FakeTelegram()), role=Role(lead=True), set_commands=False
    )
    await start_offline(app)
    async with uow_factory() as work:
        held = await work.leases.holder(JOBS, dt.datetime.now(dt.UTC))
    deps = app.bot_data.deps

    async def down() -> None:
        raise ConnectionError("the database went away")

    deps.buffer.flush = down  # type: ignore[method-assign]
    deps.outbox.stop = down  # type: ignore[method-assign]
    with caplog.at_level(logging.INFO):
        await stop_offline(app)  # raises nothing

    async with uow_factory() as work:
        after = await work.leases.holder(JOBS, dt.datetime.now(dt.UTC))
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert held is not None and after is None  # released, after the failures before it
    assert app.stop_failures == ["stopping the outbox", "the activity buffer's last write"]
    assert [r.getMessage() for r in errors] == [
        "stopping: stopping the outbox failed: the database went away",
        "stopping: the activity buffer's last write failed: the database went away",
    ]
    assert all(r.exc_info is None for r in errors)  # one line each, no traceback
