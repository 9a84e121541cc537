"""`growthbot posts` and `growthbot calendar`, called in process on each database: what an
operator types and reads back."""

import asyncio
import datetime as dt
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.cli import main
from bot.settings import get_settings
from campaigns.members import ChatInfo
from campaigns.settings import ChatSettings
from storage.engine import create_engine, session_factory
from storage.uow import SqlUnitOfWork

GROUP = ChatInfo(chat_id=-1009876543277, type="supergroup", title="Tea")
SHANGHAI = ZoneInfo("Asia/Shanghai")
PLAN = """\
campaign: 双11
phases:
  - name: 预热 warm-up
    posts:
      - at: {at}
        text: "<b>预热</b>开始"
        buttons: [{{text: 🛒 Shop, url: "https://shop.example/?utm_source=tg&utm_medium=post"}}]
  - name: 爆发 peak
    posts:
      - cron: mon,thu 20:00
        text: 每晚秒杀
        silent: true
"""


async def register(url: str) -> None:
    engine = create_engine(url)
    async with SqlUnitOfWork(session_factory(engine)) as uow:
        defaults = ChatSettings(timezone="Asia/Shanghai")
        await uow.chats.register(GROUP, active=True, bot_status=None, defaults=defaults)
        await uow.commit()
    await engine.dispose()


