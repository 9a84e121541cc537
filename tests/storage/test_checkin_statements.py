"""A check-in's first statements run on the driver (SQLite: compiled from the Core
statements; PostgreSQL: one statement of CTEs). Both must store and answer exactly what the
plain Core statements do (`SqlUpdateLog.claim`, then `SqlMembers.seen_in`), member by member."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select, text, update

from campaigns.members import ChatInfo, Person
from campaigns.settings import ChatSettings
from storage.models import MembershipRow, ProcessedUpdateRow
from storage.repositories.base import Repository
from storage.repositories.updates import SqlUpdateLog

AT = dt.datetime(2026, 11, 16, 1, 2, 3, 456789, tzinfo=dt.UTC)
DAY = dt.timedelta(days=1)
ACTIVE = ChatInfo(chat_id=-1001, type="supergroup", title="Shop")
GONE = ChatInfo(chat_id=-1002, type="supergroup", title="Closed")
DEFAULTS = ChatSettings(timezone="Asia/Shanghai")
# (chat, user, update): a stored member; someone whose first words these are; a member who
# left before speaking again; a user never stored; a group the bot left; a replayed update.
CASES = [(ACTIVE, 1, 11), (ACTIVE, 2, 12), (ACTIVE, 3, 13), (ACTIVE, 99, 14), (GONE, 1, 15),
         (ACTIVE, 1, 11)]  # fmt: skip


async def _state(uow: Any) -> list[tuple[Any, ...]]:
    table = MembershipRow.__table__
    members = await uow.session.execute(  # the id aside: a sequence never goes back on PostgreSQL
        select(*(c for c in table.c if c.name != "id")).order_by(
            MembershipRow.chat_id, MembershipRow.user_id
        )
    )
    claims = await uow.session.execute(
        select(ProcessedUpdateRow.__table__).order_by(ProcessedUpdateRow.update_id)
    )
    stored = await uow.session.execute(  # as stored: on SQLite, the text of each time
        text("SELECT chat_id, user_id, last_active_at FROM memberships ORDER BY 1, 2")
    )
    return [tuple(r) for r in members] + [tuple(r) for r in claims] + [tuple(r) for r in stored]


async def _setup(uow: Any) -> None:
    active = await uow.chats.register(ACTIVE, active=True, bot_status=None, defaults=DEFAULTS)
    gone = await uow.chats.register(GONE, active=True, bot_status=None, defaults=DEFAULTS)
    await uow.users.upsert([Person(1, "Ann"), Person(2, "Bob"), Person(3, "Cy")])
    for user in (1, 3):
        await uow.members.seen_in(ACTIVE.chat_id, user, AT - dt.timedelta(days=3))
    await uow.members.seen_in(GONE.chat_id, 1, AT - dt.timedelta(days=3))
    await uow.members.update_presence(
        active.pk, 3, status="left", present=False, at=AT - dt.timedelta(days=2)
    )
    await uow.session.execute(  # Ann has a streak going, points and a tier
        update(MembershipRow)
        .where(MembershipRow.chat_id == active.pk, MembershipRow.user_id == 1)
        .values(streak=4, best_streak=6, points=120, tier=2, last_checkin_day=AT.date() - DAY)
    )
    await uow.chats.register(GONE, active=False, bot_status="left", defaults=DEFAULTS)
    assert gone.pk != active.pk
    await uow.commit()


async def _run(uow_factory: Any, plain: bool, monkeypatch: Any) -> tuple[list[Any], list[Any]]:
    if plain:  # no driver: SQLite's fallback, the two Core statements

        async def no_driver(self: Repository) -> None:
            return None

        monkeypatch.setattr(Repository, "driver", no_driver)
    answers = []
    async with uow_factory() as uow:
        for n, (chat, user, update) in enumerate(CASES):
            at = AT + dt.timedelta(minutes=n)
            if plain:
                claimed = await SqlUpdateLog(uow.session).claim(7, update, at)
                seen = await uow.members.seen_in(chat.chat_id, user, at) if claimed else None
                answers.append((claimed, seen))
            else:
                found = await uow.members.claim_and_see(7, update, chat.chat_id, user, at)
                answers.append((found.claimed, found.member))
        state = await _state(uow)  # left uncommitted: the other path starts from the same rows
    monkeypatch.undo()
    return answers, state


async def test_the_fast_path_stores_and_answers_what_the_core_statements_do(
    uow_factory, monkeypatch
):
    async with uow_factory() as uow:
        await _setup(uow)

    fast = await _run(uow_factory, plain=False, monkeypatch=monkeypatch)
    plain = await _run(uow_factory, plain=True, monkeypatch=monkeypatch)

    assert fast == plain
    answers, _ = fast
    assert [claimed for claimed, _ in answers] == [True] * 5 + [False]
    assert [seen is not None for _, seen in answers] == [True, True, True, False, False, False]
    ann = answers[0][1]
    assert (ann.streak, ann.best_streak, ann.points, ann.tier) == (4, 6, 120, 2)
    assert ann.last_checkin_day == AT.date() - DAY
