"""Channels in storage, on SQLite and PostgreSQL: one channel of a name per group even when
two admins race (to make or to rename one), a revoke once, one campaign per channel; and
each channel's figures from the repository's rows equal the rule over every raw row, with
the numbers worked out by hand."""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools

import pytest
from sqlalchemy import select

from campaigns.campaign import AttachKind, Campaign, CampaignRefusal, CampaignRefused
from campaigns.channels import (
    Channel,
    ChannelFacts,
    ChannelJoin,
    ChannelRefusal,
    ChannelRefused,
    MemberNow,
    OrderAt,
    channel_figures,
    period_view,
)
from campaigns.referral import ReferralProgram
from campaigns.services.campaigns import attach, create_campaign, report
from campaigns.services.channels import (
    channels_between,
    create_channel,
    list_channels,
    rename_channel,
    revoke_channel,
    set_cost,
)
from storage.models import InviteLinkRow, InviteRow, MembershipRow, OrderRow, UserRow
from tests.storage.test_rule_prefilters import seed_chat

T0 = dt.datetime(2026, 11, 2, tzinfo=dt.UTC)
H, D = dt.timedelta(hours=1), dt.timedelta(days=1)
GROUP, OTHER = -100950, -100951


class Links:
    """Telegram's invite links, made up: each create gives a new URL; `refuse` says no to
    revoking and renaming (the bot lost its right)."""

    def __init__(self, refuse: bool = False) -> None:
        self.numbers = itertools.count(1)
        self.made = 0
        self.revoked: list[str] = []
        self.retired: list[str] = []
        self.renamed: list[tuple[str, str]] = []
        self.refuse = refuse

    async def create(self, chat_id: int, *, name: str, **_: object) -> tuple[str, str] | None:
        await asyncio.sleep(0)
        self.made += 1
        return f"https://t.me/+chan{chat_id % 1000}x{next(self.numbers)}", name

    async def revoke(self, chat_id: int, url: str) -> None:
        self.revoked.append(url)

    async def retire(self, chat_id: int, url: str) -> bool:
        await asyncio.sleep(0)
        if not self.refuse:
            self.retired.append(url)
        return not self.refuse

    async def rename(self, chat_id: int, url: str, name: str) -> bool:
        await asyncio.sleep(0)
        if not self.refuse:
            self.renamed.append((url, name))
        return not self.refuse


async def group(uow_factory, chat_id: int = GROUP) -> int:
    async with uow_factory() as uow:
        pk = (await seed_chat(uow.session, chat_id)).id
        await uow.commit()
    return pk


async def test_two_admins_racing_for_one_name_get_one_channel(uow_factory):
    await group(uow_factory)
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


async def test_two_renames_to_one_name_leave_one_and_the_loser_unchanged(uow_factory):
    await group(uow_factory)
    links = Links()
    for name in ("a", "b"):
        await create_channel(uow_factory, links, chat_id=GROUP, name=name, by=1, at=T0)

    async def rename(old: str) -> object:
        try:
            return await rename_channel(uow_factory, links, chat_id=GROUP, old=old, new="微博")
        except ChannelRefused as refused:
            return refused.reason

    results = await asyncio.gather(rename("a"), rename("b"))

    assert [r for r in results if isinstance(r, ChannelRefusal)] == [ChannelRefusal.TAKEN]
    names = sorted(c.name for c in await list_channels(uow_factory(), chat_id=GROUP, now=T0))
    assert names in (["a", "微博"], ["b", "微博"])


