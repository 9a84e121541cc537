"""The `growthbot` command line called in process, against a database and the Bot API double."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.cli import main
from bot.double import FakeTelegram
from bot.double.server import DoubleServer
from bot.settings import get_settings

CLI_GROUP = -1002200000001


@dataclass
class Outcome:
    code: int
    out: str
    err: str


@dataclass
class Cli:
    """`growthbot ARGS` with DATABASE_URL set, run in `folder`; Telegram is `world`."""

    world: FakeTelegram
    folder: Path
    capsys: pytest.CaptureFixture[str]

    def __call__(self, *argv: str) -> Outcome:
        self.capsys.readouterr()
        code = main(list(argv))
        out, err = self.capsys.readouterr()
        return Outcome(code, out, err)


@dataclass
class Growthbot:
    """`growthbot ARGS` in process with the environment an operator's shell would have (no
    real process needed: the exit code and the printed lines are what is checked)."""

    folder: Path
    env: dict[str, str]
    monkeypatch: pytest.MonkeyPatch
    capsys: pytest.CaptureFixture[str]

    def __call__(self, *argv: str, **env: str) -> Outcome:
        with self.monkeypatch.context() as patch:
            for key, value in (self.env | env).items():
                patch.setenv(key, value)
            get_settings.cache_clear()
            self.capsys.readouterr()
            code = main(list(argv))
            out, err = self.capsys.readouterr()
        get_settings.cache_clear()
        return Outcome(code, out, err)


@pytest.fixture
def growthbot(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Growthbot:
    """The command line in an empty folder, with a fresh SQLite file and no Telegram token
    or database from the calling shell."""
    import os

    for key in os.environ:
        if key.startswith(("TELEGRAM_", "DATABASE_", "DEFAULT_")):
            monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)
    env = {"TELEGRAM_BOT_TOKEN": "123:CLI", "DEFAULT_TIMEZONE": "Asia/Shanghai",
           "DATABASE_URL": f"sqlite+aiosqlite:///{tmp_path}/x.db"}  # fmt: skip
    return Growthbot(tmp_path, env, monkeypatch, capsys)


def register_group(url: str, chat_id: int = CLI_GROUP) -> None:
    """The group as if the bot had been added to it (for CLI-only tests)."""
    from campaigns.members import ChatInfo
    from campaigns.settings import ChatSettings
    from storage.engine import create_engine, session_factory
    from storage.uow import SqlUnitOfWork

    async def register() -> None:
        engine = create_engine(url)
        async with SqlUnitOfWork(session_factory(engine)) as uow:
            group = ChatInfo(chat_id, "supergroup", "Shop")
            await uow.chats.register(group, active=True, bot_status=None, defaults=ChatSettings())
            await uow.commit()
        await engine.dispose()

    asyncio.run(register())


@pytest.fixture
def cli(
    database_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> Iterator[Cli]:
    """The command line against a migrated database holding one group, and a live double."""
    register_group(database_url)
    world = FakeTelegram()
    world.add_group(CLI_GROUP, "Shop")
    with DoubleServer(world) as server:
        monkeypatch.chdir(tmp_path)  # no .env from the working tree
        monkeypatch.setenv("DATABASE_URL", database_url)
        monkeypatch.setenv("TELEGRAM_BOT_TOKEN", "123:CLI")
        monkeypatch.setenv("TELEGRAM_API_BASE_URL", server.base_url)
        get_settings.cache_clear()
        yield Cli(world, tmp_path, capsys)
    get_settings.cache_clear()
