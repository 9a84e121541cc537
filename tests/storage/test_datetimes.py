"""Every timestamp keeps its instant on SQLite and PostgreSQL, whatever offset it was given."""

import asyncio
import datetime as dt
import json
from pathlib import Path

import pytest
from sqlalchemy import DateTime

from bot.cli import main
from bot.settings import get_settings
from campaigns.content import PostContent
from campaigns.coupons import CouponKind, Template
from campaigns.members import ChatInfo
from campaigns.schedule import When
from campaigns.services import coupons
from campaigns.services.calendar import add_post, hand_over_due
from campaigns.settings import ChatSettings
from storage.engine import create_engine, session_factory
from storage.models import Base, UtcDateTime
from storage.uow import SqlUnitOfWork

GROUP = ChatInfo(chat_id=-1009876543299, type="supergroup", title="Shop")
AT = dt.datetime(2026, 11, 16, 4, 0, tzinfo=dt.UTC)
PLUS8 = dt.timezone(dt.timedelta(hours=8))
MINUS5 = dt.timezone(dt.timedelta(hours=-5))


async def register(uow_factory) -> None:
    async with uow_factory() as uow:
        await uow.chats.register(GROUP, active=True, bot_status=None, defaults=ChatSettings())
        await uow.commit()


def test_every_datetime_column_keeps_its_instant():
    plain = [
        f"{table.name}.{column.name}"
        for table in Base.metadata.tables.values()
        for column in table.columns
        if isinstance(column.type, DateTime) and not isinstance(column.type, UtcDateTime)
    ]

    assert plain == []


async def test_a_coupon_deadline_with_an_offset_keeps_its_instant(uow_factory):
    await register(uow_factory)
    until = dt.datetime(2026, 12, 31, 23, 59, tzinfo=PLUS8)
    template = Template(CouponKind.FIXED, value=3000, valid_until=until)

    created = await coupons.create_offer(
        uow_factory(), chat_id=GROUP.chat_id, name="年末", template=template, stock=None,
        per_member=1, at=AT.astimezone(MINUS5),
    )  # fmt: skip
    async with uow_factory() as uow:
        stored = await uow.coupons.template(created.id)

    assert stored is not None and stored.template.valid_until == until
    assert stored.template.valid_until.utcoffset() == dt.timedelta(0)  # read back as UTC
    assert stored.template.valid_until.hour == 15


async def test_a_post_run_time_with_an_offset_is_due_at_its_instant(uow_factory):
    await register(uow_factory)
    run = dt.datetime(2026, 12, 1, 9, 0, tzinfo=PLUS8)  # 01:00 UTC
    when = When(timezone="Asia/Shanghai", at=run)

    post = await add_post(
        uow_factory(), chat_id=GROUP.chat_id, content=PostContent(text="hi"), when=when, at=AT
    )
    early = await hand_over_due(uow_factory, now=run - dt.timedelta(minutes=1), grace=AT - AT)
    async with uow_factory() as uow:
        again = await uow.calendar.post(post.id)
    due = await hand_over_due(
        uow_factory, now=run.astimezone(MINUS5), grace=dt.timedelta(minutes=5)
    )

    assert again is not None and again.when.at == run and again.next_run_at == run
    assert again.next_run_at.tzinfo == dt.UTC
    assert (early.queued, due.queued) == (0, 1)


def test_coupons_create_with_an_offset_stores_the_deadline_the_operator_meant(
    database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
):
    async def on_database(use) -> object:
        engine = create_engine(database_url)
        try:
            return await use(lambda: SqlUnitOfWork(session_factory(engine)))
        finally:
            await engine.dispose()

    async def read(uow_factory) -> object:
        async with uow_factory() as uow:
            return await uow.coupons.template(created["id"])

    asyncio.run(on_database(register))
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", database_url)
    get_settings.cache_clear()
    try:
        assert main(["coupons", "create", "--chat", str(GROUP.chat_id), "--name", "年末",
                     "--type", "fixed", "--value", "30", "--valid-until",
                     "2026-12-31T23:59+08:00", "--json"]) == 0  # fmt: skip
        created = json.loads(capsys.readouterr().out)
    finally:
        get_settings.cache_clear()
    stored = asyncio.run(on_database(read))

    deadline = dt.datetime(2026, 12, 31, 15, 59, tzinfo=dt.UTC)
    assert stored.template.valid_until == deadline  # type: ignore[attr-defined]
    assert dt.datetime.fromisoformat(created["valid_until"]) == deadline
