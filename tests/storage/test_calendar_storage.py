"""Scheduled posts stored before cron weekdays meant standard cron, on SQLite and PostgreSQL."""

import datetime as dt

from sqlalchemy import update

from campaigns.content import PostContent
from campaigns.members import ChatInfo
from campaigns.schedule import parse_when
from campaigns.services.calendar import add_post, group_posts, realign_runs
from campaigns.settings import ChatSettings
from storage.models import ScheduledPostRow

GROUP = ChatInfo(chat_id=-1009876543288, type="supergroup", title="Tea")
MONDAY = dt.datetime(2026, 11, 23, 12, 0, tzinfo=dt.UTC)
SATURDAY = dt.datetime(2026, 11, 28, 9, 0, tzinfo=dt.UTC)
SUNDAY = SATURDAY + dt.timedelta(days=1)


async def test_a_stored_weekday_cron_keeps_its_standard_meaning_and_its_run_is_realigned(
    uow_factory,
):
    async with uow_factory() as uow:
        await uow.chats.register(GROUP, active=True, bot_status=None, defaults=ChatSettings())
        await uow.commit()
    for expr in ("0 9 * * 6", "0 9 * * 1-5"):
        await add_post(
            uow_factory(), chat_id=GROUP.chat_id, content=PostContent(text=expr),
            when=parse_when(expr, "UTC", MONDAY), at=MONDAY,
        )  # fmt: skip
    async with uow_factory() as uow:  # as the old code stored `0 9 * * 6`: a Sunday
        await uow.session.execute(
            update(ScheduledPostRow)
            .where(ScheduledPostRow.cron == "0 9 * * 6")
            .values(next_run_at=SUNDAY)
        )
        await uow.commit()

    moved = await realign_runs(uow_factory(), now=MONDAY)
    again = await realign_runs(uow_factory(), now=MONDAY)
    posts = {p.when.cron: p for p in await group_posts(uow_factory(), chat_id=GROUP.chat_id)}

    assert (moved, again) == (1, 0)
    assert posts["0 9 * * 6"].next_run_at == SATURDAY
    assert posts["0 9 * * 6"].when.upcoming(SATURDAY, 2) == [
        SATURDAY + dt.timedelta(days=7),
        SATURDAY + dt.timedelta(days=14),
    ]
    assert posts["0 9 * * 1-5"].next_run_at == MONDAY.replace(hour=9) + dt.timedelta(days=1)
