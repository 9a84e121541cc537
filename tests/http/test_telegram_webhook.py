"""Telegram's webhook: the secret token first, hostile bodies refused, and an update
acknowledged only once it is committed to the inbox; on SQLite and PostgreSQL."""

import asyncio
import datetime as dt
import json

import httpx
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from starlette.applications import Starlette

from bot import inbox
from bot.double import FakeTelegram
from bot.inbox import MAX_UPDATE, SECRET_HEADER, inbox_store, telegram_route
from storage.engine import create_engine, session_factory
from storage.uow import SqlUnitOfWork

SECRET = "Tg_secret-123"
BOT = 5_000_000_001
GROUP = -1002000000001
ALICE = 5_100_000_001
AT = dt.datetime(2026, 12, 1, 8, 0, tzinfo=dt.UTC)


class Clock:
    def now(self) -> dt.datetime:
        return AT

    def monotonic(self) -> float:
        return 0.0

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(0)


def world() -> FakeTelegram:
    w = FakeTelegram()
    w.add_user(ALICE, "Alice")
    w.add_group(GROUP, "Club")
    return w


def client_for(store) -> httpx.AsyncClient:
    app = Starlette(routes=[telegram_route("/tg/hook", SECRET, store)])
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://bot")


async def rows(uow_factory) -> list[tuple[int, int]]:
    from sqlalchemy import select

    from storage.models import InboxRow

    async with uow_factory() as uow:
        found = await uow.session.execute(select(InboxRow.update_id, InboxRow.chat_id))
        return sorted((u, c) for u, c in found)


@pytest.fixture
async def client(uow_factory):
    async with client_for(inbox_store(uow_factory, BOT, clock=Clock())) as http:
        yield http


def post(
    client: httpx.AsyncClient, body: bytes | str, secret: str | bytes | None = SECRET, **headers
):
    if secret is not None:
        headers[SECRET_HEADER] = secret
    return client.post("/tg/hook", content=body, headers=headers)


async def test_an_update_is_stored_with_its_chat_and_acknowledged(client, uow_factory):
    update = world().message(GROUP, ALICE, "签到")

    response = await post(client, json.dumps(update, ensure_ascii=False))

    assert (response.status_code, response.content) == (200, b"")
    assert await rows(uow_factory) == [(update["update_id"], GROUP)]


async def test_a_redelivered_update_is_acknowledged_and_stored_once(client, uow_factory):
    body = json.dumps(world().message(GROUP, ALICE, "hi"))

    first, again = await post(client, body), await post(client, body)

    assert (first.status_code, again.status_code) == (200, 200)
    assert len(await rows(uow_factory)) == 1


async def test_a_tap_without_a_chat_is_ordered_by_its_user(client, uow_factory):
    update = {
        "update_id": 77,
        "callback_query": {
            "id": "1",
            "from": {"id": ALICE, "is_bot": False, "first_name": "A"},
            "chat_instance": "x",
            "inline_message_id": "abc",
            "data": "gb:join:1",
        },
    }

    assert (await post(client, json.dumps(update))).status_code == 200

    assert await rows(uow_factory) == [(77, ALICE)]


@pytest.mark.parametrize("secret", [None, "", "wrong", SECRET + "x", SECRET.lower(), b"\xfc\x00"])
async def test_a_missing_or_wrong_secret_token_is_401_and_stores_nothing(
    client, uow_factory, secret
):
    body = json.dumps(world().message(GROUP, ALICE, "签到"))

    response = await post(client, body, secret=None if secret is None else secret)

    assert response.status_code == 401
    assert await rows(uow_factory) == []


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"not json",
        b"[]",
        b'"update"',
        b"{}",
        b'{"update_id": "1"}',
        b'{"update_id": -1}',
        b'{"update_id": true}',
        b'{"update_id": 1.5}',
        b'{"update_id": 9223372036854775808}',
        b'{"update_id": 1, "message": "hello"}',
        b'{"update_id": 1, "message": {"chat": 5}}',
        b'{"update_id": 1, "callback_query": []}',
        b'{"update_id": 1, "message": {"chat": {"id": "5"}}}',
        b'{"update_id": 1, "message": {"text": "no chat"}, "edited_message": {"chat": {"id": 1}}}',
        b"\xff\xfe{}",
        b"[" * 100_000 + b"]" * 100_000,
        b'{"update_id": 1, "message": ' * 5000 + b"1" + b"}" * 5000,
        '{"update_id": 1}'.encode("utf-16"),
        b'{"update_id": 1, "x": NaN, "y": Infinity}{}',
    ],
)
async def test_junk_is_refused_with_a_4xx_and_stores_nothing(client, uow_factory, body):
    response = await post(client, body)

    assert response.status_code == 400
    assert await rows(uow_factory) == []


