"""Connect PTB to the double in-process: its real HTTPXRequest over an httpx MockTransport."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

import httpx
from telegram.request import HTTPXRequest

from bot.double.forms import parse_form
from bot.double.world import JSON, FakeTelegram


def _parse(request: httpx.Request) -> tuple[str, dict[str, str]]:
    method = request.url.path.rsplit("/", 1)[-1]
    return method, parse_form(request.headers.get("content-type", ""), request.content or b"")


def mock_transport(world: FakeTelegram, *, apart: bool = False) -> httpx.MockTransport:
    """An httpx transport whose every request is answered by `world`.

    By default the double answers on the caller's thread, so a test sees its effects the
    moment a request returns. With `apart`, it answers on a thread of its own, one request at
    a time, as Telegram's servers answer elsewhere: the benchmarks use it so that the
    double's checks of every request (an HTML parse of each text, say) are not timed as the
    bot holding its event loop.
    """
    server = ThreadPoolExecutor(1, thread_name_prefix="telegram-double") if apart else None

    def answer(request: httpx.Request) -> tuple[int, JSON]:
        method, form = _parse(request)
        return world.call(method, world.decode(method, form))

    async def handle(request: httpx.Request) -> httpx.Response:
        await request.aread()
        failure = world.cut_off_now(request.url.path.rsplit("/", 1)[-1])
        if failure is not None:  # lost on the way: Telegram never sees it
            raise failure("the network is unreachable", request=request)  # type: ignore[call-arg]
        if request.url.path.lower().endswith("/getupdates"):
            method, form = _parse(request)
            params = world.decode(method, form)
            timeout = float(params.get("timeout", 0) or 0)
            await asyncio.to_thread(world.wait_updates, params.get("offset"), timeout)
        if server is None:
            status, body = answer(request)
        else:
            status, body = await asyncio.get_running_loop().run_in_executor(server, answer, request)
        return httpx.Response(status, json=body)

    return httpx.MockTransport(handle)


def double_request(
    world: FakeTelegram, *, read_timeout: float = 5.0, apart: bool = False
) -> HTTPXRequest:
    """PTB's own request class, wired to the double instead of the network (`apart`: the
    double answers on a thread of its own, see mock_transport)."""
    return HTTPXRequest(
        connection_pool_size=8,
        read_timeout=read_timeout,
        httpx_kwargs={"transport": mock_transport(world, apart=apart)},
    )
