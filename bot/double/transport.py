"""Connect PTB to the double in-process: its real HTTPXRequest over an httpx MockTransport."""

from __future__ import annotations

import asyncio
import json
from urllib.parse import parse_qsl

import httpx
from telegram.request import HTTPXRequest

from bot.double.world import FakeTelegram


def _parse(request: httpx.Request) -> tuple[str, dict[str, str]]:
    method = request.url.path.rsplit("/", 1)[-1]
    body = request.content.decode("utf-8") if request.content else ""
    ctype = request.headers.get("content-type", "")
    if ctype.startswith("application/json") and body:
        return method, {
            k: v if isinstance(v, str) else json.dumps(v) for k, v in json.loads(body).items()
        }
    return method, dict(parse_qsl(body, keep_blank_values=True))


def mock_transport(world: FakeTelegram) -> httpx.MockTransport:
    """An httpx transport whose every request is answered by `world`."""

    async def handle(request: httpx.Request) -> httpx.Response:
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
