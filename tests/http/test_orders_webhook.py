"""POST /api/orders: signed, validated, idempotent; on SQLite and PostgreSQL."""

import datetime as dt
import json

import httpx
import pytest

from bot.webhooks import MAX_BODY, SIGNATURE_HEADER, orders_app, sign
from campaigns.coupons import CouponKind, Template
from campaigns.members import ChatInfo, Person
from campaigns.services import coupons
from campaigns.services.orders import order_totals
from campaigns.settings import ChatSettings
from tests.fakes import claim_posted

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


async def test_true_for_a_buyer_and_a_currency_nobody_uses_are_422_and_store_nothing(
    client, uow_factory
):
    as_true = await post(client, json.dumps(ORDER | {"member": True}).encode())
    group_true = await post(client, json.dumps(ORDER | {"chat_id": True}).encode())
    made_up = await post(client, json.dumps(ORDER | {"currency": "XXX"}).encode())
    as_text = await post(client, json.dumps(ORDER | {"member": str(ORDER["member"])}).encode())

    for refused, field, says in (
        (as_true, "member", "true or false is no id"),
        (group_true, "chat_id", "true or false is no id"),
        (made_up, "currency", "'XXX' is not a currency in use"),
    ):
        assert refused.status_code == 422
        [error] = refused.json()["errors"]
        assert error["field"] == field and says in error["error"]
    assert as_text.status_code == 200  # a user id written as a string is still read
    totals = await order_totals(uow_factory(), chat_id=GROUP.chat_id)
    assert list(totals) == [42] and totals[42].orders == 1  # only the one written as "42"


async def test_a_declared_body_over_the_limit_is_413_before_it_is_read(client):
    pulled = 0

    async def chunks():
        nonlocal pulled
        for _ in range(1000):
            pulled += 1
            yield b" " * 1024

    headers = {SIGNATURE_HEADER: "0" * 64, "content-length": str(1000 * 1024)}
    response = await client.post("/api/orders", content=chunks(), headers=headers)

    assert response.status_code == 413
    assert pulled <= 1


async def test_a_streamed_body_without_a_length_is_cut_off_past_the_limit(client, uow_factory):
    pulled = 0

    async def chunks():
        nonlocal pulled
        for _ in range(1000):  # 1 MB in 1 KB chunks, no Content-Length (chunked)
            pulled += 1
            yield b" " * 1024

    response = await client.post(
        "/api/orders", content=chunks(), headers={SIGNATURE_HEADER: "0" * 64}
    )

    assert response.status_code == 413
    assert pulled <= MAX_BODY // 1024 + 2
    assert await order_totals(uow_factory(), chat_id=GROUP.chat_id) == {}


@pytest.mark.parametrize("length", ["abc", "-1", "1e3", "٣", "12 34"])
async def test_a_malformed_content_length_is_400(client, length):
    body = json.dumps(ORDER).encode()
    headers = {SIGNATURE_HEADER: sign(SECRET, body), "content-length": length.encode()}

    response = await client.post("/api/orders", content=body, headers=headers)

    assert response.status_code == 400


@pytest.mark.parametrize(
    "signature",
    [
        "é" * 64,
        "sha256=" + "ü" * 64,
        "",
        "sha256=",
        "   ",
        "zz" * 32,
        "ab" * 31,
        "ab" * 33,
        "０" * 64,  # full-width digits
    ],
)
async def test_a_malformed_signature_is_401_not_500(client, uow_factory, signature):
    body = json.dumps(ORDER).encode()

    response = await client.post(
        "/api/orders", content=body, headers={SIGNATURE_HEADER: signature.encode("utf-8")}
    )

    assert response.status_code == 401
    assert await order_totals(uow_factory(), chat_id=GROUP.chat_id) == {}


async def test_an_uppercase_signature_with_spaces_and_a_prefix_is_accepted(client):
    body = json.dumps(ORDER).encode()

    response = await post(client, body, " sha256=" + sign(SECRET, body).upper() + " ")

    assert response.status_code == 200 and response.json()["stored"] is True