async def test_revoke_cost_and_rename_change_only_the_groups_own_channel(uow_factory):
    await group(uow_factory)
    await group(uow_factory, OTHER)
    links = Links()
    mine = await create_channel(uow_factory, links, chat_id=GROUP, name="小红书", by=1, at=T0,
                                cost=50_000)  # fmt: skip
    await create_channel(uow_factory, links, chat_id=OTHER, name="抖音", by=2, at=T0)

    with pytest.raises(ChannelRefused) as foreign:
        await set_cost(uow_factory(), chat_id=GROUP, name="抖音", cost=1)
    with pytest.raises(ChannelRefused) as refused:
        await revoke_channel(uow_factory, Links(refuse=True), chat_id=GROUP, name="小红书", at=T0)
    done = await revoke_channel(uow_factory, links, chat_id=GROUP, name="小红书", at=T0 + H)
    with pytest.raises(ChannelRefused) as twice:
        await revoke_channel(uow_factory, links, chat_id=GROUP, name="小红书", at=T0 + 2 * H)
    await rename_channel(uow_factory, Links(refuse=True), chat_id=GROUP, old="小红书", new="x")
    await set_cost(uow_factory(), chat_id=GROUP, name="x", cost=None)

    assert foreign.value.reason is ChannelRefusal.UNKNOWN
    assert refused.value.reason is ChannelRefusal.NO_RIGHTS
    assert twice.value.reason is ChannelRefusal.REVOKED
    assert done.revoked_at == T0 + H and links.retired == [mine.url]  # once, in Telegram too
    # a revoked link is renamed here only (Telegram keeps a dead link's name)
    [now] = await list_channels(uow_factory(), chat_id=GROUP, now=T0)
    assert (now.name, now.cost, now.channel.revoked_at) == ("x", None, T0 + H)
    [theirs] = await list_channels(uow_factory(), chat_id=OTHER, now=T0)
    assert (theirs.name, theirs.cost) == ("抖音", None)


async def seed_joins(uow_factory) -> tuple[Channel, Channel]:
    """小红书 (¥100) and 抖音; members 31-35 joined through them (see each line); their
    orders, and one by 31 in another group."""
    pk = await group(uow_factory)
    other = await group(uow_factory, OTHER)
    links = Links()
    red = await create_channel(uow_factory, links, chat_id=GROUP, name="小红书", by=1, at=T0,
                               cost=10_000)  # fmt: skip
    tok = await create_channel(uow_factory, links, chat_id=GROUP, name="抖音", by=1, at=T0)
    async with uow_factory() as uow:
        s = uow.session
        s.add_all([UserRow(id=u, first_name=f"U{u}") for u in (31, 32, 33, 34, 35)])
        await s.flush()
        members = ((31, True, T0 + H), (32, False, T0 + H), (33, True, None),
                   (34, True, T0 + 41 * H), (35, True, T0 + 50 * H))  # fmt: skip
        for user, present, active in members:
            s.add(MembershipRow(chat_id=pk, user_id=user, present=present, last_active_at=active))
        joins = (
            (31, red, T0), (31, tok, T0 + 30 * H),  # 31: 小红书's (first touch)
            (32, tok, T0), (33, red, T0 + H), (34, tok, T0 + 40 * H),
            (35, red, T0 + 49 * H),
        )  # fmt: skip
        for user, link, at in joins:
            s.add(InviteRow(chat_id=pk, invitee_id=user, link_id=link.link_id, source="other_link",
                            status="organic", joined_at=at))  # fmt: skip
        s.add(InviteRow(chat_id=pk, invitee_id=35, source="organic", status="organic",
                        joined_at=T0 - D))  # fmt: skip  # a join of no channel
        orders = (
            ("a", pk, 31, T0 + 2 * H, 9_900), ("b", pk, 31, T0 + 2 * D, 5_000),
            ("c", pk, 32, T0 + 5 * H, 20_000), ("d", pk, 33, T0 - H, 7_000),
            ("e", pk, 33, T0 + 4 * H, 3_000), ("f", pk, 35, T0 + 50 * H, 1_000),
            ("g", other, 31, T0 + 3 * H, 88_800),  # another group's order
        )  # fmt: skip
        for key, chat, user, at, amount in orders:
            s.add(OrderRow(chat_id=chat, external_id=key, user_id=user, amount=amount,
                           currency="CNY", coupon_codes={"codes": []}, at=at, source="test",
                           created_at=at))  # fmt: skip
        await uow.commit()
    return red, tok


async def raw_facts(uow_factory) -> ChannelFacts:
    """Every raw row of the group, unfiltered but for the group: what the rule reads."""
    async with uow_factory() as uow:
        s = uow.session
        pk = (await uow.chats.get(GROUP)).pk
        kinds = dict((await s.execute(select(InviteLinkRow.id, InviteLinkRow.kind))).all())
        joins = [
            ChannelJoin(i.link_id, i.invitee_id, i.joined_at)
            for i in (await s.scalars(select(InviteRow).where(InviteRow.chat_id == pk))).all()
            if kinds.get(i.link_id) == "channel"
        ]
        members = {
            m.user_id: MemberNow(m.present, m.last_active_at)
            for m in (await s.scalars(select(MembershipRow).where(MembershipRow.chat_id == pk)))
        }
        orders: dict[int, list[OrderAt]] = {}
        for o in (await s.scalars(select(OrderRow).where(OrderRow.chat_id == pk))).all():
            orders.setdefault(o.user_id, []).append(OrderAt(o.at, o.amount))
    return ChannelFacts(joins, members, {u: tuple(sorted(o, key=lambda o: o.at))
                                         for u, o in orders.items()})  # fmt: skip


