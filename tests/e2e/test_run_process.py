"""The real `growthbot run` process, polling a Bot API double on 127.0.0.1."""

import datetime as dt
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from bot.double import FakeTelegram
from bot.double.server import DoubleServer

GROUP = -1002000000001
OWNER, ALICE, BOB = 1, 5_100_000_001, 3


def _env(database_url: str, base_url: str = "") -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM_", "DATABASE_"))}
    env.update(
        TELEGRAM_BOT_TOKEN="123:E2E",
        DATABASE_URL=database_url,
        DEFAULT_TIMEZONE="Asia/Shanghai",
        DEFAULT_LANGUAGE="zh",
        LOG_LEVEL="INFO",
        ACTIVITY_FLUSH_SECONDS="30",
    )
    if base_url:
        env["TELEGRAM_API_BASE_URL"] = base_url
    return env


def _run_bot(database_url: str, base_url: str, cwd: Path, **extra: str) -> subprocess.Popen[str]:
    """`growthbot run` as its own process, polling the double at `base_url`."""
    return subprocess.Popen(
        [sys.executable, "-m", "bot", "run"],
        cwd=cwd,
        env=_env(database_url, base_url) | extra,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _wait_for(predicate, timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return False


@pytest.mark.e2e
def test_growthbot_run_replies_and_exports_what_happened(database_url: str, tmp_path: Path):
    world = FakeTelegram()
    world.add_user(OWNER, "Olga")
    world.add_user(ALICE, "Alice", language_code="en")
    world.add_user(BOB, "Bob")
    world.add_group(GROUP, "E2E Club", owner=OWNER)
    now = dt.datetime.now(dt.UTC)
    world.add_bot(GROUP, by=OWNER, queue=True, at=now)
    world.member_update(GROUP, ALICE, "member", queue=True, at=now)
    world.join_message(GROUP, [ALICE], queue=True, at=now)
    world.message(GROUP, ALICE, "大家好", queue=True, at=now)
    world.message(GROUP, ALICE, "签到", queue=True, at=now)
    world.message(GROUP, BOB, "/checkin", queue=True, at=now)
    world.message(GROUP, ALICE, "/checkin", queue=True, at=now)

    with DoubleServer(world) as server:
        proc = _run_bot(database_url, server.base_url, tmp_path)
        try:
            replied = _wait_for(lambda: len(world.sent(GROUP)) >= 4)
        finally:
            proc.send_signal(signal.SIGTERM)
            output, _ = proc.communicate(timeout=30)

    assert replied, output
    assert proc.returncode == 0, output
    setup, *texts = [c.text for c in world.sent(GROUP)]
    assert f"chat id 是 <code>{GROUP}</code>" in setup  # the bot's hello when it was added
    assert "<b>Alice</b> 签到成功，今日第 1 位！" in texts[0]
    assert "<b>Bob</b> 签到成功，今日第 2 位！" in texts[1]
    assert "你今天已经签到过啦" in texts[2]
    assert world.problems() == []
    assert {"chat_member", "my_chat_member", "chat_join_request"} <= set(
        world.allowed_updates or []
    )
    assert any(k.endswith(":zh") for k in world.commands)

    exported = subprocess.run(
        [
            sys.executable,
            "-m",
            "bot",
            "export",
            "members",
            "--chat",
            str(GROUP),
            "--format",
            "json",
        ],
        cwd=tmp_path,
        env=_env(database_url),
        capture_output=True,
        text=True,
        check=True,
    )
    rows = {row["user_id"]: row for row in json.loads(exported.stdout)}
    # Messages were buffered (30 s flush) and written on the clean stop. "/checkin" is a
    # command to the bot, activity but not a message; "签到" is both a message and a check-in.
    assert rows[ALICE]["messages"] == 2
    assert (rows[ALICE]["checkins"], rows[ALICE]["points"], rows[ALICE]["streak"]) == (1, 10, 1)
    assert rows[BOB]["messages"] == 1
    assert rows[ALICE]["display_name"] == "Alice"


@pytest.mark.e2e
def test_growthbot_run_credits_an_invite_and_exports_it(database_url: str, tmp_path: Path):
    world = FakeTelegram()
    world.add_user(OWNER, "Olga")
    world.add_user(ALICE, "Alice", language_code="en")
    world.add_user(BOB, "Bob", language_code="zh-hans")
    world.add_group(GROUP, "E2E Club", owner=OWNER)
    world.start_private(ALICE)
    now = dt.datetime.now(dt.UTC)
    world.add_bot(GROUP, by=OWNER, queue=True, at=now)
    world.message(ALICE, ALICE, "/start", queue=True, at=now)
    world.message(GROUP, OWNER, "/referral set hold 0", queue=True, at=now)
    world.message(GROUP, ALICE, "/invite", queue=True, at=now)

    with DoubleServer(world) as server:
        proc = _run_bot(database_url, server.base_url, tmp_path)
        try:
            got_link = _wait_for(lambda: any("t.me/+" in c.text for c in world.sent(GROUP)))
            if got_link:
                card = next(c.text for c in world.sent(GROUP) if "t.me/+" in c.text)
                url = next(w for w in card.split() if w.startswith("https://t.me/+"))
                world.join_via_link(GROUP, BOB, url, queue=True, at=now)
                world.message(GROUP, BOB, "谢谢邀请", queue=True, at=now)
                world.message(GROUP, BOB, "/me", queue=True, at=now)  # /me writes the buffer
                _wait_for(lambda: any("now counts" in c.text for c in world.sent(ALICE)))
        finally:
            proc.send_signal(signal.SIGTERM)
            output, _ = proc.communicate(timeout=30)

    assert got_link, output
    assert proc.returncode == 0, output
    assert "专属邀请链接" in card  # the group speaks Chinese (DEFAULT_LANGUAGE=zh)
    assert any("<b>Bob</b> joined" in c.text for c in world.sent(ALICE)), output
    assert world.problems() == []
    exported = subprocess.run(
        [sys.executable, "-m", "bot", "export", "members", "--chat", str(GROUP), "--format", "csv"],
        cwd=tmp_path,
        env=_env(database_url),
        capture_output=True,
        text=True,
        check=True,
    )
    header, *lines = exported.stdout.splitlines()
    rows = {
        line.split(",")[0]: dict(zip(header.split(","), line.split(","), strict=True))
        for line in lines
    }
    assert rows[str(BOB)]["invited_by"] == str(ALICE)
    assert rows[str(ALICE)]["invites_confirmed"] == "1"
    assert rows[str(ALICE)]["invites_pending"] == "0"


def _cli(database_url: str, tmp_path: Path, *args: str, base_url: str = "") -> str:
    done = subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=tmp_path,
        env=_env(database_url, base_url),
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


@pytest.mark.e2e
def test_an_operator_creates_posts_and_redeems_a_coupon(database_url: str, tmp_path: Path):
    world = FakeTelegram()
    world.add_user(OWNER, "Olga")
    world.add_user(ALICE, "Alice", language_code="en")
    world.add_group(GROUP, "E2E Club", owner=OWNER)
    world.set_status(GROUP, ALICE, "member")  # a member since before the bot came
    world.add_bot(GROUP, by=OWNER, queue=True, at=dt.datetime.now(dt.UTC))

    with DoubleServer(world) as server:
        proc = _run_bot(database_url, server.base_url, tmp_path)
        try:
            assert _wait_for(lambda: world.updates == [] and world.calls != [])
            time.sleep(0.5)  # the bot registers the group while handling my_chat_member
            offer = json.loads(
                _cli(database_url, tmp_path, "coupons", "create", "--chat", str(GROUP),
                     "--name", "满199减30", "--type", "fixed", "--value", "30",
                     "--min-spend", "199", "--valid-days", "7", "--stock", "100", "--json")
            )  # fmt: skip
            posted = json.loads(
                _cli(database_url, tmp_path, "coupons", "post", "--chat", str(GROUP),
                     "--template", str(offer["id"]), "--json", base_url=server.base_url)
            )  # fmt: skip
            post = world.sent(GROUP)[-1]
            data = post.params["reply_markup"]["inline_keyboard"][0][0]["callback_data"]
            world.callback(GROUP, ALICE, data, queue=True)
            assert _wait_for(lambda: any(c.method == "answerCallbackQuery" for c in world.calls))
            answer = next(c for c in world.calls if c.method == "answerCallbackQuery")
            code = answer.params["text"].split("券码：")[1].split("。")[0]
            world.message(GROUP, OWNER, f"/redeem {code} 250", queue=True)
            assert _wait_for(lambda: "核销成功" in world.sent(GROUP)[-1].text)
        finally:
            proc.send_signal(signal.SIGTERM)
            output, _ = proc.communicate(timeout=30)

    assert proc.returncode == 0, output
    assert (offer["value"], offer["min_spend"], offer["stock"]) == (3000, 19900, 100)
    assert isinstance(posted["message_id"], int)
    assert "满 ¥199.00 可用，减 ¥30.00" in post.text
    assert "实付 <b>¥220.00</b>" in world.sent(GROUP)[-1].text
    assert world.problems() == []
    [row] = json.loads(
        _cli(database_url, tmp_path, "export", "coupons", "--chat", str(GROUP), "--format", "json")
    )
    assert (row["code"], row["member"], row["status"], row["discount"]) == (
        code,
        ALICE,
        "used",
        3000,
    )


@pytest.mark.e2e
def test_growthbot_run_serves_the_signed_orders_webhook(database_url: str, tmp_path: Path):
    import socket

    import httpx

    from bot.webhooks import SIGNATURE_HEADER, sign

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    world = FakeTelegram()
    world.add_user(OWNER, "Olga")
    world.add_user(ALICE, "Alice", language_code="en")
    world.add_group(GROUP, "E2E Club", owner=OWNER)
    now = dt.datetime.now(dt.UTC)
    world.add_bot(GROUP, by=OWNER, queue=True, at=now)
    world.message(GROUP, ALICE, "hi", queue=True, at=now)
    world.message(GROUP, OWNER, "/set order_points 2", queue=True, at=now)
    body = json.dumps(
        {"external_id": "S-1", "chat_id": GROUP, "member": ALICE, "amount": "88.80",
         "at": now.isoformat()}
    ).encode()  # fmt: skip

    with DoubleServer(world) as server:
        env = _env(database_url, server.base_url) | {
            "HTTP_PORT": str(port),
            "ORDERS_WEBHOOK_SECRET": "shh",
            "ACTIVITY_FLUSH_SECONDS": "0.2",
        }
        proc = subprocess.Popen(
            [sys.executable, "-m", "bot", "run"],
            cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
        try:
            assert _wait_for(lambda: any("order_points" in c.text for c in world.sent(GROUP)))
            time.sleep(0.5)  # Alice's message is written by the activity buffer

            def post(signature: str) -> httpx.Response:
                return httpx.post(
                    f"http://127.0.0.1:{port}/api/orders",
                    content=body,
                    headers={SIGNATURE_HEADER: signature},
                    timeout=5,
                )

            assert _wait_for(lambda: _reachable(port))
            forged, first, replay = post("0" * 64), post(sign("shh", body)), post(sign("shh", body))
        finally:
            proc.send_signal(signal.SIGTERM)
            output, _ = proc.communicate(timeout=30)

    assert proc.returncode == 0, output
    assert forged.status_code == 401
    assert (first.status_code, first.json()["stored"], first.json()["points"]) == (200, True, 176)
    assert replay.json()["stored"] is False
    rows = json.loads(
        _cli(database_url, tmp_path, "export", "members", "--chat", str(GROUP), "--format", "json")
    )
    alice = next(r for r in rows if r["user_id"] == ALICE)
    assert (alice["orders"], alice["spend"], alice["points"]) == (1, 8880, 176)


def _reachable(port: int) -> bool:
    import socket

    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def _get(port: int, path: str) -> httpx.Response | None:
    try:
        return httpx.get(f"http://127.0.0.1:{port}{path}", timeout=5)
    except httpx.TransportError:
        return None


@pytest.mark.e2e
def test_growthbot_run_serves_health_and_metrics_and_logs_json(database_url: str, tmp_path: Path):
    from prometheus_client.parser import text_string_to_metric_families

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    world = FakeTelegram()
    world.add_user(OWNER, "Olga")
    world.add_user(ALICE, "Alice", language_code="en")
    world.add_group(GROUP, "E2E Club", owner=OWNER)
    now = dt.datetime.now(dt.UTC)
    world.add_bot(GROUP, by=OWNER, queue=True, at=now)
    world.message(GROUP, ALICE, "大家好", queue=True, at=now)
    world.message(GROUP, ALICE, "签到", queue=True, at=now)

    with DoubleServer(world) as server:
        # HTTP_PORT without ORDERS_WEBHOOK_SECRET: health and metrics, no orders route.
        proc = _run_bot(
            database_url, server.base_url, tmp_path, HTTP_PORT=str(port), LOG_FORMAT="json"
        )
        try:
            replied = _wait_for(lambda: len(world.sent(GROUP)) >= 2)
            ready = _wait_for(lambda: getattr(_get(port, "/readyz"), "status_code", 0) == 200)
            alive, metrics = _get(port, "/healthz"), _get(port, "/metrics")
            orders = httpx.post(f"http://127.0.0.1:{port}/api/orders", content=b"{}", timeout=5)
        finally:
            proc.send_signal(signal.SIGTERM)
            output, _ = proc.communicate(timeout=30)

    assert replied and ready, output
    assert proc.returncode == 0, output
    assert alive is not None and alive.json() == {"status": "alive"}
    assert orders.status_code == 404
    assert metrics is not None
    samples = {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(metrics.text)
        for s in family.samples
    }
    assert samples[("growthbot_updates_total", (("outcome", "ok"), ("type", "message")))] == 2
    assert samples[("growthbot_outbox_depth", ())] == 0
    lines = [json.loads(line) for line in output.splitlines()]  # every line is JSON
    assert lines and all({"time", "level", "logger", "message"} <= set(x) for x in lines)
    assert any(x["message"] == "Application started" for x in lines), output
    # uvicorn leaves SIGTERM to the bot: the stop is not cut short, buffered activity is written
    # (ACTIVITY_FLUSH_SECONDS is 30: only the stop writes it).
    assert any(x["message"].startswith("activity buffer flushed") for x in lines), output
    rows = json.loads(
        _cli(database_url, tmp_path, "export", "members", "--chat", str(GROUP), "--format", "json")
    )
    assert next(r for r in rows if r["user_id"] == ALICE)["messages"] == 2