@pytest.fixture
def cli(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> Iterator[Callable[..., str]]:
    """`growthbot ARGS` against a database with the group registered; its stdout (and the
    exit status and stderr kept in `cli.last`)."""
    asyncio.run(register(database_url))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", database_url)
    get_settings.cache_clear()

    def run(*args: str, status: int = 0) -> str:
        assert main(list(args)) == status
        out = capsys.readouterr()
        return out.out if status == 0 else out.err

    yield run
    get_settings.cache_clear()


def future(days: int) -> str:
    at = dt.datetime.now(SHANGHAI) + dt.timedelta(days=days)
    return f"{at:%Y-%m-%d} 10:30"


def listed(cli: Callable[..., str]) -> list[dict[str, object]]:
    """The group's posts, without what an import renumbers."""
    posts = json.loads(cli("posts", "list", "--chat", str(GROUP.chat_id), "--json"))
    return sorted(
        ({k: v for k, v in p.items() if k != "id"} for p in posts), key=lambda p: json.dumps(p)
    )


def test_an_export_imports_back_to_the_same_posts(cli, tmp_path: Path):
    chat = str(GROUP.chat_id)
    cli("posts", "create", "--chat", chat, "--cron", "daily 09:00", "--pin",
        "--text", "<b>Morning</b> tea\nsecond line")  # fmt: skip
    weekdays = json.loads(cli("posts", "create", "--chat", chat, "--cron", "0 9 * * 1-5",
                              "--text", "Weekdays", "--json"))  # fmt: skip
    cli("posts", "pause", "--chat", chat, "--post", str(weekdays["id"]))
    cli("posts", "create", "--chat", chat, "--at", future(30), "--text",
        'Sale <a href="https://shop.example/?a=1&amp;b=2">shop</a>')  # fmt: skip
    (tmp_path / "plan.yaml").write_text(PLAN.format(at=future(20)), encoding="utf-8")
    cli("calendar", "import", "plan.yaml", "--chat", chat)
    before = listed(cli)

    exported = cli("calendar", "export", "--chat", chat)
    (tmp_path / "export.yaml").write_text(exported, encoding="utf-8")
    cli("calendar", "import", "export.yaml", "--replace")
    again = cli("calendar", "export", "--chat", chat)
    after = listed(cli)

    assert len(before) == 5
    assert after == before
    assert again == exported
    assert {p["schedule"] for p in after} >= {"daily 09:00", "0 9 * * 1-5", "mon,thu 20:00"}
    assert [p["status"] for p in after if p["schedule"] == "0 9 * * 1-5"] == ["paused"]


def test_posts_are_listed_paused_resumed_and_deleted_in_the_groups_time(cli):
    chat = str(GROUP.chat_id)
    text = "<b>Good morning</b> &amp; welcome to our tea club, everyone, have a cup!\nmore"
    created = cli("posts", "create", "--chat", chat, "--cron", "weekdays 09:00", "--text", text)
    post = created.split()[2]
    paused = cli("posts", "pause", "--chat", chat, "--post", post)
    twice = cli("posts", "pause", "--chat", chat, "--post", post, status=2)
    resumed = json.loads(cli("posts", "resume", "--chat", chat, "--post", post, "--json"))
    [line] = cli("posts", "list", "--chat", chat).splitlines()
    deleted = cli("posts", "delete", "--chat", chat, "--post", post)
    unknown = cli("posts", "delete", "--chat", chat, "--post", "999", status=2)

    assert created.startswith(f"scheduled post {post} (weekdays 09:00): next run ")
    assert created.rstrip().endswith("09:00 +0800 Asia/Shanghai")
    assert "\tpaused\t" in paused
    assert "can't pause post" in twice and "it is paused (growthbot posts resume)" in twice
    assert resumed["status"] == "active" and resumed["next_run_local"].endswith("T09:00:00+08:00")
    fields = line.split("\t")
    assert fields[:3] == [f"#{post}", "active", "weekdays 09:00"]
    assert fields[3].startswith("next ") and fields[3].endswith(" 09:00 +0800 Asia/Shanghai")
    assert fields[4] == "Good morning & welcome to our tea club, everyone, have a cup!"[:49] + "…"
    assert "\tdeleted\t" in deleted
    assert "has no post 999" in unknown
    assert cli("posts", "list", "--chat", chat) == ""


def test_calendar_import_lists_every_error_with_its_line_and_field(cli, tmp_path: Path):
    plan = """\
campaign: bad
start: 2026-12-01 09:00
phases:
  - name: one
    posts:
      - day: x
        text: hi
      - cron: 0 9 * * 8
        text: hi
      - cron: daily 09:00
        text: hi
        colour: red
---
campaign: past
phases:
  - name: two
    posts:
      - at: 2020-01-01 09:00
        text: hi
      - at: 2021-01-01 09:00
        text: hi
"""
    (tmp_path / "plan.yaml").write_text(plan, encoding="utf-8")

    said = cli("calendar", "import", "plan.yaml", "--chat", str(GROUP.chat_id), status=2)

    lines = said.strip().removeprefix("growthbot: ").splitlines()
    assert lines == [
        "plan.yaml:6:14: phases[0].posts[0].day: 'x' is not valid: a whole number of days "
        "after start, 0 to 365, e.g. `day: 3`",
        "plan.yaml:8:15: phases[0].posts[1].cron: “8” in the day of the week (5th field) is "
        "not valid: use 0-7 (0 and 7 are Sunday, 1 is Monday) or mon-sun, with ranges, lists "
        "and steps too (1-5, 0,6, */2), e.g. `0 9 * * 1-5`",
        "plan.yaml:12:17: phases[0].posts[2].colour: unknown field; a post takes day, time, at, "
        "cron, text, photo, buttons, pin, silent, replace, paused",
    ]
    assert "Input should" not in said and "Value error" not in said
    assert cli("posts", "list", "--chat", str(GROUP.chat_id)) == ""


def test_calendar_import_lists_every_post_in_the_past_across_documents(cli, tmp_path: Path):
    plan = """\
campaign: one
phases:
  - name: a
    posts:
      - {at: 2020-01-01 09:00, text: hi}
      - {at: 2099-01-01 09:00, text: fine}
---
campaign: two
phases:
  - name: b
    posts:
      - {at: 2021-01-01 09:00, text: hi}
"""
    (tmp_path / "plan.yaml").write_text(plan, encoding="utf-8")

    said = cli("calendar", "import", "plan.yaml", "--chat", str(GROUP.chat_id), status=2)

    assert said.strip().removeprefix("growthbot: ").splitlines() == [
        "plan.yaml:5:14: phases[0].posts[0].at: 2020-01-01 09:00 is already in the past",
        "plan.yaml:12:14: phases[0].posts[0].at: 2021-01-01 09:00 is already in the past",
    ]
    assert cli("posts", "list", "--chat", str(GROUP.chat_id)) == ""


async def journeys_of(url: str) -> object:
    engine = create_engine(url)
    async with SqlUnitOfWork(session_factory(engine)) as uow:
        record = await uow.chats.get(GROUP.chat_id)
    await engine.dispose()
    assert record is not None
    return record.settings.journeys


def test_a_calendar_file_switches_and_tunes_journeys(cli, tmp_path: Path, database_url: str):
    (tmp_path / "plan.yaml").write_text(
        "journeys:\n"
        "  winback: {on: true, holdout: 10, second: 7}\n"
        "  member_day: {day: 15, multiplier: 3, on: yes}\n"
        "  nudge: {after: 5}\n"
    )
    (tmp_path / "bad.yaml").write_text("journeys:\n  winback: {on: true, colour: red}\n")
    (tmp_path / "offer.yaml").write_text("journeys:\n  birthday: {offer: 999, on: true}\n")

    done = cli("calendar", "import", "plan.yaml", "--chat", str(GROUP.chat_id))
    bad = cli("calendar", "import", "bad.yaml", "--chat", str(GROUP.chat_id), status=2)
    offer = cli("calendar", "import", "offer.yaml", "--chat", str(GROUP.chat_id), status=2)

    book = asyncio.run(journeys_of(database_url))
    winback, day, nudge, birthday = (
        book.get(j)
        for j in ("winback", "member_day", "nudge", "birthday")  # type: ignore[attr-defined]
    )
    assert winback.on and winback.holdout == 10 and winback.second == 7
    assert day.on and day.day == "15" and day.multiplier == 3
    assert not nudge.on and nudge.after == 5
    assert not birthday.on  # the file with a bad offer stored nothing
    assert f"journeys set for group {GROUP.chat_id}: member_day, nudge, winback" in done
    assert "no setting 'colour' here; its settings: offer, holdout" in bad
    assert "offer 999 is not a live coupon offer of this group" in offer


def test_an_export_carries_the_groups_journeys_back_to_another_import(
    cli, tmp_path: Path, database_url: str
):
    (tmp_path / "plan.yaml").write_text(
        "journeys:\n"
        "  winback: {on: true, holdout: 10, second: 7, window: 60}\n"
        "  member_day: {day: sat, multiplier: 2.5, hour: 9, on: true}\n"
        "  nudge: {after: 5}\n"
    )
    chat = str(GROUP.chat_id)
    cli("calendar", "import", "plan.yaml", "--chat", chat)
    before = asyncio.run(journeys_of(database_url))

    exported = cli("calendar", "export", "--chat", chat)
    (tmp_path / "export.yaml").write_text(exported, encoding="utf-8")
    (tmp_path / "off.yaml").write_text(
        "journeys:\n  winback: {on: false, holdout: 0}\n  member_day: {on: false}\n"
        "  nudge: {after: 9}\n"
    )
    cli("calendar", "import", "off.yaml", "--chat", chat)  # the group drifts
    cli("calendar", "import", "export.yaml")  # the export names its group
    after = asyncio.run(journeys_of(database_url))

    def settings(book: object) -> dict[str, object]:
        return {
            str(j): s.model_dump(exclude={"since"})
            for j, s in book.journeys.items()  # type: ignore[attr-defined]
        }

    assert settings(after) == settings(before)
    assert "winback:" in exported and "multiplier: 2.5" in exported and "day: sat" in exported
    assert "journeys" not in cli("calendar", "export", "--chat", chat, "--campaign", "x")


def test_a_journey_tier_or_window_mistake_is_named_as_such(cli, tmp_path: Path):
    (tmp_path / "tier.yaml").write_text("journeys:\n  member_day: {tier: Gold}\n")
    (tmp_path / "window.yaml").write_text("journeys:\n  winback: {window: 10}\n")

    tier = cli("calendar", "import", "tier.yaml", "--chat", str(GROUP.chat_id), status=2)
    window = cli("calendar", "import", "window.yaml", "--chat", str(GROUP.chat_id), status=2)

    assert "no tier 'Gold' in this group" in tier and "no journey" not in tier
    assert "window must be longer than the 30 idle days" in window
