"""What the command line says to an operator who typed something wrong: one clear line,
the right exit code, nothing stored. Called in process: no real process is needed."""

import datetime as dt
import json

import pytest

from bot.double import FakeTelegram
from bot.double.server import DoubleServer
from tests.cli.conftest import Growthbot, register_group

GROUP = -1002000000001


def test_a_bad_setting_stops_startup_with_one_line_naming_it(growthbot: Growthbot):
    result = growthbot("db", "upgrade", DEFAULT_TIMEZONE="Mars/Olympus")

    assert result.code == 2
    assert result.err.count("\n") == 1
    assert "DEFAULT_TIMEZONE" in result.err and "Traceback" not in result.err


def test_run_without_a_token_says_how_to_get_one(growthbot: Growthbot):
    result = growthbot("run", TELEGRAM_BOT_TOKEN="")

    assert result.code == 2
    assert "TELEGRAM_BOT_TOKEN" in result.err and "BotFather" in result.err


@pytest.mark.parametrize(
    ("url", "env", "says"),
    [
        ("http://bot.example.com/tg", {}, "https:// URL on port 443, 80, 88 or 8443"),
        ("https://bot.example.com:8080/tg", {}, "https:// URL on port 443, 80, 88 or 8443"),
        (
            "https://bot.example.com/tg",
            {"TELEGRAM_WEBHOOK_SECRET": "", "HTTP_PORT": ""},
            "secrets.token_urlsafe",
        ),
        ("https://bot.example.com/tg", {"HTTP_PORT": ""}, "HTTP_PORT"),
    ],
)
def test_webhook_mode_says_what_it_is_missing_before_starting(growthbot: Growthbot, url, env, says):
    ready = {"TELEGRAM_WEBHOOK_SECRET": "s3cret", "HTTP_PORT": "8443"}

    result = growthbot("run", "--webhook", url, **(ready | env))

    assert result.code == 2
    assert says in result.err and result.err.count("\n") == 1


def test_a_bad_webhook_secret_token_is_refused_as_a_setting(growthbot: Growthbot):
    result = growthbot("run", "--webhook", "https://b.example/tg", TELEGRAM_WEBHOOK_SECRET="a b")

    assert result.code == 2 and "TELEGRAM_WEBHOOK_SECRET" in result.err


def test_a_worker_needs_postgresql(growthbot: Growthbot):
    result = growthbot("worker")

    assert result.code == 2
    assert "PostgreSQL" in result.err and "run --webhook" in result.err


def test_export_of_an_unknown_group_is_a_clear_error(growthbot: Growthbot):
    assert growthbot("db", "upgrade").code == 0

    result = growthbot("export", "members", "--chat", "-42")

    assert result.code == 1
    assert "no group with id -42" in result.err


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--type", "percent", "--value", "0"], "--value"),
        (["--type", "percent", "--value=Infinity"], "--value: a percentage"),
        (["--type", "percent", "--value=-Infinity"], "--value: a percentage"),
        (["--type", "percent", "--value=NaN"], "--value: a percentage"),
        (["--type", "percent", "--value=1e100000"], "--value: a percentage"),
        (["--type", "percent", "--value", "12.345"], "at most 2 decimals"),
        (["--type", "fixed", "--value", "30", "--min-spend", "1.999"], "decimals"),
        (["--type", "fixed", "--value", "30", "--valid-until", "2026-12-31"], "UTC offset"),
    ],
)
def test_coupon_create_refuses_bad_values_naming_the_option(growthbot: Growthbot, args, says):
    result = growthbot("coupons", "create", "--chat", "-42", "--name", "x", *args)

    assert result.code == 2
    assert says in result.err and "Traceback" not in result.err


def test_orders_import_validates_every_row_and_imports_nothing_from_a_bad_file(
    growthbot: Growthbot,
):
    assert growthbot("db", "upgrade").code == 0
    url = growthbot.env["DATABASE_URL"]
    register_group(url, GROUP)
    good = "A-1,42,199.90,2026-11-20T10:00:00+08:00\nA-2,43,20,2026-11-20T11:00:00+08:00\n"
    bad = "A-3,44,12.345,2026-11-20T12:00:00+08:00\nA-4,45,10,yesterday\n"
    csv_file = growthbot.folder / "orders.csv"
    csv_file.write_text("external_id,member,amount,at\n" + good + bad, encoding="utf-8")

    refused = growthbot("orders", "import", str(csv_file), "--chat", str(GROUP))
    skipped = growthbot("orders", "import", str(csv_file), "--skip-bad")  # the bot's one group
    replayed = growthbot("orders", "import", str(csv_file), "--skip-bad", "--json")
    register_group(url, GROUP - 1)
    ambiguous = growthbot("orders", "import", str(csv_file))

    assert refused.code == 1
    assert "line 4: amount" in refused.err and "line 5: at" in refused.err
    assert "nothing imported" in refused.err
    assert skipped.code == 0 and "2 imported" in skipped.out and "2 skipped" in skipped.out
    report = json.loads(replayed.out)
    assert (report["imported"], report["replayed"], report["skipped"]) == (0, 2, 2)
    assert ambiguous.code == 1 and "line 2: chat_id: which group?" in ambiguous.err


def _deal(*extra: str) -> list[str]:
    ends = (dt.datetime.now(dt.UTC) + dt.timedelta(days=3)).isoformat()
    return ["groupbuy", "create", "--chat", str(GROUP), "--title", "奶茶三人团", "--price", "30",
            "--group-price", "19.9", "--team-minutes", "60", "--ends-at", ends, *extra]  # fmt: skip


def test_groupbuy_create_from_the_command_line(growthbot: Growthbot):
    assert growthbot("db", "upgrade").code == 0
    register_group(growthbot.env["DATABASE_URL"], GROUP)

    bad = growthbot(*_deal("--size", "99"))
    made = growthbot(*_deal("--size", "3", "--stock", "30", "--json"))

    assert bad.code == 2 and "team size must be 2 to 50" in bad.err
    deal = json.loads(made.out)
    assert (deal["price"], deal["group_price"], deal["size"], deal["stock"]) == (3000, 1990, 3, 30)
    assert deal["message_id"] is None


def test_groupbuy_create_uploads_its_photo_and_posts_it(growthbot: Growthbot):
    assert growthbot("db", "upgrade").code == 0
    register_group(growthbot.env["DATABASE_URL"], GROUP)
    (growthbot.folder / "tea.jpg").write_bytes(b"\xff\xd8\xff\xe0" + bytes(2000))
    (growthbot.folder / "tea.gif").write_bytes(b"GIF89a")
    world = FakeTelegram()
    world.add_group(GROUP, "Shop")

    with DoubleServer(world) as server:
        api = {"TELEGRAM_API_BASE_URL": server.base_url}
        made = growthbot(*_deal("--size", "3", "--photo", "tea.jpg", "--post", "--json"), **api)
        gif = growthbot(*_deal("--size", "3", "--photo", "tea.gif"), **api)

    [photo] = [c for c in world.calls if c.method == "sendPhoto"]
    assert photo.params["photo"] == "<upload tea.jpg, 2004 bytes>"
    assert "奶茶三人团" in photo.params["caption"] and photo.params["parse_mode"] == "HTML"
    assert (json.loads(made.out)["photo"], json.loads(made.out)["message_id"]) == ("tea.jpg", 1)
    assert gif.code == 2 and "not a JPEG, PNG or WebP" in gif.err
    assert world.problems() == []
