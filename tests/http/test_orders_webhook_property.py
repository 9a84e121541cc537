"""POST /api/orders with hostile bodies, correctly signed: 200, 401, 413 or 422, never a 500."""

import datetime as dt
import json

import httpx
import pytest
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from bot.webhooks import MAX_BODY, SIGNATURE_HEADER, orders_app, sign
from campaigns.coupons import new_code
from campaigns.members import ChatInfo
from campaigns.settings import ChatSettings

SECRET = "s3cret"
GROUP = ChatInfo(chat_id=-1009876543215, type="supergroup", title="Shop")
RECEIVED = dt.datetime(2026, 11, 20, 3, 0, tzinfo=dt.UTC)

SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=20)
    | st.sampled_from(["199.90", "1e999999999", "0", "NaN", "\x00", "9" * 5000])
)
JSON = st.recursive(
    SCALARS,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=20,
)
ORDER = st.fixed_dictionaries(
    {
        "external_id": st.text(min_size=1, max_size=70) | SCALARS,
        "chat_id": st.just(GROUP.chat_id) | st.integers(),
        "member": st.integers(min_value=1, max_value=2**64) | SCALARS,
        "amount": st.decimals(allow_nan=True).map(str) | SCALARS,
        "at": st.datetimes(timezones=st.just(dt.UTC) | st.none()).map(lambda d: d.isoformat())
        | st.sampled_from(["0001-01-01T00:00:00+10:00", "9999-12-31T23:59:59-10:00"]),
    },
    optional={
        "currency": st.sampled_from(["CNY", "usd", "€", ""]) | SCALARS,
        "coupons": st.lists(st.builds(new_code) | st.text(max_size=12), max_size=3) | SCALARS,
        "items": st.lists(st.text(max_size=8), max_size=3) | SCALARS,
        "category": st.text(max_size=70) | SCALARS,
    },
)
PLAUSIBLE_KEYS = ("external_id", "member", "amount", "at", "currency", "coupons", "category")
# Plausible orders (most are stored), with at most one field swapped for a hostile value.
PLAUSIBLE = st.fixed_dictionaries(
    {
        "external_id": st.text(min_size=1, max_size=64),
        "chat_id": st.just(GROUP.chat_id),
        "member": st.integers(1, 2**63 - 1),
        "amount": st.decimals(0, 10**10, places=2).map(str),
        "at": st.datetimes(timezones=st.just(dt.UTC)).map(lambda d: d.isoformat()),
    },
    optional={
        "currency": st.sampled_from(["CNY", "USD", "eur"]),
        "coupons": st.lists(st.builds(new_code), max_size=3),
        "items": st.lists(st.text(max_size=8), max_size=3),
        "category": st.text(max_size=64),
    },
)
SWAPPED = st.tuples(PLAUSIBLE, st.sampled_from(list(PLAUSIBLE_KEYS)), ORDER).map(
    lambda t: t[0] | {t[1]: t[2].get(t[1])}
)
BODIES = (
    PLAUSIBLE.map(lambda o: json.dumps(o).encode())
    | SWAPPED.map(lambda o: json.dumps(o).encode())
    | ORDER.map(lambda o: json.dumps(o).encode())
    | JSON.map(lambda o: json.dumps(o).encode())
    | st.binary(max_size=200)
)


@pytest.fixture
async def client(uow_factory):
    async with uow_factory() as uow:
        await uow.chats.register(GROUP, active=True, bot_status=None, defaults=ChatSettings())
        await uow.commit()
    app = orders_app(uow_factory, SECRET, received_at=RECEIVED)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://shop") as http:
        yield http


@settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(body=BODIES)
@example(body=b"[" * 100_000)
@example(body=b" " * (MAX_BODY + 1))
@example(body=json.dumps({"external_id": "\x00", "member": 1, "amount": 1, "at": "x"}).encode())
async def test_any_signed_body_gets_an_answer_not_a_server_error(client, body: bytes):
    response = await client.post(
        "/api/orders", content=body, headers={SIGNATURE_HEADER: sign(SECRET, body)}
    )

    event(str(response.status_code))
    assert response.status_code in {200, 413, 422}, response.text
