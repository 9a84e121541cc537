"""Group-buy teams against the fakes: starting, joining, leaving, completion and expiry."""

import datetime as dt
import itertools

import pytest

from campaigns.access import AccessDenied, ButtonKind, Denied
from campaigns.groupbuys import Deal, GroupBuyRefused, Refusal, TeamStatus
from campaigns.members import ChatInfo, Person
from campaigns.services import groupbuys
from campaigns.settings import ChatSettings
from tests.fakes import EVERYONE, POSTED, FakeGate
from tests.services.fakes import FakeDatabase

GROUP = ChatInfo(chat_id=-1004, type="supergroup", title="Tuan")
AT = dt.datetime(2026, 11, 16, 4, 0, tzinfo=dt.UTC)
MINUTE = dt.timedelta(minutes=1)
_updates = itertools.count(1)


async def a_deal(db: FakeDatabase, **kw) -> int:
    """A deal for teams of three, ¥30 alone or ¥19.90 together, posted with its buttons."""
    async with db.uow() as uow:
        await uow.chats.register(GROUP, active=True, bot_status=None, defaults=ChatSettings())
        await uow.commit()
    base = {"title": "奶茶三人团", "price": 3000, "group_price": 1990, "size": 3,
            "team_minutes": 60, "ends_at": AT + dt.timedelta(days=2)}  # fmt: skip
    deal = await groupbuys.create_deal(
        db.uow(), chat_id=GROUP.chat_id, deal=Deal(**(base | kw)), description=None, at=AT
    )
    await posted(db, ButtonKind.DEAL, deal.id)
    return deal.id


async def posted(db: FakeDatabase, kind: ButtonKind, object_id: int) -> None:
    async with db.uow() as uow:
        await uow.buttons.remember(kind, object_id, POSTED.chat_id, POSTED.message_id, AT)
        await uow.commit()


def person(n: int) -> Person:
    return Person(n, f"Buyer {n}")


async def start(db, deal_id, n, at=AT) -> groupbuys.TeamView:
    view = await groupbuys.start_team(
        db.uow(), gate=EVERYONE, bot_id=9, update_id=next(_updates), deal_id=deal_id,
        person=person(n), tap=POSTED, at=at,
    )  # fmt: skip
    await posted(db, ButtonKind.TEAM, view.team.id)  # its card, with ➕ and Leave
    return view


async def join(db, team_id, n, at=AT, uow=None, gate=EVERYONE) -> groupbuys.TeamView:
    return await groupbuys.join_team(
        uow or db.uow(), gate=gate, bot_id=9, update_id=next(_updates), team_id=team_id,
        person=person(n), tap=POSTED, at=at,
    )  # fmt: skip


async def leave(db, team_id, n) -> groupbuys.TeamView:
    return await groupbuys.leave_team(
        db.uow(), bot_id=9, update_id=next(_updates), team_id=team_id, user_id=n,
        tap=POSTED, at=AT,
    )  # fmt: skip


async def refused(coro) -> Refusal:
    with pytest.raises(GroupBuyRefused) as refusal:
        await coro
    return refusal.value.reason


def taken(db: FakeDatabase, deal_id: int) -> int:
    return db.t.deals[deal_id].taken


async def test_the_member_who_fills_the_team_completes_it_and_everyone_gets_the_saving():
    db = FakeDatabase()
    deal = await a_deal(db)
    team = (await start(db, deal, 1)).team
    await join(db, team.id, 2)

    done = await join(db, team.id, 3)

    assert (done.team.status, done.team.members) == (TeamStatus.COMPLETE, 3)
    assert [m.user_id for m in done.members] == [1, 2, 3]
    assert sorted(done.coupons) == [1, 2, 3]
    assert {c.offer.template.value for c in done.coupons.values()} == {1010}  # ¥30 − ¥19.90


async def test_a_completed_team_refuses_another_join():
    db = FakeDatabase()
    deal = await a_deal(db, size=2)
    team = (await start(db, deal, 1)).team
    await join(db, team.id, 2)
    late = db.uow()

    reason = await refused(join(db, team.id, 3, uow=late))

    assert reason is Refusal.CLOSED
    assert not late.committed
    assert db.t.teams[team.id].members == 2


async def test_a_sold_out_deal_refuses_a_join_and_the_team_keeps_its_free_slot():
    db = FakeDatabase()
    deal = await a_deal(db, stock=2)
    team = (await start(db, deal, 1)).team
    await join(db, team.id, 2)

    reason = await refused(join(db, team.id, 3))

    assert reason is Refusal.SOLD_OUT
    assert db.t.teams[team.id].members == 2
    assert sorted(m.user_id for m in db.t.team_members.values()) == [1, 2]
    assert taken(db, deal) == 2


