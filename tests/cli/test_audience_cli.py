"""`growthbot audience list|show|export --chat ID`, in process, on SQLite and PostgreSQL."""

import asyncio
import csv
import datetime as dt
import io
import json
from pathlib import Path

import pytest

from bot.cli import main
from bot.settings import get_settings
from campaigns.members import ChatInfo, Person
from campaigns.services import audiences, chats, tags
from campaigns.services.members import membership_changed
from campaigns.settings import ChatSettings
from storage.engine import create_engine, session_factory
from storage.uow import SqlUnitOfWork

GROUP = ChatInfo(chat_id=-1009876543220, type="supergroup", title="Store")
AT = dt.datetime(2026, 11, 16, 4, 0, tzinfo=dt.UTC)
TEA = Person(1, '=HYPERLINK("http://x","y")', username="tea_fan")
ANN = Person(2, "Ann", last_name="Lee")
QUIET = Person(3, "Quiet")  # never started the bot: never selected


async def seed(url: str) -> None:
    engine = create_engine(url)
    sessions = session_factory(engine)

    def uow() -> SqlUnitOfWork:
        return SqlUnitOfWork(sessions)

    await membership_changed(
        uow(), bot_id=1, update_id=1, chat=GROUP, people=[TEA, ANN, QUIET], status="member",
        present=True, at=AT, source="test", defaults=ChatSettings(),
    )  # fmt: skip
    async with uow() as u:
        for person in (TEA, ANN):
            await u.users.set_reachable(person.user_id, True)
        await u.commit()
    for person in (TEA, ANN, QUIET):
        await tags.tag_member(
            uow(), chat_id=GROUP.chat_id, user_id=person.user_id, tag="tea", by=9, now=AT
        )
    await tags.tag_member(
        uow(), chat_id=GROUP.chat_id, user_id=ANN.user_id, tag="vip", by=9, now=AT
    )
    await audiences.save_audience(
        uow(), chat_id=GROUP.chat_id, name="tea", rule="tag=tea", by=9, now=AT
    )
    await audiences.save_audience(
        uow(), chat_id=GROUP.chat_id, name="top", rule="tier>=高级", by=9, now=AT
    )
    await audiences.save_audience(
        uow(), chat_id=GROUP.chat_id, name="vips", rule="tag=vip", by=9, now=AT
    )
    await engine.dispose()


@pytest.fixture
def growthbot(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys):
    asyncio.run(seed(database_url))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", database_url)
    get_settings.cache_clear()

    def run(*argv: str) -> tuple[int, str, str]:
        capsys.readouterr()
        code = main(list(argv))
        out, err = capsys.readouterr()
        return code, out, err

    yield run
    get_settings.cache_clear()


def test_list_show_and_export_a_saved_audience(growthbot):
    chat = str(GROUP.chat_id)

    listed = growthbot("audience", "list", "--chat", chat)
    shown = growthbot("audience", "show", "tea", "--chat", chat)
    shown_json = growthbot("audience", "show", "TEA", "--chat", chat, "--json")
    one = growthbot("audience", "show", "vips", "--chat", chat)
    exported = growthbot("audience", "export", "tea", "--chat", chat)
    as_json = growthbot("audience", "export", "tea", "--chat", chat, "--format", "json")

    assert listed == (0, "tea\ttag=tea\ntop\ttier>=高级\nvips\ttag=vip\n", "")
    # as /audience show says it in the group: only members who started the bot are counted
    assert shown[0] == 0 and "👥 tea: 2 members who started me match tag=tea" in shown[1]
    assert one == (0, "👥 vips: 1 member who started me matches tag=vip\ne.g. Ann Lee\n", "")
    assert json.loads(shown_json[1])["sample"] == ['=HYPERLINK("http://x","y")', "Ann Lee"]
    rows = list(csv.DictReader(io.StringIO(exported[1])))
    assert [r["user_id"] for r in rows] == ["1", "2"]
    assert rows[0]["name"] == '\'=HYPERLINK("http://x","y")'  # a formula stays text
    assert (rows[1]["tags"], rows[1]["tier"], rows[1]["spend"]) == ("tea vip", "Regular", "0")
    assert list(rows[0]) == ["user_id", "name", "username", "stage", "rfm_segment", "tier",
                             "tags", "points", "orders", "spend"]  # fmt: skip
    assert json.loads(as_json[1])[1]["tags"] == ["tea", "vip"]


def test_show_speaks_the_groups_language(growthbot, database_url):
    async def in_chinese() -> None:
        engine = create_engine(database_url)
        await chats.change_setting(
            SqlUnitOfWork(session_factory(engine)), chat=GROUP, key="language", value="zh",
            at=AT, defaults=ChatSettings(),
        )  # fmt: skip
        await engine.dispose()

    asyncio.run(in_chinese())
    shown = growthbot("audience", "show", "vips", "--chat", str(GROUP.chat_id))

    assert shown[0] == 0 and shown[1].startswith("👥 vips：") and "Ann Lee" in shown[1]
    assert "match" not in shown[1] and "<" not in shown[1]


def test_an_unknown_audience_or_group_is_one_line_and_exit_1(growthbot):
    unknown = growthbot("audience", "show", "nope", "--chat", str(GROUP.chat_id))
    bad = growthbot("audience", "export", "no/pe", "--chat", str(GROUP.chat_id))
    elsewhere = growthbot("audience", "list", "--chat", "-100123")

    assert unknown[0] == 1 and "'nope' is not a saved audience" in unknown[2]
    assert bad[0] == 1 and "is not an audience name" in bad[2]
    assert elsewhere[0] == 1 and "no group with id -100123" in elsewhere[2]
