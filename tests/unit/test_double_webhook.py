"""The double's webhook answers setWebhook as Telegram does, and delivers like Telegram: one
chat's updates in order, each retried until a 2xx, with the secret token on every request."""

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from bot.double import FakeTelegram

GROUP, OTHER, ALICE = -1001, -1002, 42


def world() -> FakeTelegram:
    w = FakeTelegram()
    w.add_user(ALICE, "Alice")
    w.add_group(GROUP, "One")
    w.add_group(OTHER, "Two")
    return w


@pytest.mark.parametrize(
    ("params", "refusal"),
    [
        ({"url": "http://bot.example.com/hook"}, "An HTTPS URL must be provided"),
        ({"url": "https://bot.example.com:8080/hook"}, "only on ports 80, 88, 443 or 8443"),
        ({"url": "https://bot.example.com/h", "secret_token": "a b"}, "unallowed characters"),
        ({"url": "https://bot.example.com/h", "secret_token": "x" * 257}, "secret_token"),
        ({"url": "https://bot.example.com/h", "max_connections": 101}, "max_connections"),
    ],
)
def test_set_webhook_refuses_what_telegram_refuses(params, refusal):
    w = world()

    status, body = w.call("setWebhook", params)

    assert status == 400 and refusal in body["description"]
    assert w.webhook is None


def test_with_a_webhook_set_get_updates_is_a_conflict_until_it_is_deleted():
    w = world()
    w.call("setWebhook", {"url": "https://bot.example.com:8443/hook", "secret_token": "s"})

    during = w.call("getUpdates", {})
    w.call("deleteWebhook", {})
    after = w.call("getUpdates", {})

    assert during[0] == 409 and "deleteWebhook" in during[1]["description"]
    assert after == (200, {"ok": True, "result": []})


class Bot(BaseHTTPRequestHandler):
    """A webhook endpoint that refuses the first `fail` requests, then records each update."""

    fail = 0
    seen: list[tuple[int, str | None]]
    lock = threading.Lock()

    def log_message(self, *args: object) -> None:
        pass

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        with self.lock:
            refuse = type(self).fail > 0
            type(self).fail -= 1
            if not refuse:
                self.seen.append(
                    (body["update_id"], self.headers.get("X-Telegram-Bot-Api-Secret-Token"))
                )
        time.sleep(0.01)
        self.send_response(500 if refuse else 200)
        self.send_header("Content-Length", "0")
        self.end_headers()


@pytest.fixture
def endpoint():
    handler = type("Handler", (Bot,), {"fail": 3, "seen": []})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield handler, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_updates_are_posted_with_the_token_retried_after_errors_and_kept_in_chat_order(endpoint):
    handler, base = endpoint
    w = world()
    w.reverse_proxy = base
    queued = w.message(GROUP, ALICE, "waiting since before the webhook", queue=True)
    w.call("setWebhook", {"url": "https://bot.example.com/tg/hook", "secret_token": "tok"})
    updates = [
        w.message(chat, ALICE, str(i), queue=True) for i in range(5) for chat in (GROUP, OTHER)
    ]

    deadline = time.monotonic() + 10
    while w.api_getWebhookInfo({})["pending_update_count"] and time.monotonic() < deadline:
        time.sleep(0.02)
    info = w.api_getWebhookInfo({})
    w.close()

    ids = [u for u, _ in handler.seen]
    assert sorted(ids) == sorted([queued["update_id"], *(u["update_id"] for u in updates)])
    in_group = [
        u for u in ids if u in {queued["update_id"], *(x["update_id"] for x in updates[::2])}
    ]
    assert in_group == sorted(in_group)  # one chat's updates arrive in order, retries included
    assert {t for _, t in handler.seen} == {"tok"}
    assert info["pending_update_count"] == 0
    assert "500" in info["last_error_message"]


def test_without_a_way_to_reach_the_bot_nothing_is_lost():
    w = world()
    w.call("setWebhook", {"url": "https://bot.example.com/tg"})
    update = w.message(GROUP, ALICE, "hi", queue=True)
    time.sleep(0.2)

    info = w.api_getWebhookInfo({})
    w.call("deleteWebhook", {})

    assert info["pending_update_count"] == 1 and "reverse_proxy" in info["last_error_message"]
    assert w.updates == [update]  # back in the getUpdates queue