async def test_a_sold_out_deal_refuses_a_new_team():
    db = FakeDatabase()
    deal = await a_deal(db, stock=1)
    await start(db, deal, 1)

    assert await refused(start(db, deal, 2)) is Refusal.SOLD_OUT
    assert len(db.t.teams) == 1


async def test_a_member_is_in_one_open_team_of_a_deal_at_a_time():
    db = FakeDatabase()
    deal = await a_deal(db)
    first = (await start(db, deal, 1)).team
    second = (await start(db, deal, 2)).team

    twice = await refused(join(db, first.id, 1))
    elsewhere = await refused(join(db, second.id, 1))

    assert twice is elsewhere is Refusal.IN_A_TEAM
    assert taken(db, deal) == 2


async def test_leaving_frees_the_slot_and_the_unit_for_someone_else():
    db = FakeDatabase()
    deal = await a_deal(db, stock=2)
    team = (await start(db, deal, 1)).team
    await join(db, team.id, 2)

    after = await leave(db, team.id, 2)
    joined = await join(db, team.id, 3)

    assert after.team.members == 1
    assert [m.user_id for m in joined.members] == [1, 3]
    assert taken(db, deal) == 2


async def test_leaving_a_team_one_is_not_in_is_refused():
    db = FakeDatabase()
    team = (await start(db, await a_deal(db), 1)).team

    assert await refused(leave(db, team.id, 2)) is Refusal.NOT_IN_TEAM


async def test_a_team_whose_time_ran_out_refuses_joins_and_gives_its_units_back():
    db = FakeDatabase()
    deal = await a_deal(db, stock=5)
    team = (await start(db, deal, 1)).team
    await join(db, team.id, 2)

    late = await refused(join(db, team.id, 3, at=AT + 61 * MINUTE))
    early = await groupbuys.expire_teams(db.uow, now=AT + 59 * MINUTE)
    expired = await groupbuys.expire_teams(db.uow, now=AT + 61 * MINUTE)
    again = await groupbuys.expire_teams(db.uow, now=AT + 62 * MINUTE)

    assert late is Refusal.CLOSED
    assert early == [] and again == []
    assert [(v.team.status, [m.user_id for m in v.members]) for v in expired] == [
        (TeamStatus.EXPIRED, [1, 2])
    ]
    assert taken(db, deal) == 0


async def test_nobody_starts_or_joins_a_team_once_the_deal_has_ended():
    db = FakeDatabase()
    deal = await a_deal(db, ends_at=AT + 90 * MINUTE)
    team = (await start(db, deal, 1)).team

    assert await refused(join(db, team.id, 2, at=AT + 90 * MINUTE)) is Refusal.ENDED
    assert await refused(start(db, deal, 3, at=AT + 91 * MINUTE)) is Refusal.ENDED


async def test_a_team_never_outlives_its_deal():
    db = FakeDatabase()
    deal = await a_deal(db, ends_at=AT + 30 * MINUTE)

    view = await start(db, deal, 1)

    assert view.team.expires_at == AT + 30 * MINUTE


async def test_join_from_the_deal_post_picks_the_open_team_closest_to_completing():
    db = FakeDatabase()
    deal = await a_deal(db)
    await start(db, deal, 1)
    fuller = (await start(db, deal, 2)).team
    await join(db, fuller.id, 3)

    view = await groupbuys.join_any(
        db.uow(), gate=EVERYONE, bot_id=9, update_id=next(_updates), deal_id=deal,
        person=person(4), tap=POSTED, at=AT,
    )  # fmt: skip

    assert view.team.id == fuller.id
    assert view.team.status is TeamStatus.COMPLETE


async def test_join_from_the_deal_post_with_no_open_team_is_refused():
    db = FakeDatabase()
    deal = await a_deal(db)

    with pytest.raises(GroupBuyRefused) as refusal:
        await groupbuys.join_any(
            db.uow(), gate=EVERYONE, bot_id=9, update_id=next(_updates), deal_id=deal,
            person=person(4), tap=POSTED, at=AT,
        )  # fmt: skip

    assert refusal.value.reason is Refusal.NO_OPEN_TEAM


async def test_someone_outside_the_group_cannot_join():
    db = FakeDatabase()
    team = (await start(db, await a_deal(db), 1)).team

    with pytest.raises(AccessDenied) as denied:
        await join(db, team.id, 2, gate=FakeGate())

    assert denied.value.reason is Denied.NOT_MEMBER
    assert db.t.teams[team.id].members == 1
