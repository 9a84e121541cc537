"""The bot's HTTP app and `POST /api/orders`, where the shop pushes orders signed with
HMAC-SHA256 of the raw body.

The app runs inside the bot's process (uvicorn on the same event loop) when HTTP_PORT is
set; it always serves health and metrics (bot/health.py), and the orders route only when
ORDERS_WEBHOOK_SECRET is set. A bad signature gets 401, a malformed body 422 with field
errors, a replayed order id 200 with `"stored": false`.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import hashlib
import hmac
import json
import logging
import re
from collections.abc import Callable, Iterator
from typing import Any

import uvicorn
from pydantic import ValidationError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route

from bot.order_texts import field_error
from campaigns.errors import UnknownChat
from campaigns.orders import OrderIn
from campaigns.ports import UnitOfWork
from campaigns.services.orders import record_order

SIGNATURE_HEADER = "X-Signature"
MAX_BODY = 64 * 1024
HEX_DIGEST = re.compile(r"[0-9a-f]{64}")
log = logging.getLogger(__name__)


def sign(secret: str, body: bytes) -> str:
    """The header value a shop sends: hex HMAC-SHA256 of the exact body bytes."""
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _valid(secret: str, body: bytes, header: str | None) -> bool:
    """Anything but 64 hex digits (after an optional `sha256=`) is a bad signature, not a 500."""
    given = (header or "").strip().lower().removeprefix("sha256=").strip()
    if not HEX_DIGEST.fullmatch(given):
        return False
    return hmac.compare_digest(given.encode("ascii"), sign(secret, body).encode("ascii"))


class _Refused(Exception):
    def __init__(self, status: int, error: str) -> None:
        super().__init__(error)
        self.response = JSONResponse({"error": error}, status_code=status)


async def _read_body(request: Request) -> bytes:
    """The body, refused before reading past MAX_BODY whether or not Content-Length is sent."""
    declared = request.headers.get("content-length")
    if declared is not None:
        digits = declared.strip()
        if not (digits.isascii() and digits.isdigit()):
            raise _Refused(400, "bad Content-Length")
        if len(digits.lstrip("0")) > len(str(MAX_BODY)) or int(digits) > MAX_BODY:
            raise _Refused(413, "body too large")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY:
            raise _Refused(413, "body too large")
    return bytes(body)


def _errors(error: ValidationError) -> list[dict[str, str]]:
    fields = [".".join(map(str, e["loc"])) or "-" for e in error.errors()]
    return [
        {"field": f, "error": field_error(f, e)}
        for f, e in zip(fields, error.errors(), strict=True)
    ]


def orders_app(
    uow: Callable[[], UnitOfWork], secret: str, received_at: dt.datetime | None = None
) -> Starlette:
    """An app serving only the orders route (its tests)."""
    return Starlette(routes=orders_routes(uow, secret, received_at))


def orders_routes(
    uow: Callable[[], UnitOfWork], secret: str, received_at: dt.datetime | None = None
) -> list[BaseRoute]:
    """`POST /api/orders`; `uow` makes a unit of work on the bot's database.

    Coupons are judged at the time of receipt (`received_at` pins it, for tests).
    """

    async def post_order(request: Request) -> JSONResponse:
        try:
            body = await _read_body(request)
        except _Refused as refused:
            return refused.response
        if not _valid(secret, body, request.headers.get(SIGNATURE_HEADER)):
            return JSONResponse({"error": "bad signature"}, status_code=401)
        try:
            data: Any = json.loads(body)
        except (ValueError, RecursionError):  # RecursionError: `[[[[...` nested too deep
            return JSONResponse({"errors": [{"field": "-", "error": "not JSON"}]}, 422)
        if not isinstance(data, dict):
            return JSONResponse({"errors": [{"field": "-", "error": "expected an object"}]}, 422)
        try:
            order = OrderIn.model_validate(data)
        except ValidationError as error:
            return JSONResponse({"errors": _errors(error)}, status_code=422)
        if order.chat_id is None:
            return JSONResponse({"errors": [{"field": "chat_id", "error": "required"}]}, 422)
        try:
            result = await record_order(
                uow(),
                order,
                chat_id=order.chat_id,
                source="webhook",
                received_at=received_at or dt.datetime.now(dt.UTC),
            )
        except UnknownChat:
            return JSONResponse({"errors": [{"field": "chat_id", "error": "unknown group"}]}, 422)
        return JSONResponse(
            {
                "stored": result.stored,
                "points": result.points,
                "coupons_used": result.coupons_used,
                "coupons_refused": [{"code": c, "reason": r} for c, r in result.coupons_refused],
            }
        )

    return [Route("/api/orders", post_order, methods=["POST"])]


class _BotsSignals(uvicorn.Server):
    """uvicorn that leaves SIGINT/SIGTERM to the bot.

    By default uvicorn takes them over while it serves and raises them again when it has
    stopped: the bot, already stopping, got a second SIGTERM in the middle of post_stop,
    which cut off the activity buffer's last write ("Event loop is closed" at exit). The
    bot stops this server itself, in post_stop.
    """

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


class HttpServer:
    """uvicorn serving the app as a task on the running loop; stopped with the bot."""

    def __init__(self, app: Starlette, host: str, port: int) -> None:
        # log_config=None: uvicorn's lines go through the bot's own handlers (JSON or text)
        # instead of the handlers uvicorn would install.
        config = uvicorn.Config(
            app, host=host, port=port, log_level="warning", lifespan="off", log_config=None
        )
        self.server = _BotsSignals(config)
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self.server.serve(), name="http")

    async def stop(self) -> None:
        if self._task is None:
            return
        self.server.should_exit = True
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self._task = None