async def test_a_body_over_the_cap_is_413_before_it_is_read(client, uow_factory):
    big = b'{"update_id": 1, "pad": "' + b"x" * MAX_UPDATE + b'"}'

    declared = await post(client, big)
    lying = await post(client, big, **{"Content-Length": "10"})

    assert declared.status_code == 413
    assert lying.status_code in (400, 413)
    assert await rows(uow_factory) == []


async def test_the_acknowledgement_waits_for_the_commit(database_url):
    engine = create_engine(database_url)
    reader = create_engine(database_url, read_only=True)
    sessions = session_factory(engine)
    release = asyncio.Event()

    class HeldCommit(SqlUnitOfWork):
        async def commit(self) -> None:
            await release.wait()
            await super().commit()

    update = world().message(GROUP, ALICE, "签到")
    async with client_for(inbox_store(lambda: HeldCommit(sessions), BOT, clock=Clock())) as http:
        request = asyncio.create_task(post(http, json.dumps(update)))
        await asyncio.sleep(0.2)
        waiting = not request.done()
        before = await rows(lambda: SqlUnitOfWork(session_factory(reader)))
        release.set()
        response = await request
    after = await rows(lambda: SqlUnitOfWork(session_factory(reader)))
    await engine.dispose()
    await reader.dispose()

    assert waiting and before == []
    assert response.status_code == 200
    assert after == [(update["update_id"], GROUP)]


async def test_an_update_that_cannot_be_stored_is_503_so_telegram_retries(uow_factory):
    async def broken(update_id: int, chat_id: int, body: str) -> bool:
        raise ConnectionError("database unreachable")

    async with client_for(broken) as http:
        response = await post(http, json.dumps(world().message(GROUP, ALICE, "hi")))

    assert response.status_code == 503


class Hangs:
    """A unit of work on a database that accepted the connection and never answers."""

    async def __aenter__(self):
        await asyncio.sleep(3600)

    async def __aexit__(self, *exc: object) -> None:
        return None


async def test_a_database_that_hangs_gets_503_in_bounded_time_for_every_request(monkeypatch):
    monkeypatch.setattr(inbox, "STORE_TIMEOUT", 0.3)
    w = world()
    async with client_for(inbox_store(Hangs, BOT, clock=Clock())) as http:
        began = asyncio.get_running_loop().time()
        answers = await asyncio.gather(
            *(post(http, json.dumps(w.message(GROUP, ALICE, f"hi {i}"))) for i in range(5))
        )
        took = asyncio.get_running_loop().time() - began

    assert [a.status_code for a in answers] == [503] * 5  # Telegram delivers them again
    assert took < 2, took


async def test_only_post_is_served(client):
    assert (await client.get("/tg/hook", headers={SECRET_HEADER: SECRET})).status_code == 405


SCALARS = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10)
JSON = st.recursive(
    SCALARS,
    lambda children: (
        st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3)
    ),
    max_leaves=15,
)
UPDATE = st.fixed_dictionaries(
    {"update_id": st.integers(min_value=-5, max_value=2**64) | SCALARS},
    optional={
        "message": JSON | st.fixed_dictionaries({"chat": JSON, "from": JSON, "date": JSON}),
        "callback_query": JSON,
        "chat_member": JSON,
    },
)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(body=UPDATE.map(json.dumps).map(str.encode) | st.binary(max_size=200))
@example(body=b'{"update_id": 1, "message": {"message_id": 1, "date": 0, "chat": {"id": 1}}}')
async def test_hostile_bodies_with_the_right_token_never_get_a_500(uow_factory, body):
    async with client_for(inbox_store(uow_factory, BOT, clock=Clock())) as http:
        response = await post(http, body)

    assert response.status_code in (200, 400)
