"""The double over real HTTP on 127.0.0.1, for `growthbot run` as a separate process."""

from __future__ import annotations

import contextlib
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlparse

from bot.double.forms import parse_form
from bot.double.world import FakeTelegram


class _Handler(BaseHTTPRequestHandler):
    world: FakeTelegram

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the recorded calls are the log."""

    def _reply(self, status: int, body: Any) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        # A client that went away (a bot process killed mid-request) gets no answer.
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            self.wfile.write(data)

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length)
        if len(raw) < length:  # the client died mid-request: Telegram would never see it
            self.close_connection = True
            return
        path = urlparse(self.path).path
        if path == "/_double/updates":
            self.world.push(json.loads(raw))
            self._reply(200, {"ok": True})
            return
        method = path.rsplit("/", 1)[-1]
        form = parse_form(self.headers.get("Content-Type", ""), raw)
        params = self.world.decode(method, form)
        if method.lower() == "getupdates":
            self.world.wait_updates(params.get("offset"), float(params.get("timeout", 0) or 0))
        status, body = self.world.call(method, params)
        self._reply(status, body)

    def do_GET(self) -> None:
        if urlparse(self.path).path == "/_double/calls":
            self._reply(
                200,
                [
                    {
                        "method": c.method,
                        "params": c.params,
                        "problems": [str(p) for p in c.problems],
                    }
                    for c in self.world.calls
                ],
            )
        else:
            self._reply(404, {"ok": False, "error_code": 404, "description": "Not Found"})


class DoubleServer:
    """Serve `world` on 127.0.0.1:port (0 picks a free port) in a background thread."""

    def __init__(self, world: FakeTelegram, port: int = 0) -> None:
        handler = type("Handler", (_Handler,), {"world": world})
        self.httpd = ThreadingHTTPServer(("127.0.0.1", port), handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        """The value for TELEGRAM_API_BASE_URL."""
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/bot"

    def __enter__(self) -> DoubleServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
