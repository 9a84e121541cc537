"""`growthbot groupbuy create`: creating and posting a deal is one outcome."""

from __future__ import annotations

import datetime as dt

import pytest

from bot import groupbuy_cli
from tests.cli.conftest import CLI_GROUP, Cli

ENDS = (dt.datetime.now(dt.UTC) + dt.timedelta(days=3)).isoformat()
DEAL = ["groupbuy", "create", "--chat", str(CLI_GROUP), "--title", "Milk tea for three",
        "--price", "30", "--group-price", "19.9", "--team-minutes", "60", "--ends-at", ENDS,
        "--size", "3"]  # fmt: skip


def posts(cli: Cli) -> list[str]:
    return [text for text in cli.world.delivered(CLI_GROUP) if "Milk tea" in text]


def test_a_rate_limited_group_gets_the_deal_after_the_wait_once(
    cli: Cli, monkeypatch: pytest.MonkeyPatch
):
    waits: list[float] = []

    async def wait(seconds: float) -> None:
        waits.append(seconds)

    monkeypatch.setattr(groupbuy_cli, "wait", wait, raising=False)
    cli.world.fail_next("sendMessage", 429, "Too Many Requests: retry after 1", retry_after=1)

    made = cli(*DEAL, "--post")
    listed = cli(*DEAL, "--json")

    assert made.code == 0, made.err
    assert waits == [1.0]
    assert "rate-limited" in made.err and "posted in 1 s" in made.err
    assert "created group-buy 1: Milk tea for three, posted as message" in made.out
    assert len(posts(cli)) == 1
    assert '"id": 2' in listed.out  # the first run made exactly one deal


def test_a_post_refused_for_good_says_the_deal_exists_and_how_to_post_it(cli: Cli):
    cli.world.fail_next("sendMessage", 400, "Bad Request: not enough rights to send text messages")

    made = cli(*DEAL, "--post")

    assert made.code == 1
    assert "group-buy 1 was created but Telegram refused the post" in made.err
    assert "Not enough rights" in made.err and "/groupbuy post 1" in made.err
    assert "Traceback" not in made.err and posts(cli) == []
