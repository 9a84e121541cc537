"""What an operator sees when `growthbot run`, `run --webhook`, `worker` or `db upgrade`
cannot start: a port that is taken or out of range, a database that refuses, is missing,
rejects the password or never answers. One line on stderr, no traceback, a non-zero exit,
nothing half-started. Called in process: no real process is needed."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest

from bot.double import FakeTelegram
from bot.double.server import DoubleServer
from storage import engine
from tests.cli.conftest import Growthbot
from tests.conftest import PG_URL

WEBHOOK = "https://bot.example.com/tg/hook"


def one_line(err: str) -> str:
    assert err.count("\n") == 1 and "Traceback" not in err, err
    assert err.startswith("growthbot: "), err
    return err.strip()


@pytest.fixture
def listening() -> Iterator[int]:
    """A port something else holds: it accepts connections and never says a word."""
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen(16)
        yield holder.getsockname()[1]


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.mark.parametrize("port", ["99999", "-1", "0", "65536", "http"])
def test_a_worker_port_out_of_range_is_refused_before_anything_starts(
    growthbot: Growthbot, port: str
):
    with pytest.raises(SystemExit) as exited:
        growthbot("worker", "--http-port", port)

    err = growthbot.capsys.readouterr().err
    assert exited.value.code == 2
    assert err.splitlines()[-1].endswith("is not a port number (1-65535)")
    assert "Traceback" not in err


def test_a_busy_http_port_is_one_line_and_the_webhook_is_never_set(
    growthbot: Growthbot, listening: int
):
    world = FakeTelegram()
    with DoubleServer(world) as server:
        result = growthbot(
            "run",
            "--webhook",
            WEBHOOK,
            TELEGRAM_API_BASE_URL=server.base_url,
            TELEGRAM_WEBHOOK_SECRET="s3cret",
            HTTP_PORT=str(listening),
        )

    line = one_line(result.err)
    assert result.code == 1
    assert line.startswith(f"growthbot: HTTP_PORT {listening} on 127.0.0.1 is in use (")
    assert world.webhook is None  # nothing half-started: Telegram was not told to deliver


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_a_busy_worker_port_is_one_line(growthbot: Growthbot, listening: int, database_url: str):
    world = FakeTelegram()
    with DoubleServer(world) as server:
        result = growthbot(
            "worker",
            "--http-port",
            str(listening),
            DATABASE_URL=database_url,
            TELEGRAM_API_BASE_URL=server.base_url,
        )

    assert result.code == 1
    assert one_line(result.err).startswith(f"growthbot: --http-port {listening} on 127.0.0.1 is")


@pytest.mark.parametrize("url", ["https://h.example/tg/{x}", "https://h.example/tg/h%6Fok"])
def test_a_webhook_path_that_would_match_other_paths_is_refused(growthbot: Growthbot, url: str):
    result = growthbot("run", "--webhook", url, TELEGRAM_WEBHOOK_SECRET="s3cret", HTTP_PORT="8443")

    assert result.code == 2
    assert "may only have letters" in one_line(result.err)


@pytest.mark.parametrize("command", [["db", "upgrade"], ["run"], ["worker"]])
def test_nothing_listening_at_the_database_is_one_line_naming_it(
    growthbot: Growthbot, command: list[str]
):
    port = closed_port()
    url = f"postgresql+asyncpg://growthbot:sekret@127.0.0.1:{port}/shopbot"
    result = growthbot(*command, DATABASE_URL=url, HTTP_PORT="")

    line = one_line(result.err)
    assert result.code == 1
    assert line.startswith(f"growthbot: cannot use database shopbot on 127.0.0.1:{port} as ")
    assert "connection failed" in line and "sekret" not in line


def pg(**change: str) -> str:
    parts = urlsplit(PG_URL)
    user = change.get("user", parts.username or "")
    password = change.get("password", parts.password or "")
    database = change.get("database", parts.path.lstrip("/"))
    return f"{parts.scheme}://{user}:{password}@{parts.hostname}:{parts.port or 5432}/{database}"


@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
@pytest.mark.parametrize(
    ("change", "says"),
    [
        ({"password": "sekret-wrong"}, "password authentication failed"),
        ({"database": "no_such_db"}, 'database "no_such_db" does not exist'),
    ],
)
def test_a_wrong_password_or_missing_database_is_one_line(
    growthbot: Growthbot, database_url: str, change: dict[str, str], says: str
):
    url = pg(**change)
    for command in (["db", "upgrade"], ["worker"]):
        result = growthbot(*command, DATABASE_URL=url)

        line = one_line(result.err)
        assert result.code == 1
        assert says in line and "sekret" not in line
        assert f"on {urlsplit(url).hostname}:{urlsplit(url).port or 5432}" in line


def test_a_database_that_never_answers_is_one_line_in_bounded_time(
    growthbot: Growthbot, listening: int, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setattr(engine, "CONNECT_TIMEOUT", 0.5)
    url = f"postgresql+asyncpg://growthbot:sekret@127.0.0.1:{listening}/shopbot"
    began = time.monotonic()
    result = growthbot("db", "upgrade", DATABASE_URL=url)
    took = time.monotonic() - began

    line = one_line(result.err)
    assert result.code == 1
    assert line == (
        f"growthbot: cannot use database shopbot on 127.0.0.1:{listening} as growthbot: "
        "no answer in time (TimeoutError): is it up and reachable?"
    )
    assert took < 5
