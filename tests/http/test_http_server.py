"""The bot's HTTP server on a real port, as a client that misbehaves would meet it: a body
that stalls, connections that never finish a request, a port that is taken, a stop while
all of that is open."""

from __future__ import annotations

import asyncio
import socket
import time

import pytest
from starlette.applications import Starlette

from bot import webhooks
from bot.webhooks import BindError, HttpServer, orders_routes
from campaigns.ports import UnitOfWork


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def no_database() -> UnitOfWork:
    raise AssertionError("no request gets as far as the database here")


async def serving() -> HttpServer:
    app = Starlette(routes=orders_routes(no_database, "secret"))
    server = HttpServer(app, "127.0.0.1", free_port())
    server.start()
    await server.started()
    return server


async def stalled_upload(port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """Content-Length: 60000, then one byte and nothing more."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"POST /api/orders HTTP/1.1\r\nHost: bot\r\nContent-Length: 60000\r\n\r\n{")
    await writer.drain()
    return reader, writer


async def test_a_body_that_stalls_is_answered_408_and_its_connection_closed(monkeypatch):
    monkeypatch.setattr(webhooks, "BODY_TIMEOUT", 0.3)
    server = await serving()
    try:
        reader, writer = await stalled_upload(server.port)
        began = time.monotonic()
        answer = await asyncio.wait_for(reader.read(), timeout=5)  # read() waits for EOF
        waited = time.monotonic() - began
        writer.close()
    finally:
        await server.stop()

    assert answer.startswith(b"HTTP/1.1 408 ")
    assert b"connection: close" in answer.lower()
    assert b"request body not received in time" in answer
    assert waited < 3


async def test_a_stop_is_not_held_up_by_stalled_uploads_or_idle_connections():
    server = await serving()
    reader, writer = await stalled_upload(server.port)
    idle = [await asyncio.open_connection("127.0.0.1", server.port) for _ in range(20)]
    for _, w in idle[:10]:  # half of them start a request and never finish its headers
        w.write(b"GET /healthz HTTP/1.1\r\nHo")
        await w.drain()
    await asyncio.sleep(0.2)

    began = time.monotonic()
    await asyncio.wait_for(server.stop(), timeout=15)
    took = time.monotonic() - began
    answer = await asyncio.wait_for(reader.read(), timeout=5)
    closed = [await asyncio.wait_for(r.read(), timeout=5) for r, _ in idle]
    for _, w in [*idle, (reader, writer)]:
        w.close()

    assert took < 2, took
    assert answer.startswith(b"HTTP/1.1 503 ")  # the shop (or Telegram) sends it again
    assert b"the bot is stopping" in answer
    assert closed == [b""] * 20


async def test_a_busy_port_is_one_clear_error_naming_the_setting():
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        server = HttpServer(Starlette(), "127.0.0.1", port, setting="--http-port")
        with pytest.raises(BindError) as raised:
            server.start()
        await server.stop()  # nothing was started: nothing to stop, no error

    message = str(raised.value)
    assert message.startswith(f"--http-port {port} on 127.0.0.1 is in use (")
    assert "\n" not in message