@pytest.mark.parametrize("now_hours", [2, 48, 72])
async def test_each_channels_figures_from_storage_are_the_rule_over_the_raw_rows(
    uow_factory, now_hours: int
):
    red, tok = await seed_joins(uow_factory)
    now = T0 + now_hours * H
    facts = await raw_facts(uow_factory)

    got = await list_channels(uow_factory(), chat_id=GROUP, now=now)
    period = await channels_between(uow_factory(), chat_id=GROUP, since=T0 + H, until=T0 + 2 * D,
                                    now=now)  # fmt: skip

    program = ReferralProgram()
    assert got == channel_figures([red, tok], facts, program, now=now)
    assert period.channels == period_view(
        [red, tok], facts, program, since=T0 + H, until=T0 + 2 * D, now=now
    )


async def test_each_channels_figures_worked_out_by_hand(uow_factory):
    await seed_joins(uow_factory)

    red, tok = await list_channels(uow_factory(), chat_id=GROUP, now=T0 + 80 * H)

    # 小红书: 31 (spoke, stayed), 33 (silent), 35 (spoke, held 31h); 31's later join elsewhere
    # keeps them here; 33's first order came before joining; 31's order in another group is not
    # this group's
    assert (red.joins, red.confirmed, red.first_orders) == (3, 2, 2)
    assert (red.orders, red.gmv) == (4, 9_900 + 5_000 + 3_000 + 1_000)
    assert red.cost == 10_000 and red.roi == pytest.approx((18_900 - 10_000) / 10_000)
    # 抖音: 32 (left; ordered) and 34 (spoke, stayed 32 hours)
    assert (tok.joins, tok.confirmed, tok.first_orders, tok.gmv) == (2, 1, 1, 20_000)
    assert tok.roi is None


async def test_one_campaign_per_channel_even_when_two_attach_at_once(uow_factory):
    await seed_joins(uow_factory)
    ids = []
    for name in ("双11", "双12"):
        made = await create_campaign(
            uow_factory(), chat_id=GROUP, by=1, at=T0,
            campaign=Campaign(name, dt.date(2026, 11, 2), dt.date(2026, 11, 4)),
        )  # fmt: skip
        ids.append(made.id)

    async def attach_to(campaign_id: int) -> object:
        try:
            return await attach(uow_factory(), chat_id=GROUP, campaign_id=campaign_id,
                                kind=AttachKind.CHANNEL, ref="小红书", at=T0)  # fmt: skip
        except CampaignRefused as refused:
            return refused.reason

    results = await asyncio.gather(*(attach_to(i) for i in ids))
    with pytest.raises(CampaignRefused) as foreign:
        await attach(uow_factory(), chat_id=OTHER, campaign_id=ids[0], kind=AttachKind.CHANNEL,
                     ref="小红书", at=T0)  # fmt: skip

    won = [r for r in results if isinstance(r, list)]
    assert len(won) == 1 and won[0][0].ref == "小红书"  # shown by its name
    assert next(r for r in results if not isinstance(r, list)) in (
        CampaignRefusal.CHANNEL_TAKEN, CampaignRefusal.ATTACHED,
    )  # fmt: skip
    assert foreign.value.reason is CampaignRefusal.UNKNOWN
    winner = ids[results.index(won[0])]
    retro = await report(uow_factory(), campaign_id=winner, now=T0 + 10 * D)
    [figures] = retro.channels
    # 2–4 November: 31 (T0), 33 (T0 + 1h) and 35 (T0 + 49h) joined; window 7 days
    assert (figures.name, figures.joins, figures.gmv, figures.cost) == ("小红书", 3, 18_900, 10_000)
    assert retro.gmv_channels == 18_900 and retro.channel_cost == 10_000
    assert retro.cost == 10_000 and retro.gmv == 18_900
