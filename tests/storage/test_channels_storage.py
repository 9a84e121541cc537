"""Channels in storage, on SQLite and PostgreSQL: one channel of a name per group even when
two admins race, and each channel's joiners read with presence, activity and first order."""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools

import pytest

from campaigns.channels import ChannelRefusal, ChannelRefused
from campaigns.services.channels import create_channel, list_channels
from storage.models import InviteRow, MembershipRow, OrderRow, UserRow
from tests.storage.test_rule_prefilters import seed_chat

T0 = dt.datetime(2026, 11, 2, tzinfo=dt.UTC)
H = dt.timedelta(hours=1)
GROUP = -100950


class Links:
    """Telegram's invite links, made up: each create gives a new URL."""

    def __init__(self) -> None:
        self.numbers = itertools.count(1)
        self.made = 0
        self.revoked: list[str] = []

    async def create(self, chat_id: int, *, name: str, **_: object) -> tuple[str, str] | None:
        await asyncio.sleep(0)
        self.made += 1
        return f"https://t.me/+chan{next(self.numbers)}", name

    async def revoke(self, chat_id: int, url: str) -> None:
        self.revoked.append(url)


async def test_two_admins_racing_for_one_name_get_one_channel(uow_factory):
    async with uow_factory() as uow:
        await seed_chat(uow.session, GROUP)
        await uow.commit()
    links = Links()

    async def make(by: int) -> object:
        try:
            return await create_channel(
                uow_factory, links, chat_id=GROUP, name="抖音", by=by, at=T0
            )
        except ChannelRefused as refused:
            return refused.reason

    results = await asyncio.gather(make(1), make(2))

    made = [r for r in results if not isinstance(r, ChannelRefusal)]
    assert len(made) == 1 and ChannelRefusal.TAKEN in results
    assert len(links.revoked) == links.made - 1  # a link made for a lost race is revoked
    assert [c.name for c in await list_channels(uow_factory(), chat_id=GROUP, now=T0)] == ["抖音"]


@pytest.mark.parametrize("now_hours", [2, 48])
async def test_a_channels_joiners_are_read_with_presence_activity_and_first_order(
    uow_factory, now_hours: int
):
    async with uow_factory() as uow:
        pk = (await seed_chat(uow.session, GROUP)).id
        await uow.commit()
    link = await create_channel(uow_factory, Links(), chat_id=GROUP, name="小红书", by=1, at=T0)
    async with uow_factory() as uow:
        s = uow.session
        s.add_all([UserRow(id=u, first_name=f"U{u}") for u in (31, 32, 33)])
        await s.flush()
        for user, present, active in ((31, True, T0 + H), (32, False, T0 + H), (33, True, None)):
            s.add(MembershipRow(chat_id=pk, user_id=user, present=present, last_active_at=active))
            s.add(InviteRow(chat_id=pk, invitee_id=user, link_id=link.id, source="other_link",
                            status="organic", joined_at=T0))  # fmt: skip
        for key, user, at in (("a", 31, T0 + H), ("b", 33, T0 + 60 * H)):
            s.add(
                OrderRow(chat_id=pk, external_id=key, user_id=user, amount=100, currency="CNY",
                         coupon_codes={"codes": []}, at=at, source="test", created_at=at)
            )  # fmt: skip
        await uow.commit()

    [stats] = await list_channels(uow_factory(), chat_id=GROUP, now=T0 + now_hours * H)

    confirmed = 1 if now_hours > 24 else 0  # 31: stayed and spoke; 32 left; 33 silent
    assert (stats.joins, stats.confirmed, stats.first_orders) == (3, confirmed, 1)
