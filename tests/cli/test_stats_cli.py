"""`growthbot stats` in process: the card as a table, JSON and spreadsheet-safe CSV, and
--rebuild, against a group whose last days are seeded through the real use cases."""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import io
import json

import pytest

from campaigns.members import ChatInfo, Person
from campaigns.orders import OrderIn
from campaigns.ports.members import MessageSeen
from campaigns.services.members import membership_changed, record_messages
from campaigns.services.orders import record_order
from campaigns.settings import ChatSettings
from storage.engine import create_engine, session_factory
from storage.uow import SqlUnitOfWork
from tests.cli.conftest import CLI_GROUP, Cli

HOSTILE = -1002200000009
ANN, BEN = Person(71, "Ann"), Person(72, "Ben")


def seed(url: str, chat_id: int = CLI_GROUP, title: str = "Shop") -> None:
    """Two joins two days ago, three messages and two orders of Ann an hour ago."""
    now = dt.datetime.now(dt.UTC)
    group = ChatInfo(chat_id, "supergroup", title)
    defaults = ChatSettings(timezone="UTC")

    async def run() -> None:
        engine = create_engine(url)
        uow = lambda: SqlUnitOfWork(session_factory(engine))  # noqa: E731
        await membership_changed(
            uow(), bot_id=1, update_id=1, chat=group, people=[ANN, BEN], status="member",
            present=True, at=now - dt.timedelta(days=2), source="test", defaults=defaults,
        )  # fmt: skip
        said = [MessageSeen(10 + i, group, ANN, now - dt.timedelta(hours=1), "text")
                for i in range(3)]  # fmt: skip
        await record_messages(uow(), bot_id=1, messages=said, at=now, defaults=defaults)
        for n, amount in enumerate(("12.50", "7.50")):
            order = OrderIn(external_id=f"x{n}", member=ANN.user_id, amount=amount,
                            at=now - dt.timedelta(hours=1))  # fmt: skip
            await record_order(uow(), order, chat_id=chat_id, source="test", received_at=now)
        await engine.dispose()

    asyncio.run(run())


def test_json_has_every_kpi_with_its_previous_value_and_the_days(cli: Cli, database_url: str):
    seed(database_url)

    done = cli("stats", "--chat", str(CLI_GROUP), "--period", "7d", "--format", "json")

    assert done.code == 0, done.err
    card = json.loads(done.out)
    kpis = card["kpis"]
    assert kpis["joins"] == {"value": 2, "previous": 0, "change": 2, "change_pct": None}
    assert kpis["messages"]["value"] == 3 and kpis["orders"]["value"] == 2
    assert kpis["gmv"]["value"] == 2_000 and kpis["aov"]["value"] == 1_000
    assert kpis["repurchase_rate"]["value"] == 1.0  # Ann bought twice
    assert kpis["referral_share"]["value"] == 0.0 and kpis["redemption_rate"]["value"] is None
    assert len(card["days"]) == 7 and sum(d["orders"] for d in card["days"]) == 2


def test_the_table_names_both_periods_and_shows_a_dash_for_no_value(cli: Cli, database_url: str):
    seed(database_url)

    done = cli("stats", "--chat", str(CLI_GROUP))

    assert done.code == 0, done.err
    lines = done.out.splitlines()
    assert lines[0].startswith("Shop (")
    assert "orders" in done.out and "redemption_rate" in done.out
    redemption = next(line for line in lines if line.startswith("redemption_rate"))
    assert redemption.split()[1:] == ["–", "–", "–"]


def test_csv_cells_that_a_spreadsheet_would_run_are_neutralised(cli: Cli, database_url: str):
    seed(database_url, HOSTILE, title='=HYPERLINK("http://evil")')

    done = cli("stats", "--chat", str(HOSTILE), "--format", "csv", "--since",
               (dt.date.today() - dt.timedelta(days=3)).isoformat())  # fmt: skip

    assert done.code == 0, done.err
    rows = list(csv.DictReader(io.StringIO(done.out)))
    assert len(rows) == 22 and {r["group"] for r in rows} == {'\'=HYPERLINK("http://evil")'}
    assert next(r for r in rows if r["kpi"] == "net_growth")["value"] == "2"


def test_rebuild_recounts_the_rollup_and_the_card_stays_the_same(cli: Cli, database_url: str):
    seed(database_url)
    before = cli("stats", "--chat", str(CLI_GROUP), "--format", "json").out

    done = cli("stats", "--chat", str(CLI_GROUP), "--format", "json", "--rebuild")

    assert done.code == 0 and "rebuilt the daily rollup" in done.err
    assert json.loads(done.out) == json.loads(before)


def test_bad_input_is_refused_with_a_reason_and_an_exit_code(cli: Cli):
    future = (dt.date.today() + dt.timedelta(days=2)).isoformat()

    unknown = cli("stats", "--chat", "-100999")
    too_late = cli("stats", "--chat", str(CLI_GROUP), "--since", future)
    with pytest.raises(SystemExit) as not_a_date:  # argparse's own exit
        cli("stats", "--chat", str(CLI_GROUP), "--since", "yesterday")

    assert unknown.code == 1 and "no group with id -100999" in unknown.err
    assert too_late.code == 2 and "within the last year" in too_late.err
    assert not_a_date.value.code == 2
    assert "is not a date like 2026-11-01" in cli.capsys.readouterr().err


def test_png_draws_the_four_charts_of_stats_into_a_folder(cli: Cli, database_url: str, tmp_path):
    seed(database_url)
    folder = tmp_path / "charts"

    done = cli("stats", "--chat", str(CLI_GROUP), "--png", str(folder))

    assert done.code == 0, done.err
    names = sorted(p.name for p in folder.iterdir())
    assert names == ["activity.png", "cohorts.png", "funnels.png", "growth.png"]
    assert all((folder / n).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for n in names)
    assert f"chart: {folder / 'growth.png'}" in done.err and done.out.startswith("Shop (")


def test_the_period_is_read_as_stats_reads_it_in_chat(cli: Cli, database_url: str):
    """`/stats 7` works in chat; `--period 7` was "invalid choice" (one parser now)."""
    seed(database_url)

    plain = cli("stats", "--chat", str(CLI_GROUP), "--period", "7", "--format", "json")
    chinese = cli("stats", "--chat", str(CLI_GROUP), "--period", "7天", "--format", "json")

    assert plain.code == chinese.code == 0, plain.err + chinese.err
    assert json.loads(plain.out) == json.loads(chinese.out)
    assert len(json.loads(plain.out)["days"]) == 7
