"""The webhook process's HTTP app as build_application wires it: Telegram's route at the
URL's path beside health and metrics, and the inbox depth in /metrics."""

from __future__ import annotations

import json

import httpx
import pytest

from bot.app import Role, build_application, start_offline, stop_offline
from bot.double import FakeTelegram
from bot.double.transport import double_request
from bot.inbox import SECRET_HEADER
from bot.settings import Settings
from tests.clock import FakeClock
from tests.handlers.conftest import NOW

SECRET = "s3cret_token-1"


def update(update_id: int, chat: int) -> bytes:
    message = {
        "message_id": update_id,
        "date": 1_700_000_000,
        "chat": {"id": chat, "type": "supergroup", "title": "Tea"},
        "from": {"id": 21, "is_bot": False, "first_name": "Alice"},
        "text": "hello",
    }
    return json.dumps({"update_id": update_id, "message": message}).encode()


async def test_the_webhook_path_stores_updates_and_metrics_count_the_inbox(database_url):
    world = FakeTelegram(clock=FakeClock(NOW).now)
    settings = Settings(  # type: ignore[call-arg]
        _env_file=None,
        telegram_bot_token="123:TEST",
        database_url=database_url,
        telegram_webhook_secret=SECRET,
    )
    # Receiving only (no inbox worker here), so what is stored stays in the inbox.
    role = Role(webhook="https://bot.example.com/telegram/hook")
    app = build_application(settings, request=double_request(world), role=role)
    await start_offline(app)
    transport = httpx.ASGITransport(app=app.http)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://bot") as http:
            forged = await http.post("/telegram/hook", content=update(1, -100500))
            first = await http.post(
                "/telegram/hook", content=update(1, -100500), headers={SECRET_HEADER: SECRET}
            )
            again = await http.post(
                "/telegram/hook", content=update(1, -100500), headers={SECRET_HEADER: SECRET}
            )
            other = await http.post(
                "/telegram/hook", content=update(2, -100600), headers={SECRET_HEADER: SECRET}
            )
            metrics = await http.get("/metrics")
    finally:
        await stop_offline(app)

    assert forged.status_code == 401
    assert (first.status_code, again.status_code, other.status_code) == (200, 200, 200)
    depth = [ln for ln in metrics.text.splitlines() if ln.startswith("growthbot_inbox_depth ")]
    assert depth == ["growthbot_inbox_depth 2.0"]  # update 1 stored once, and update 2
    assert world.webhook is not None and world.webhook.url == role.webhook


def webhook_settings(database_url: str) -> Settings:
    return Settings(  # type: ignore[call-arg]
        _env_file=None,
        telegram_bot_token="123:TEST",
        database_url=database_url,
        telegram_webhook_secret=SECRET,
    )


async def test_the_webhook_path_with_a_slash_added_is_404_not_a_redirect(database_url):
    # Telegram does not follow redirects: a 307 would look delivered to nobody.
    world = FakeTelegram(clock=FakeClock(NOW).now)
    role = Role(webhook="https://bot.example.com/tg/hook")
    app = build_application(
        webhook_settings(database_url), request=double_request(world), role=role
    )
    await start_offline(app)
    transport = httpx.ASGITransport(app=app.http)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://bot") as http:
            slashed = await http.post(
                "/tg/hook/", content=update(1, -100500), headers={SECRET_HEADER: SECRET}
            )
            health = await http.get("/healthz/")
    finally:
        await stop_offline(app)

    assert slashed.status_code == 404
    assert health.status_code == 404


@pytest.mark.parametrize("path", ["/tg/{x}", "/tg/{x:path}", "/tg/h%6Fok", "/tg/hoök"])
def test_a_webhook_path_starlette_would_not_match_as_typed_is_refused(path, tmp_path):
    with pytest.raises(ValueError, match="may only have letters"):
        build_application(
            webhook_settings(f"sqlite+aiosqlite:///{tmp_path}/x.db"),
            role=Role(webhook=f"https://h.example{path}"),
        )
