"""`growthbot export ... --format csv`, called in process: names cannot smuggle in formulas."""

import asyncio
import csv
import datetime as dt
import io
from pathlib import Path

import pytest

from bot.cli import main
from bot.settings import get_settings
from campaigns.access import ButtonKind
from campaigns.coupons import CouponKind, Template
from campaigns.members import ChatInfo, Person
from campaigns.services.coupons import claim, create_offer
from campaigns.services.members import membership_changed
from campaigns.settings import ChatSettings
from storage.engine import create_engine, session_factory
from storage.uow import SqlUnitOfWork
from tests.fakes import EVERYONE, posted

GROUP = ChatInfo(chat_id=-1009876543210, type="supergroup", title="Store")
AT = dt.datetime(2026, 11, 16, 4, 0, tzinfo=dt.UTC)
LINK = Person(1, '=HYPERLINK("http://x","y")')
SUM = Person(2, "@SUM(1)", username="sum_fan")
PLAIN = Person(3, "Plain", last_name="-Dash")


async def seed(url: str) -> None:
    """Three members (one with negative points) and a coupon of an offer named like a formula."""
    engine = create_engine(url)
    sessions = session_factory(engine)

    def uow() -> SqlUnitOfWork:
        return SqlUnitOfWork(sessions)

    await membership_changed(
        uow(), bot_id=1, update_id=1, chat=GROUP, people=[LINK, SUM, PLAIN], status="member",
        present=True, at=AT, source="test", defaults=ChatSettings(),
    )  # fmt: skip
    async with uow() as u:
        chat = await u.chats.get(GROUP.chat_id)
        assert chat is not None
        await u.ledger.add(chat.pk, SUM.user_id, delta=-30, reason="test", key="fine", at=AT)
        await u.members.add_points(chat.pk, SUM.user_id, -30)
        await u.commit()
    offer = await create_offer(
        uow(), chat_id=GROUP.chat_id, name="=cmd|' /C calc'!A0",
        template=Template(kind=CouponKind.FIXED, value=500), stock=None, per_member=1, at=AT,
    )  # fmt: skip
    tap = await posted(uow, ButtonKind.COUPON, offer.id)
    await claim(
        uow(), gate=EVERYONE, tap=tap, bot_id=1, update_id=2, template_id=offer.id,
        person=LINK, at=AT,
    )  # fmt: skip
    await engine.dispose()


@pytest.fixture
def export(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys):
    """Run `growthbot export WHAT --chat GROUP` against the seeded database; the parsed rows."""
    asyncio.run(seed(database_url))
    monkeypatch.chdir(tmp_path)  # no .env from the working tree
    monkeypatch.setenv("DATABASE_URL", database_url)
    get_settings.cache_clear()

    def run(what: str) -> list[dict[str, str]]:
        assert main(["export", what, "--chat", str(GROUP.chat_id), "--format", "csv"]) == 0
        return list(csv.DictReader(io.StringIO(capsys.readouterr().out)))

    yield run
    get_settings.cache_clear()


def test_member_names_that_look_like_formulas_are_exported_as_text(export):
    rows = {int(r["user_id"]): r for r in export("members")}

    assert rows[LINK.user_id]["display_name"] == '\'=HYPERLINK("http://x","y")'
    assert rows[SUM.user_id]["display_name"] == "'@SUM(1)"
    assert rows[SUM.user_id]["username"] == "sum_fan"
    assert rows[PLAIN.user_id]["display_name"] == "Plain -Dash"
    assert rows[SUM.user_id]["points"] == "-30"  # a negative number stays a number


def test_a_coupon_offer_named_like_a_formula_is_exported_as_text(export):
    [row] = export("coupons")

    assert row["template"] == "'=cmd|' /C calc'!A0"
    assert row["member"] == str(LINK.user_id)
