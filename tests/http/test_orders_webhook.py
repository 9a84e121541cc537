"""POST /api/orders: signed, validated, idempotent; on SQLite and PostgreSQL."""

import json

import httpx
import pytest
from pydantic import ValidationError

from bot.settings import Settings, describe
from bot.webhooks import SIGNATURE_HEADER, orders_app, sign
from campaigns.members import ChatInfo
from campaigns.services.orders import order_totals
from campaigns.settings import ChatSettings

SECRET = "s3cret"
GROUP = ChatInfo(chat_id=-1009876543214, type="supergroup", title="Shop")
ORDER = {
    "external_id": "W-1",
    "chat_id": GROUP.chat_id,
    "member": 42,
    "amount": "199.90",
    "at": "2026-11-20T10:00:00+08:00",
}


@pytest.fixture
async def client(uow_factory):
    async with uow_factory() as uow:
        await uow.chats.register(GROUP, active=True, bot_status=None, defaults=ChatSettings())
        await uow.commit()
    app = orders_app(uow_factory, SECRET)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://shop") as http:
        yield http


async def post(client: httpx.AsyncClient, body: bytes, signature: str | None = None):
    headers = {SIGNATURE_HEADER: signature if signature is not None else sign(SECRET, body)}
    return await client.post("/api/orders", content=body, headers=headers)


async def test_a_signed_order_is_stored_once(client, uow_factory):
    body = json.dumps(ORDER).encode()

    first = await post(client, body)
    replay = await post(client, body, "sha256=" + sign(SECRET, body))

    assert first.status_code == 200 and first.json()["stored"] is True
    assert replay.status_code == 200 and replay.json()["stored"] is False
    totals = await order_totals(uow_factory(), chat_id=GROUP.chat_id)
    assert (totals[42].orders, totals[42].spend) == (1, 19990)


async def test_a_bad_or_missing_signature_is_401_and_stores_nothing(client, uow_factory):
    body = json.dumps(ORDER).encode()

    forged = await post(client, body, sign("wrong", body))
    missing = await post(client, body, "")
    tampered = await post(client, body.replace(b"199.90", b"1.00"), sign(SECRET, body))

    assert [r.status_code for r in (forged, missing, tampered)] == [401, 401, 401]
    assert await order_totals(uow_factory(), chat_id=GROUP.chat_id) == {}


async def test_a_malformed_body_is_422_with_field_errors(client):
    bad = await post(client, json.dumps(ORDER | {"amount": "1.999", "member": "x"}).encode())
    not_json = await post(client, b"{nope")
    unknown_group = await post(client, json.dumps(ORDER | {"chat_id": -1}).encode())

    assert bad.status_code == 422
    assert {e["field"] for e in bad.json()["errors"]} == {"amount", "member"}
    assert not_json.status_code == 422
    assert (
        unknown_group.status_code == 422 and unknown_group.json()["errors"][0]["field"] == "chat_id"
    )


def test_an_http_port_without_a_secret_stops_start_up_with_one_line():
    with pytest.raises(ValidationError) as err:
        Settings(_env_file=None, http_port=8080)  # type: ignore[call-arg]

    assert describe(err.value) == (
        "invalid setting ORDERS_WEBHOOK_SECRET must be set when HTTP_PORT is"
    )
