"""An activity batch's events are stored the same whichever way they travel: on SQLite they
go through sqlite3's executemany (storage/repositories/activity.py), elsewhere and before as
one JSON parameter; both leave the same text in every column, on both databases."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import text

from campaigns.members import ChatInfo, EventKind
from campaigns.services.chats import ensure_chat
from campaigns.settings import ChatSettings
from storage.repositories.activity import _EVENTS
from storage.repositories.base import rows_param

AT = dt.datetime(2026, 12, 1, 3, 4, 5, 123456, tzinfo=dt.timezone(dt.timedelta(hours=8)))
EVENTS = [
    (EventKind.MESSAGE, AT, None, {"type": "text"}),
    (EventKind.MESSAGE, AT + dt.timedelta(microseconds=1), None, {"type": "照片"}),
    (EventKind.JOIN, AT.astimezone(dt.UTC), None, None),
    (EventKind.CHECKIN, AT.replace(microsecond=0), 15, None),
]
READ = text(
    "SELECT user_id, kind, at, value, meta FROM activity_events WHERE chat_id = :pk ORDER BY id"
)


async def test_the_driver_path_stores_what_the_json_rows_path_stores(uow_factory) -> None:
    async with uow_factory() as uow:
        batch = await ensure_chat(uow, ChatInfo(-1001, "supergroup", "A"), ChatSettings())
        rows = await ensure_chat(uow, ChatInfo(-1002, "supergroup", "B"), ChatSettings())
        await uow.events.add(
            [(batch.pk, 7 + i, kind, at, v, meta) for i, (kind, at, v, meta) in enumerate(EVENTS)]
        )
        json_rows = [
            {"chat_id": rows.pk, "user_id": 7 + i, "kind": str(kind), "at": at, "value": v,
             "meta": meta}
            for i, (kind, at, v, meta) in enumerate(EVENTS)
        ]  # fmt: skip
        await uow.events.run(
            _EVENTS(uow.events.session), {"rows": rows_param(uow.events.session, json_rows)}
        )
        await uow.commit()
    async with uow_factory() as uow:
        by_batch = (await uow.events.run(READ, {"pk": batch.pk})).all()
        by_rows = (await uow.events.run(READ, {"pk": rows.pk})).all()
    assert len(by_batch) == len(EVENTS)
    assert [tuple(r) for r in by_batch] == [tuple(r) for r in by_rows]
