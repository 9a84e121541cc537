"""Group-buy invariants under concurrency, on SQLite and PostgreSQL."""

import asyncio
import datetime as dt

import pytest

from campaigns.access import ButtonKind
from campaigns.groupbuys import Deal, GroupBuyRefused, Refusal, TeamStatus
from campaigns.members import ChatInfo, Person
from campaigns.services import groupbuys
from campaigns.settings import ChatSettings
from tests.fakes import EVERYONE, POSTED, posted

GROUP = ChatInfo(chat_id=-1009876543215, type="supergroup", title="Tuan")
AT = dt.datetime(2026, 11, 16, 4, 0, tzinfo=dt.UTC)


def deal(**kw) -> Deal:
    base = {"title": "奶茶三人团", "price": 3000, "group_price": 1990, "size": 3,
            "team_minutes": 60, "ends_at": AT + dt.timedelta(days=2)}  # fmt: skip
    return Deal(**(base | kw))


async def setup(uow_factory, **kw):
    async with uow_factory() as uow:
        await uow.chats.register(GROUP, active=True, bot_status=None, defaults=ChatSettings())
        await uow.commit()
    return await groupbuys.create_deal(
        uow_factory(), chat_id=GROUP.chat_id, deal=deal(**kw), description=None, at=AT
    )


_ids = iter(range(10_000, 10**9))


async def start(uow_factory, deal_id, user, at=AT):
    await posted(uow_factory, ButtonKind.DEAL, deal_id)
    return await groupbuys.start_team(
        uow_factory(),
        gate=EVERYONE,
        tap=POSTED,
        bot_id=1,
        update_id=next(_ids),
        deal_id=deal_id,
        person=Person(user),
        at=at,
    )


async def join(uow_factory, team_id, user, at=AT):
    await posted(uow_factory, ButtonKind.TEAM, team_id)
    return await groupbuys.join_team(
        uow_factory(),
        gate=EVERYONE,
        tap=POSTED,
        bot_id=1,
        update_id=next(_ids),
        team_id=team_id,
        person=Person(user),
        at=at,
    )


async def attempt(coro):
    try:
        return await coro
    except GroupBuyRefused as refused:
        return refused.reason


async def test_many_members_racing_for_the_last_slots_make_exactly_a_full_team(uow_factory):
    created = await setup(uow_factory)
    team = (await start(uow_factory, created.id, 1)).team

    results = await asyncio.gather(
        *(attempt(join(uow_factory, team.id, 100 + i)) for i in range(10))
    )

    views = [r for r in results if isinstance(r, groupbuys.TeamView)]
    assert len(views) == 2
    refused = [r for r in results if isinstance(r, Refusal)]
    assert len(refused) == 8 and set(refused) <= {Refusal.CLOSED, Refusal.FULL}
    final = max(views, key=lambda v: v.team.members)
    assert (final.team.status, final.team.members) == (TeamStatus.COMPLETE, 3)
    assert len(final.coupons) == 3
    assert {c.offer.template.value for c in final.coupons.values()} == {1010}


async def test_stock_is_reserved_per_member_and_sold_out_is_refused(uow_factory):
    created = await setup(uow_factory, stock=3, size=2)
    first = await start(uow_factory, created.id, 1)
    await join(uow_factory, first.team.id, 2)
    second = await start(uow_factory, created.id, 3)

    assert await attempt(join(uow_factory, second.team.id, 4)) is Refusal.SOLD_OUT
    assert await attempt(start(uow_factory, created.id, 5)) is Refusal.SOLD_OUT


async def test_one_open_team_per_member_and_leaving_frees_the_slot(uow_factory):
    created = await setup(uow_factory, stock=2)
    team = (await start(uow_factory, created.id, 1)).team
    await join(uow_factory, team.id, 2)

    assert await attempt(start(uow_factory, created.id, 2)) is Refusal.IN_A_TEAM
    assert await attempt(join(uow_factory, team.id, 3)) is Refusal.SOLD_OUT
    after = await groupbuys.leave_team(
        uow_factory(), tap=POSTED, bot_id=1, update_id=next(_ids), team_id=team.id, user_id=2, at=AT
    )
    assert after.team.members == 1
    joined = await join(uow_factory, team.id, 3)
    assert [m.user_id for m in joined.members] == [1, 3]


async def test_teams_expire_when_time_runs_out_and_the_deal_ends(uow_factory):
    created = await setup(uow_factory, stock=5, ends_at=AT + dt.timedelta(minutes=90))
    team = (await start(uow_factory, created.id, 1)).team
    await join(uow_factory, team.id, 2)

    early = await groupbuys.expire_teams(uow_factory, now=AT + dt.timedelta(minutes=59))
    due = await groupbuys.expire_teams(uow_factory, now=AT + dt.timedelta(minutes=61))
    late_join = await attempt(join(uow_factory, team.id, 3, at=AT + dt.timedelta(minutes=62)))
    ended = await attempt(start(uow_factory, created.id, 4, at=AT + dt.timedelta(minutes=91)))

    assert early == []
    assert [(v.team.id, [m.user_id for m in v.members]) for v in due] == [(team.id, [1, 2])]
    assert late_join is Refusal.CLOSED
    assert ended is Refusal.ENDED
    fresh = await start(uow_factory, created.id, 1, at=AT + dt.timedelta(minutes=70))
    assert fresh.team.expires_at == AT + dt.timedelta(minutes=90)  # never outlives the deal


@pytest.mark.parametrize(
    "kw", [{"size": 1}, {"size": 51}, {"group_price": 3000}, {"team_minutes": 0}, {"stock": 0}]
)
def test_invalid_deals_are_refused(kw):
    with pytest.raises(ValueError):
        deal(**kw)


async def test_one_press_use_case_starts_joins_and_leaves_as_the_button_says(uow_factory):
    created = await setup(uow_factory, size=4)
    await posted(uow_factory, ButtonKind.DEAL, created.id)

    async def press(action, target, user):
        return await groupbuys.press(
            uow_factory(), gate=EVERYONE, action=action, target=target, person=Person(user),
            tap=POSTED, bot_id=1, update_id=next(_ids), at=AT,
        )  # fmt: skip

    started = await press(groupbuys.TeamAction.START, created.id, 1)
    await posted(uow_factory, ButtonKind.TEAM, started.team.id)
    anywhere = await press(groupbuys.TeamAction.JOIN_ANY, created.id, 2)
    joined = await press(groupbuys.TeamAction.JOIN, started.team.id, 3)
    left = await press(groupbuys.TeamAction.LEAVE, started.team.id, 2)

    assert started.team.leader_id == 1 and started.team.members == 1
    assert (anywhere.team.id, anywhere.team.members) == (started.team.id, 2)
    assert joined.team.members == 3
    assert [m.user_id for m in left.members] == [1, 3]
