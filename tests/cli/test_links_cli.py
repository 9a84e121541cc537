"""`growthbot links` in process: a group's channels as a table, JSON and spreadsheet-safe CSV,
to date and for a period, against a group whose channels were made and joined through the
real use cases."""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import io
import json

from campaigns.members import ChatInfo, Person
from campaigns.orders import OrderIn
from campaigns.services.channels import create_channel
from campaigns.services.members import membership_changed
from campaigns.services.orders import record_order
from campaigns.services.referral import LinkSeen
from campaigns.settings import ChatSettings
from storage.engine import create_engine, session_factory
from storage.uow import SqlUnitOfWork
from tests.cli.conftest import CLI_GROUP, Cli

ANN, BEN = Person(71, "Ann"), Person(72, "Ben")


class Links:
    """Telegram's side, made up: a new URL per channel."""

    def __init__(self) -> None:
        self.n = 0

    async def create(self, chat_id: int, *, name: str, **_: object) -> tuple[str, str] | None:
        self.n += 1
        return f"https://t.me/+cli{self.n}", name

    async def revoke(self, chat_id: int, url: str) -> None:
        return None


def seed(url: str, first: str = "小红书") -> None:
    """`first` (¥100) and 抖音 (no cost); Ann joined through the first 40 days ago and Ben 2
    days ago; Ann ordered ¥20 an hour ago, Ben ¥5.50 (and ¥3 before joining)."""
    now = dt.datetime.now(dt.UTC)
    group = ChatInfo(CLI_GROUP, "supergroup", "Shop")
    defaults = ChatSettings(timezone="UTC")

    async def run() -> None:
        engine = create_engine(url)
        uow = lambda: SqlUnitOfWork(session_factory(engine))  # noqa: E731
        links = Links()
        red = await create_channel(uow, links, chat_id=CLI_GROUP, name=first, by=1,
                                   at=now - dt.timedelta(days=50), cost=10_000)  # fmt: skip
        await create_channel(uow, links, chat_id=CLI_GROUP, name="抖音", by=1, at=now)
        for n, (who, days) in enumerate(((ANN, 40), (BEN, 2))):
            await membership_changed(
                uow(), bot_id=1, update_id=n + 1, chat=group, people=[who], status="member",
                present=True, at=now - dt.timedelta(days=days), source="test",
                defaults=defaults, link=LinkSeen(red.url, first, by_bot=True),
            )  # fmt: skip
        bought = ((ANN, "20", 1 / 24), (BEN, "5.50", 1 / 24), (BEN, "3", 3))
        for n, (who, amount, days) in enumerate(bought):
            order = OrderIn(external_id=f"x{n}", member=who.user_id, amount=amount,
                            at=now - dt.timedelta(days=days))  # fmt: skip
            await record_order(uow(), order, chat_id=CLI_GROUP, source="test", received_at=now)
        await engine.dispose()

    asyncio.run(run())


def test_json_has_each_channels_figures_to_date_and_in_the_period(cli: Cli, database_url: str):
    seed(database_url)

    done = cli("links", "--chat", str(CLI_GROUP), "--period", "7d", "--format", "json")

    assert done.code == 0, done.err
    found = json.loads(done.out)
    red, tok = found["channels"]
    assert (red["name"], red["cost"], red["revoked"]) == ("小红书", 10_000, False)
    # Ann and Ben, both past the hold and active since (an order is activity); both ordered
    # after joining, Ben's first order came before (and his ¥3 then is not counted)
    assert red["to_date"] == {"joins": 2, "confirmed": 2, "first_orders": 1, "orders": 2,
                              "gmv": 2_550, "roi": -0.745}  # fmt: skip
    assert red["period"] == {"joins": 1, "confirmed": 1, "first_orders": 0, "orders": 1,
                             "gmv": 550}  # fmt: skip  # Ben only; his first order came before
    assert tok["to_date"]["joins"] == 0 and tok["cost"] is None and tok["to_date"]["roi"] is None
    start, end = (dt.date.fromisoformat(found["period"][k]) for k in ("start", "end"))
    assert (end - start).days == 6 and found["title"] == "Shop"


def test_the_table_shows_money_in_yuan_and_a_dash_without_a_cost(cli: Cli, database_url: str):
    seed(database_url)

    done = cli("links", "--chat", str(CLI_GROUP))

    assert done.code == 0, done.err
    lines = done.out.splitlines()
    assert lines[0] == "Shop"
    assert lines[2].split() == ["小红书", "2", "2", "1", "2", "25.50", "100.00", "-74%"]
    assert lines[3].split() == ["抖音", "0", "0", "0", "0", "0.00", "–", "–"]


def test_csv_cells_that_a_spreadsheet_would_run_are_neutralised(cli: Cli, database_url: str):
    seed(database_url, first="=HYPERLINK(1)")

    done = cli("links", "--chat", str(CLI_GROUP), "--format", "csv", "--period", "30d")

    assert done.code == 0, done.err
    rows = list(csv.DictReader(io.StringIO(done.out)))
    assert [r["name"] for r in rows] == ["'=HYPERLINK(1)", "抖音"]
    assert (rows[0]["gmv"], rows[0]["cost"], rows[0]["period_joins"]) == ("2550", "10000", "1")


def test_an_unknown_group_is_refused(cli: Cli):
    done = cli("links", "--chat", "-100999")

    assert done.code == 1 and "no group with id -100999" in done.err
