"""/metrics after real updates: updates by type and outcome, handler latency, errors, 429s,
the outbox's sends and backlog; JSON log lines carry the update they were written for.
Read through the application's own HTTP app, as Prometheus would."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from bot.logs import JsonFormatter
from tests.handlers.conftest import ALICE, BOB, CAROL, GROUP, MONDAY, OWNER, Harness, tap
from tests.handlers.test_broadcasts import buttons, members_who_started

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


@pytest.fixture
async def http(bot: Harness) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=bot.app.http)
    async with httpx.AsyncClient(transport=transport, base_url="http://bot") as client:
        yield client


async def scrape(http: httpx.AsyncClient) -> Samples:
    page = await http.get("/metrics")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/plain")
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(page.text)
        for s in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


async def test_updates_are_counted_by_type_and_outcome_with_their_latency(bot: Harness, http):
    checkin = bot.world.message(GROUP, ALICE, "/checkin", at=MONDAY)
    await bot.send(checkin)
    await bot.send(checkin)  # Telegram redelivers it
    await bot.say(BOB, "just chatting")
    await bot.say(CAROL, "/set language zh")  # a member tries an admin command
    await bot.send(bot.world.callback(GROUP, ALICE, "no handler knows this", fresh=True))

    samples = await scrape(http)

    updates = "growthbot_updates_total"
    assert value(samples, updates, type="message", outcome="ok") == 2  # check-in, chatter
    assert value(samples, updates, type="message", outcome="duplicate") == 1
    assert value(samples, updates, type="message", outcome="refused") == 1
    assert value(samples, updates, type="my_chat_member", outcome="ok") == 1  # the bot added
    assert value(samples, updates, type="callback_query", outcome="refused") == 1  # not ours
    counted = sum(v for (name, _), v in samples.items() if name == updates)
    timed = sum(v for (n, _), v in samples.items() if n == "growthbot_handler_seconds_count")
    assert counted == timed == 6
    took = value(samples, "growthbot_handler_seconds_sum", type="message")
    assert 0 < took < 30
    assert value(samples, "growthbot_errors_total", where="handler") == 0


async def test_a_429_and_a_bug_in_a_handler_are_counted(bot: Harness, http, monkeypatch):
    bot.world.fail_next("sendMessage", 429, "Too Many Requests: retry after 7", retry_after=7)
    *_refused, checked_in = await bot.clock.run(bot.say(ALICE, "/checkin"))  # again after 7 s

    async def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("a bug")

    monkeypatch.setattr("handlers.checkin.check_in", broken)
    await bot.say(BOB, "/checkin")
    samples = await scrape(http)

    assert "checked in" in checked_in
    assert value(samples, "growthbot_telegram_retry_after_total", source="reply") == 1
    assert value(samples, "growthbot_errors_total", where="handler") == 1
    assert value(samples, "growthbot_updates_total", type="message", outcome="error") == 1


async def test_telegram_out_of_reach_is_logged_as_telegram_not_the_database(
    bot: Harness, monkeypatch, caplog
):
    """A connection to Telegram reset mid-request was logged as "the database: connection
    failed": the operator looked in the wrong place."""
    from telegram.error import NetworkError

    async def reset(*args: object, **kwargs: object) -> None:
        raise NetworkError("httpx.ReadError: [Errno 104] Connection reset by peer") from (
            ConnectionResetError(104, "Connection reset by peer")
        )

    monkeypatch.setattr("handlers.checkin.check_in", reset)
    with caplog.at_level(logging.WARNING):
        await bot.say(BOB, "/checkin")

    lines = [r.getMessage() for r in caplog.records if "failed" in r.getMessage()]
    assert lines and all("Telegram could not be reached" in line for line in lines), lines
    assert not any("the database" in line for line in lines)


async def test_the_outbox_backlog_sends_and_429s_are_exposed(bot: Harness, http):
    await members_who_started(bot, ALICE, BOB, CAROL)
    await bot.say(OWNER, "/broadcast\nFlash sale tonight")
    await tap(bot, GROUP, OWNER, buttons(bot.world.sent(GROUP)[-1])[0]["callback_data"])
    queued = await scrape(http)
    bot.world.fail_next("sendMessage", 429, "Too Many Requests: retry after 1", retry_after=1)

    await bot.drain()
    bot.clock.advance(1.05)
    await bot.drain()
    sent = await scrape(http)

    assert value(queued, "growthbot_outbox_depth") == 3
    assert value(sent, "growthbot_outbox_depth") == 0
    assert value(sent, "growthbot_outbox_messages_total", outcome="sent") == 3
    assert value(sent, "growthbot_outbox_messages_total", outcome="retry") == 1
    assert value(sent, "growthbot_telegram_retry_after_total", source="outbox") == 1
    assert ("growthbot_inbox_depth", frozenset()) not in sent  # no inbox in this process


async def test_a_depth_that_cannot_be_read_is_left_out_and_the_page_still_answers(
    bot: Harness, http
):
    async def down() -> int:
        raise ConnectionError("database down")

    bot.app.metrics.inbox_depth = down
    samples = await scrape(http)

    assert ("growthbot_inbox_depth", frozenset()) not in samples
    assert ("growthbot_outbox_depth", frozenset()) in samples


@pytest.fixture
def json_log() -> Iterator[io.StringIO]:
    """Everything logged, formatted as the bot's JSON handler formats it, as it is written."""
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.addHandler(handler)
    level, root.level = root.level, logging.INFO
    yield out
    root.removeHandler(handler)
    root.setLevel(level)


async def test_json_log_lines_carry_the_update_they_were_written_for(
    bot: Harness, json_log, monkeypatch
):
    async def broken(*args: object, **kwargs: object) -> None:
        logging.getLogger("growthbot.test").info("checking in")
        raise RuntimeError("a bug")

    monkeypatch.setattr("handlers.checkin.check_in", broken)
    update = bot.world.message(GROUP, ALICE, "/checkin", at=MONDAY)

    await bot.send(update)
    logging.getLogger("growthbot.test").info("between updates")
    lines = [json.loads(line) for line in json_log.getvalue().splitlines()]

    inside, error, after = (
        next(x for x in lines if x["message"] == "checking in"),
        next(x for x in lines if x["logger"] == "growthbot.errors"),
        next(x for x in lines if x["message"] == "between updates"),
    )
    where = {"update_id": update["update_id"], "update_type": "message", "chat_id": GROUP,
             "user_id": ALICE}  # fmt: skip
    assert inside.items() >= where.items()
    assert error.items() >= where.items()
    assert error["level"] == "ERROR" and "RuntimeError: a bug" in error["exception"]
    assert set(after) == {"time", "level", "logger", "message"}
    assert after["time"].endswith("+00:00")
