"""`growthbot orders import`: an order for someone the group has never seen is flagged."""

from __future__ import annotations

import asyncio
import datetime as dt
import json

from campaigns.members import ChatInfo, Person
from campaigns.services.members import membership_changed
from campaigns.settings import ChatSettings
from storage.engine import create_engine, session_factory
from storage.uow import SqlUnitOfWork
from tests.cli.conftest import CLI_GROUP, Cli

MEMBER, STRANGER = 501, 777
CSV = f"""external_id,member,amount,at
A-1,{MEMBER},88.80,2026-11-20T12:00:00+08:00
A-2,{STRANGER},19.90,2026-11-20T12:05:00+08:00
"""


def joined(url: str) -> None:
    async def join() -> None:
        engine = create_engine(url)
        await membership_changed(
            SqlUnitOfWork(session_factory(engine)), bot_id=1, update_id=1,
            chat=ChatInfo(CLI_GROUP, "supergroup", "Shop"), people=[Person(MEMBER, "Mia")],
            status="member", present=True, at=dt.datetime(2026, 11, 1, tzinfo=dt.UTC),
            source="test", defaults=ChatSettings(),
        )  # fmt: skip
        await engine.dispose()

    asyncio.run(join())


def test_an_order_for_someone_never_seen_in_the_group_is_stored_with_a_warning(
    cli: Cli, database_url: str
):
    joined(database_url)
    (cli.folder / "orders.csv").write_text(CSV)

    text = cli("orders", "import", "orders.csv", "--chat", str(CLI_GROUP))
    again = cli("orders", "import", "orders.csv", "--chat", str(CLI_GROUP), "--json")

    assert text.code == 0, text.err
    assert (
        f"line 3: warning: member {STRANGER} has never been seen in group {CLI_GROUP}: "
        "order stored, no purchase points" in text.err
    )
    assert f"member {MEMBER}" not in text.err
    assert "2 rows: 2 imported" in text.out
    assert json.loads(again.out)["unknown_members"] == []  # a replay changes nothing


def test_a_file_that_is_not_utf8_csv_is_named_at_its_line_and_nothing_is_imported(
    cli: Cli, database_url: str
):
    """Not UTF-8, or a field over the csv module's limit: a traceback once. Now the line is
    named, the command fails (as for bad rows), and nothing is imported, even with
    --skip-bad (the rows after it cannot be read)."""
    joined(database_url)
    good = f"A-1,{MEMBER},88.80,2026-11-20T12:00:00+08:00\n"
    (cli.folder / "gbk.csv").write_bytes(
        b"external_id,member,amount,at\n" + good.encode() + "A-2,501,1,乙\n".encode("gbk")
    )
    (cli.folder / "huge.csv").write_text(
        f"external_id,member,amount,at\n{good}A-3,{MEMBER},1,{'x' * 200_000}\n"
    )

    gbk = cli("orders", "import", "gbk.csv", "--chat", str(CLI_GROUP), "--skip-bad")
    huge = cli("orders", "import", "huge.csv", "--chat", str(CLI_GROUP), "--skip-bad", "--json")
    listed = cli("orders", "import", "gbk.csv", "--chat", str(CLI_GROUP), "--json")

    assert gbk.code == huge.code == 1, (gbk.err, huge.err)
    assert "Traceback" not in gbk.err + huge.err
    assert "line 3: file: not UTF-8 text" in gbk.err and "nothing imported: fix the file" in gbk.err
    assert [(e["line"], e["field"]) for e in json.loads(huge.out)["errors"]] == [(3, "file")]
    assert json.loads(listed.out)["imported"] == 0
    assert json.loads(huge.out)["imported"] == 0
