"""/healthz, /readyz and which routes the bot's HTTP app serves, through the real app."""

from __future__ import annotations

import asyncio
import threading

import httpx
import pytest
from starlette.applications import Starlette

from bot.app import GrowthApp, build_application, stop_offline
from bot.health import Readiness, health_routes
from bot.metrics import Metrics
from bot.settings import Settings
from tests.handlers.conftest import make_harness

UNREACHABLE = {
    "postgresql": "postgresql+asyncpg://growthbot:x@127.0.0.1:1/nowhere",  # nothing listens
    "sqlite": "sqlite+aiosqlite:////nonexistent/folder/growthbot.db",
}


def client(app: GrowthApp) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app.http), base_url="http://bot")


async def test_a_running_bot_is_alive_and_ready(database_url):
    _, app = await make_harness(database_url)
    try:
        async with client(app) as http:
            alive, ready = await http.get("/healthz"), await http.get("/readyz")
    finally:
        await stop_offline(app)

    assert (alive.status_code, alive.json()) == (200, {"status": "alive"})
    assert (ready.status_code, ready.json()) == (200, {"ready": True})


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
async def test_an_unreachable_database_is_not_ready_and_says_why(kind):
    settings = Settings(_env_file=None, database_url=UNREACHABLE[kind])  # type: ignore[call-arg]
    app = build_application(settings)  # never started: post_init would need the database
    before = set(threading.enumerate())

    async with client(app) as http:
        alive, ready = await http.get("/healthz"), await http.get("/readyz")
    # aiosqlite stops a connection that failed to open on its own thread, answering a future
    # of this loop: let it finish before pytest closes the loop.
    for thread in set(threading.enumerate()) - before:
        await asyncio.to_thread(thread.join, 5)

    assert alive.status_code == 200  # the process answers: no reason to restart it
    assert ready.status_code == 503
    body = ready.json()
    assert body["ready"] is False and set(body["failed"]) == {"database", "started"}
    assert body["failed"]["started"] == "starting"
    assert body["reason"].startswith("database: ") and "started: starting" in body["reason"]


async def test_a_bot_that_is_stopping_is_no_longer_ready(database_url):
    _, app = await make_harness(database_url)
    async with client(app) as http:
        assert app.post_stop is not None and app.post_shutdown is not None
        await app.post_stop(app)  # what run_polling calls once the updates stop
        stopping = await http.get("/readyz")
        await app.shutdown()
        await app.post_shutdown(app)
        stopped = await http.get("/readyz")

    assert stopping.status_code == 503 and stopping.json()["failed"] == {"started": "stopping"}
    assert stopped.status_code == 503
    assert stopped.json()["failed"] == {"started": "stopped", "database": "closed"}


async def test_a_check_that_hangs_fails_within_its_timeout():
    readiness = Readiness(timeout=0.05)

    async def hangs() -> None:
        await asyncio.sleep(60)

    readiness.add("database", hangs)
    transport = httpx.ASGITransport(app=Starlette(routes=health_routes(Metrics(), readiness)))
    async with httpx.AsyncClient(transport=transport, base_url="http://bot") as http:
        ready = await http.get("/readyz")

    assert ready.status_code == 503
    assert ready.json()["failed"] == {"database": "no answer within 0.05 s"}


async def test_without_an_orders_secret_the_http_app_serves_no_orders_route(database_url):
    _, plain_app = await make_harness(database_url)
    _, signed_app = await make_harness(database_url, orders_webhook_secret="shh")
    try:
        async with client(plain_app) as a, client(signed_app) as b:
            absent = await a.post("/api/orders", content=b"{}")
            present = await b.post("/api/orders", content=b"{}")
            metrics = await a.get("/metrics")
    finally:
        await stop_offline(plain_app)
        await stop_offline(signed_app)

    assert absent.status_code == 404
    assert present.status_code == 401  # mounted, and the signature is checked
    assert metrics.status_code == 200 and "growthbot_updates_total" in metrics.text


def test_an_http_port_alone_is_a_valid_setting():
    settings = Settings(_env_file=None, http_port=9100)  # type: ignore[call-arg]

    assert settings.http_port == 9100 and settings.orders_webhook_secret is None
