"""The bot's HTTP app and `POST /api/orders`, where the shop pushes orders signed with
HMAC-SHA256 of the raw body.

The app runs inside the bot's process (uvicorn on the same event loop) when HTTP_PORT is
set; it always serves health and metrics (bot/health.py), and the orders route only when
ORDERS_WEBHOOK_SECRET is set. A bad signature gets 401, a malformed body 422 with field
errors, a replayed order id 200 with `"stored": false`.

Slow or stalled clients are bounded: a body not received within BODY_TIMEOUT seconds is
answered 408 and its connection closed; an idle keep-alive connection is closed after
KEEP_ALIVE seconds; on stop, requests still open after GRACEFUL_STOP seconds are cut off, so
the bot's own stop always goes on. uvicorn has no timeout for a connection that never
finishes its request headers: the reverse proxy in front should cap those (and the number
of connections per client).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import errno
import hashlib
import hmac
import json
import logging
import re
import socket
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

import uvicorn
from pydantic import ValidationError
from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route

from bot.logs import CutOff
from bot.order_texts import field_error
from campaigns.errors import UnknownChat
from campaigns.orders import OrderIn
from campaigns.ports import UnitOfWork
from campaigns.services.orders import record_order
from campaigns.services.tiers import TierChange

SIGNATURE_HEADER = "X-Signature"
MAX_BODY = 64 * 1024
BODY_TIMEOUT = 10.0  # seconds for a whole request body to arrive
KEEP_ALIVE = 5  # seconds an idle keep-alive connection stays open
GRACEFUL_STOP = 3  # seconds open requests get to finish when the bot stops
MAX_CONNECTIONS = 500  # past this, requests are answered 503 at once (uvicorn's limit)
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


class Refused(Exception):
    """A request refused before its body was read in full: `response` says why."""

    def __init__(self, status: int, error: str, *, close: bool = False) -> None:
        super().__init__(error)
        headers = {"Connection": "close"} if close else None
        self.response = JSONResponse({"error": error}, status_code=status, headers=headers)


class _Reads:
    """The request bodies being read now, each under its own time limit: when the server
    stops, they are cut off at once (503: Telegram or the shop sends again) rather than
    holding the stop for a client that stalls."""

    def __init__(self) -> None:
        self.open: set[asyncio.Timeout] = set()
        self.cut: set[asyncio.Timeout] = set()

    def cut_off(self) -> None:
        now = asyncio.get_running_loop().time()
        for limit in self.open:
            self.cut.add(limit)
            limit.reschedule(now)


READS = _Reads()


async def read_body(request: Request, limit: int = MAX_BODY) -> bytes:
    """The body, refused before reading past `limit` whether or not Content-Length is sent,
    and refused with 408 (closing the connection) unless it all arrives within
    BODY_TIMEOUT seconds: a client that stalls cannot hold a request open."""
    deadline = asyncio.timeout(BODY_TIMEOUT)
    try:
        async with deadline:
            READS.open.add(deadline)
            try:
                return await _read_body(request, limit)
            finally:
                READS.open.discard(deadline)
    except TimeoutError:
        if deadline in READS.cut:
            READS.cut.discard(deadline)
            raise Refused(503, "the bot is stopping; send again", close=True) from None
        raise Refused(408, "request body not received in time", close=True) from None
    except ClientDisconnect:
        raise Refused(400, "the client went away", close=True) from None


async def _read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared is not None:
        digits = declared.strip()
        if not (digits.isascii() and digits.isdigit()):
            raise Refused(400, "bad Content-Length")
        if len(digits.lstrip("0")) > len(str(limit)) or int(digits) > limit:
            raise Refused(413, "body too large")
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            raise Refused(413, "body too large")
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
    uow: Callable[[], UnitOfWork],
    secret: str,
    received_at: dt.datetime | None = None,
    *,
    on_promotion: Callable[[TierChange], Awaitable[None]] | None = None,
) -> list[BaseRoute]:
    """`POST /api/orders`; `uow` makes a unit of work on the bot's database.

    Coupons are judged at the time of receipt (`received_at` pins it, for tests). An order
    that promotes its buyer to a tier is told to `on_promotion` (a private notice) first.
    """

    async def post_order(request: Request) -> JSONResponse:
        try:
            body = await read_body(request)
        except Refused as refused:
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
        promotion = result.promotion
        if promotion is not None and on_promotion is not None:
            await on_promotion(promotion)
        return JSONResponse(
            {
                "stored": result.stored,
                "points": result.points,
                "coupons_used": result.coupons_used,
                "coupons_refused": [{"code": c, "reason": r} for c, r in result.coupons_refused],
                "tier": None if promotion is None else promotion.new,
            }
        )

    return [Route("/api/orders", post_order, methods=["POST"])]


# uvicorn logs a request it cancelled at GRACEFUL_STOP with the cancellation's traceback.
logging.getLogger("uvicorn.error").addFilter(
    CutOff(f"a request still open after {GRACEFUL_STOP} s was cut off: the bot is stopping")
)


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


class BindError(OSError):
    """The HTTP port could not be bound; the message says which setting, where and why."""


def bind(host: str, port: int, setting: str = "HTTP_PORT") -> list[socket.socket]:
    """Listening sockets for every address `host` names (as uvicorn would bind them), bound
    here so that a busy port is one BindError before anything has started."""
    where = f"{setting} {port} on {host}"
    try:
        infos = socket.getaddrinfo(
            host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
        )
    except OSError as error:
        raise BindError(f"{where}: the host is unknown ({error.strerror or error})") from None
    sockets: list[socket.socket] = []
    try:
        for family, kind, proto, _, address in dict.fromkeys(infos):
            sock = socket.socket(family, kind, proto)
            sockets.append(sock)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if family == socket.AF_INET6:
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            sock.bind(address)
            sock.set_inheritable(False)
    except OSError as error:
        for sock in sockets:
            sock.close()
        why = error.strerror or str(error) or type(error).__name__
        if error.errno == errno.EADDRINUSE:
            raise BindError(
                f"{where} is in use ({why}): stop what holds it or choose another port"
            ) from None
        raise BindError(f"{where} cannot be bound ({why})") from None
    return sockets


class HttpServer:
    """uvicorn serving the app as a task on the running loop; stopped with the bot.

    The port is bound by `start()` itself (BindError if it cannot be): uvicorn would call
    sys.exit inside its task instead."""

    def __init__(self, app: Starlette, host: str, port: int, setting: str = "HTTP_PORT") -> None:
        # log_config=None: uvicorn's lines go through the bot's own handlers (JSON or text)
        # instead of the handlers uvicorn would install.
        config = uvicorn.Config(
            app,
            host=host,
            port=port,
            http="h11",
            log_level="warning",
            lifespan="off",
            log_config=None,
            timeout_keep_alive=KEEP_ALIVE,
            timeout_graceful_shutdown=GRACEFUL_STOP,
            limit_concurrency=MAX_CONNECTIONS,
        )
        self.host, self.port, self.setting = host, port, setting
        self.server = _BotsSignals(config)
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Bind the port (BindError if it cannot be), then serve on it in a task."""
        sockets = bind(self.host, self.port, self.setting)
        serve = self.server.serve(sockets=sockets)
        self._task = asyncio.get_running_loop().create_task(serve, name="http")

    async def started(self) -> None:
        """Wait until uvicorn serves (Telegram may deliver the moment the webhook is set);
        raises if it could not start."""
        while not self.server.started:
            if self._task is None or self._task.done():
                raise OSError("the HTTP server did not start")
            await asyncio.sleep(0.01)

    async def stop(self) -> None:
        """Stop serving: open requests get GRACEFUL_STOP seconds, then are cut off."""
        if self._task is None:
            return
        task, self._task = self._task, None
        READS.cut_off()  # a stalled upload is answered now, not after GRACEFUL_STOP
        self.server.should_exit = True
        done, _ = await asyncio.wait({task}, timeout=GRACEFUL_STOP + 5)
        if not done:  # uvicorn's own limit failed: do not let it hold up the bot's stop
            task.cancel()
            await asyncio.wait({task})
        if not task.cancelled() and (error := task.exception()) is not None:
            log.error("HTTP server stopped with an error: %s", str(error) or type(error).__name__)