async def test_a_deeply_nested_body_is_422_not_500(client):
    response = await post(client, b"[" * 60_000)

    assert response.status_code == 422


RECEIVED = dt.datetime(2026, 11, 20, 3, 0, tzinfo=dt.UTC)


@pytest.fixture
async def shop(uow_factory):
    """A group that gives 1 point per unit, a member, and an app pinned to receive at RECEIVED."""
    async with uow_factory() as uow:
        record = await uow.chats.register(
            GROUP, active=True, bot_status=None, defaults=ChatSettings(order_points=1)
        )
        await uow.users.upsert([Person(42, "Buyer")])
        await uow.members.create(record.pk, 42, status="member", present=True, at=RECEIVED)
        await uow.commit()
    app = orders_app(uow_factory, SECRET, received_at=RECEIVED)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://shop") as http:
        yield http


async def issue(uow_factory, template: Template, n: int) -> list[str]:
    offer = await coupons.create_offer(
        uow_factory(),
        chat_id=GROUP.chat_id,
        name="券",
        template=template,
        stock=None,
        per_member=n,
        at=RECEIVED,
    )
    return [
        (
            await claim_posted(
                uow_factory(),
                bot_id=1,
                update_id=1000 + offer.id * 10 + i,
                template_id=offer.id,
                person=Person(42),
                at=RECEIVED,
            )
        ).code
        for i in range(n)
    ]


async def member_points(uow_factory) -> int:
    async with uow_factory() as uow:
        stats = await uow.members.stats((await uow.chats.get(GROUP.chat_id)).pk, 42)
    return stats.points


async def test_a_replayed_order_id_is_200_not_stored_and_earns_no_more_points(shop, uow_factory):
    body = json.dumps(ORDER).encode()

    first = await post(shop, body)
    replay = await post(shop, json.dumps(ORDER | {"amount": "999"}).encode())

    assert first.json()["stored"] is True and first.json()["points"] == 199
    assert replay.status_code == 200 and replay.json() == {
        "stored": False,
        "points": 0,
        "coupons_used": [],
        "coupons_refused": [],
        "tier": None,
    }
    assert await member_points(uow_factory) == 199


async def test_a_coupon_in_another_currency_is_refused_with_a_reason(shop, uow_factory):
    [code] = await issue(uow_factory, Template(CouponKind.FIXED, value=500), 1)

    response = await post(shop, json.dumps(ORDER | {"currency": "USD", "coupons": [code]}).encode())

    assert response.status_code == 200
    assert response.json()["coupons_refused"] == [{"code": code, "reason": "currency"}]


async def test_stacked_coupons_never_discount_more_than_the_order(shop, uow_factory):
    codes = await issue(uow_factory, Template(CouponKind.FIXED, value=10000), 3)

    response = await post(shop, json.dumps(ORDER | {"coupons": codes}).encode())

    assert response.json()["coupons_used"] == codes[:2]
    assert response.json()["coupons_refused"] == [{"code": codes[2], "reason": "nothing_to_pay"}]
    async with uow_factory() as uow:
        used = [await uow.coupons.by_code(c) for c in codes[:2]]
    assert sum(c.discount for c in used) == 19990


async def test_an_order_backdated_by_the_shop_cannot_use_an_expired_coupon(shop, uow_factory):
    [code] = await issue(uow_factory, Template(CouponKind.FIXED, value=500, valid_days=1), 1)
    late = orders_app(uow_factory, SECRET, received_at=RECEIVED + dt.timedelta(days=2))
    body = json.dumps(ORDER | {"coupons": [code], "at": "2026-11-20T11:30:00+08:00"}).encode()

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=late), base_url="http://s") as c:
        response = await post(c, body)

    assert response.json()["coupons_refused"] == [{"code": code, "reason": "expired"}]
