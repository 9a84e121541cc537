"""Connect PTB to the double in-process: its real HTTPXRequest over an httpx MockTransport."""

from __future__ import annotations

import asyncio

import httpx
from telegram.request import HTTPXRequest

from bot.double.forms import parse_form
from bot.double.world import FakeTelegram


def _parse(request: httpx.Request) -> tuple[str, dict[str, str]]:
    method = request.url.path.rsplit("/", 1)[-1]
    return method, parse_form(request.headers.get("content-type", ""), request.content or b"")


def mock_transport(world: FakeTelegram) -> httpx.MockTransport:
    """An httpx transport whose every request is answered by `world`."""

    async def handle(request: httpx.Request) -> httpx.Response:
        await request.aread()
        method, form = _parse(request)
        params = world.decode(method, form)
        if method.lower() == "getupdates":
            timeout = float(params.get("timeout", 0) or 0)
            await asyncio.to_thread(world.wait_updates, params.get("offset"), timeout)
        status, body = world.call(method, params)
        return httpx.Response(status, json=body)

    return httpx.MockTransport(handle)


def double_request(world: FakeTelegram, *, read_timeout: float = 5.0) -> HTTPXRequest:
    """PTB's own request class, wired to the double instead of the network."""
    return HTTPXRequest(
        connection_pool_size=8,
        read_timeout=read_timeout,
        httpx_kwargs={"transport": mock_transport(world)},
    )
