"""The funnel and cohort aggregates in SQL, held to campaigns/funnels.py and cohorts.py.

One scripted group with rows on every edge (a second before and after a window, before
joining, a revoked link, a group-buy's own coupons, a failed delivery): on SQLite and
PostgreSQL, each SQL count equals the rule computed over the same raw rows, for several
periods; and for the first week the numbers are worked out by hand.
"""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from campaigns.cohorts import week_start
from campaigns.funnels import (
    CouponFact,
    FunnelFacts,
    FunnelKind,
    InviteFact,
    LinkFact,
    SendFact,
    TeamFact,
    all_funnels,
    channel_funnels,
)
from campaigns.services.analytics import funnels, retention_cohorts
from storage.models import (
    BroadcastRow,
    CouponRow,
    CouponTemplateRow,
    DealRow,
    DeliveryRow,
    EventRow,
    InviteLinkRow,
    InviteRow,
    JourneyRunRow,
    MemberDayRow,
    MembershipRow,
    OrderRow,
    TeamMemberRow,
    TeamRow,
    UserRow,
)
from tests.storage.test_rule_prefilters import seed_chat

T0 = dt.datetime(2026, 11, 2, tzinfo=dt.UTC)  # a Monday
H, D, S = dt.timedelta(hours=1), dt.timedelta(days=1), dt.timedelta(seconds=1)
GROUP = -100777
U1, U2, U3, U4, U5 = 1, 2, 3, 4, 5
PERIODS = [(T0, T0 + 7 * D), (T0 - 7 * D, T0), (T0, T0 + 30 * D), (T0 + 3 * D, T0 + 10 * D)]


async def seed(session) -> int:
    """The scripted group (see the hand-worked numbers in the tests below)."""
    chat = await seed_chat(session, GROUP)
    pk = chat.id
    users = [U1, U2, U3, U4, U5, 10, 11, 12, 13]
    session.add_all([UserRow(id=u, first_name=f"U{u}") for u in users])
    await session.flush()
    joined = {U1: T0 + H, U2: T0 + D, U3: T0 - 2 * D, U4: T0 + 7 * D - S, U5: T0 + 7 * D}
    session.add_all(
        [MembershipRow(chat_id=pk, user_id=u, joined_at=at) for u, at in joined.items()]
    )
    session.add(MembershipRow(chat_id=pk, user_id=10, joined_at=None))  # there before the bot

    def event(user: int, kind: str, at: dt.datetime) -> EventRow:
        return EventRow(chat_id=pk, user_id=user, kind=kind, at=at)

    session.add_all([
        event(U1, "message", T0 + 2 * H), event(U1, "checkin", T0 + 3 * H),
        event(U2, "message", T0 + D - S), event(U2, "checkin", T0 + 2 * D),
        event(U3, "message", T0 + D), event(U3, "message", T0 + 5 * D + H),
        event(U4, "message", T0 + 7 * D + H), event(U5, "message", T0 + 7 * D + S),
        event(U1, "join", T0 + 4 * D),  # not activity
    ])  # fmt: skip

    def order(user: int, at: dt.datetime, n: int) -> OrderRow:
        return OrderRow(
            chat_id=pk, external_id=f"o{n}", user_id=user, amount=100, currency="CNY", at=at,
            coupon_codes={}, source="csv", created_at=at,
        )  # fmt: skip

    session.add_all([order(U1, T0 + 4 * D, 1), order(U2, T0 + D - S, 2), order(U3, T0 + D, 3)])
    links = [
        InviteLinkRow(chat_id=pk, owner_id=10, url="l1", name="a", kind="member",
                      created_at=T0 - 10 * D),
        InviteLinkRow(chat_id=pk, owner_id=11, url="l2", name="b", kind="deeplink",
                      created_at=T0 + 2 * D),
        InviteLinkRow(chat_id=pk, owner_id=12, url="l3", name="c", kind="member",
                      created_at=T0 - 20 * D, revoked_at=T0 - D),
        InviteLinkRow(chat_id=pk, owner_id=13, url="l4", name="d", kind="member",
                      created_at=T0 + 8 * D),
        # a channel (渠道): an admin's link, no one's share in the referral funnel
        InviteLinkRow(chat_id=pk, owner_id=14, url="l5", name="小红书", kind="channel",
                      created_at=T0 - D),
    ]  # fmt: skip
    session.add_all(links)
    await session.flush()
    red = links[-1].id

    def invite(invitee: int, inviter: int, status: str, at: dt.datetime, ok=None) -> InviteRow:
        return InviteRow(
            chat_id=pk, invitee_id=invitee, inviter_id=inviter, source="member_link",
            status=status, joined_at=at, confirmed_at=ok,
        )  # fmt: skip

    session.add_all([
        invite(U1, 10, "confirmed", T0 + H, T0 + 2 * D), invite(U2, 10, "pending", T0 + D),
        invite(20, 11, "rejected", T0 + 3 * D), invite(21, 11, "left", T0 + 3 * D),
        invite(22, 12, "confirmed", T0 + D, T0 + 2 * D),
        invite(23, 13, "confirmed", T0 + 8 * D, T0 + 9 * D),
        invite(24, 12, "organic", T0 + D),
    ])  # fmt: skip

    def through_channel(invitee: int, at: dt.datetime) -> InviteRow:
        return InviteRow(chat_id=pk, invitee_id=invitee, link_id=red, source="other_link",
                         status="organic", joined_at=at)  # fmt: skip

    # U4 and U5 first joined through it; U3's join through it was a rejoin (not new)
    session.add_all([through_channel(U4, T0 + 7 * D - S), through_channel(U5, T0 + 7 * D),
                     through_channel(U3, T0 + 3 * D)])  # fmt: skip

    def offer(name: str, purpose: str = "offer") -> CouponTemplateRow:
        return CouponTemplateRow(
            chat_id=pk, name=name, kind="fixed", value=3000, currency="CNY", purpose=purpose,
            created_at=T0 - 30 * D,
        )  # fmt: skip

    t1, t2, t3 = offer("满199减30"), offer("Team", "groupbuy"), offer("Gift")
    session.add_all([t1, t2, t3])
    await session.flush()

    def coupon(t, user: int, issued: dt.datetime, redeemed=None) -> CouponRow:
        return CouponRow(
            template_id=t.id, chat_id=pk, code=f"C{t.id}{user}{issued:%d%H}", user_id=user, slot=1,
            source="claim", status="used" if redeemed else "active", issued_at=issued,
            redeemed_at=redeemed,
        )  # fmt: skip

    session.add_all([
        coupon(t1, U1, T0 + D, T0 + 2 * D), coupon(t1, U2, T0 + D),
        coupon(t1, U3, T0 - D, T0 + D), coupon(t2, U1, T0 + D, T0 + D),
        coupon(t3, U4, T0 + 5 * D, T0 + 7 * D),
    ])  # fmt: skip
    deal = DealRow(
        chat_id=pk, title="Tea", price=1000, group_price=800, currency="CNY", size=2,
        team_minutes=60, ends_at=T0 + 30 * D, offer_id=t2.id, created_at=T0 - D,
    )  # fmt: skip
    session.add(deal)
    await session.flush()
    teams = [
        (TeamRow(deal_id=deal.id, leader_id=U1, status="complete", members=2, size=2,
                 created_at=T0 + H, expires_at=T0 + 2 * H, closed_at=T0 + D), (U1, U2)),
        (TeamRow(deal_id=deal.id, leader_id=U3, status="expired", members=2, size=3,
                 created_at=T0 + 2 * D, expires_at=T0 + 3 * D, closed_at=T0 + 3 * D), (U3, U2)),
        (TeamRow(deal_id=deal.id, leader_id=U4, status="complete", members=1, size=1,
                 created_at=T0 - D, expires_at=T0, closed_at=T0), (U4,)),
    ]  # fmt: skip
    session.add_all([team for team, _ in teams])
    await session.flush()
    session.add_all([
        TeamMemberRow(team_id=team.id, deal_id=deal.id, user_id=u, joined_at=team.created_at,
                      open=False)
        for team, members in teams for u in members
    ])  # fmt: skip
    to_members = BroadcastRow(
        chat_id=pk, target="members", content={}, audience={}, status="done", created_at=T0
    )
    again = BroadcastRow(
        chat_id=pk, target="members", content={}, audience={}, status="done", created_at=T0
    )
    to_groups = BroadcastRow(
        chat_id=None, target="groups", content={}, audience={}, status="done", created_at=T0
    )
    runs = [
        JourneyRunRow(chat_id=pk, user_id=U1, journey="winback", episode="e", status="queued",
                      at=T0 + 3 * D),
        JourneyRunRow(chat_id=pk, user_id=U3, journey="winback", episode="e", status="queued",
                      at=T0 + 5 * D),
        JourneyRunRow(chat_id=pk, user_id=0, journey="member_day", episode="e",
                      status="queued", at=T0 + 5 * D),
    ]  # fmt: skip
    session.add_all([to_members, again, to_groups, *runs])
    await session.flush()

    def sent(target: int, at: dt.datetime, status: str = "sent", **ids: int) -> DeliveryRow:
        kind = "broadcast" if "broadcast_id" in ids else "journey"
        return DeliveryRow(
            kind=kind, target_chat=target, due_at=at, status=status,
            sent_at=at if status == "sent" else None, **ids,
        )  # fmt: skip

    b, g = to_members.id, to_groups.id
    session.add_all([
        sent(U1, T0 + H, broadcast_id=b), sent(U3, T0 + H, broadcast_id=b),
        sent(U5, T0 + 2 * D, broadcast_id=b), sent(U4, T0 + 2 * D, "failed", broadcast_id=b),
        sent(U2, T0 + 6 * D, broadcast_id=b), sent(U2, T0 + D, broadcast_id=again.id),
        sent(GROUP, T0 + D, broadcast_id=g),
        sent(U1, T0 + 3 * D, journey_run_id=runs[0].id),
        sent(U3, T0 + 5 * D, journey_run_id=runs[1].id),
        sent(GROUP, T0 + 5 * D, journey_run_id=runs[2].id),
    ])  # fmt: skip
    days = [(U1, 0), (U1, 6), (U1, 7), (U2, 13), (U3, -2), (U5, 9), (U5, 16)]
    session.add_all(
        [MemberDayRow(chat_id=pk, user_id=u, day=dt.date(2026, 11, 2) + n * D) for u, n in days]
    )
    await session.flush()
    return pk


async def load_facts(session, pk: int) -> FunnelFacts:
    """The raw rows as the rules read them: no aggregation, only the group's own rows."""
    M, E, OR = MembershipRow, EventRow, OrderRow
    facts = FunnelFacts()
    for user, at in await session.execute(select(M.user_id, M.joined_at).where(M.chat_id == pk)):
        if at is not None:
            facts.joins[user] = at
    for user, kind, at in await session.execute(
        select(E.user_id, E.kind, E.at).where(E.chat_id == pk)
    ):
        into = {"message": facts.messages, "checkin": facts.checkins}.get(kind)
        if into is not None:
            into.setdefault(user, []).append(at)
    for user, at in await session.execute(select(OR.user_id, OR.at).where(OR.chat_id == pk)):
        facts.orders.setdefault(user, []).append(at)
    L, IV = InviteLinkRow, InviteRow
    kinds = {}
    for link_id, owner, created, revoked, kind in await session.execute(
        select(L.id, L.owner_id, L.created_at, L.revoked_at, L.kind).where(L.chat_id == pk)
    ):
        facts.links.append(LinkFact(owner, created, revoked, kind))
        kinds[link_id] = kind
    for *row, link_id in await session.execute(
        select(IV.invitee_id, IV.inviter_id, IV.status, IV.joined_at, IV.confirmed_at,
               IV.link_id).where(IV.chat_id == pk)
    ):  # fmt: skip
        if row[1] is not None:
            facts.invites.append(InviteFact(*row))
        invitee, joined_at = row[0], row[3]
        if kinds.get(link_id) == "channel" and facts.joins.get(invitee) == joined_at:
            facts.join_channels[invitee] = link_id  # their first join came through it
    C, T = CouponRow, CouponTemplateRow
    for offer_id, name, purpose, issued, redeemed in await session.execute(
        select(T.id, T.name, T.purpose, C.issued_at, C.redeemed_at)
        .join(T, T.id == C.template_id)
        .where(C.chat_id == pk)
    ):
        facts.coupons.append(CouponFact(offer_id, name, issued, redeemed, purpose))
    TR, TM = TeamRow, TeamMemberRow
    for team in (
        await session.scalars(select(TR).join(DealRow, DealRow.id == TR.deal_id).where(
            DealRow.chat_id == pk
        ))
    ).all():  # fmt: skip
        members = (await session.scalars(select(TM.user_id).where(TM.team_id == team.id))).all()
        facts.teams.append(
            TeamFact(team.id, team.status, team.created_at, team.closed_at, tuple(members))
        )
    DL, B, JR = DeliveryRow, BroadcastRow, JourneyRunRow
    private = (DL.status == "sent", DL.target_chat > 0)
    for user, at in await session.execute(
        select(DL.target_chat, DL.sent_at)
        .join(B, B.id == DL.broadcast_id)
        .where(B.chat_id == pk, B.target == "members", *private)
    ):
        facts.sends.append(SendFact(FunnelKind.BROADCAST, user, at))
    for user, at in await session.execute(
        select(DL.target_chat, DL.sent_at)
        .join(JR, JR.id == DL.journey_run_id)
        .where(JR.chat_id == pk, *private)
    ):
        facts.sends.append(SendFact(FunnelKind.JOURNEY, user, at))
    return facts


@pytest.fixture
async def group(uow_factory) -> int:
    async with uow_factory() as uow:
        pk = await seed(uow.session)
        await uow.commit()
    return pk


@pytest.mark.parametrize("since, until", PERIODS)
async def test_every_funnel_count_in_sql_is_the_rule_over_the_same_rows(
    uow_factory, group, since, until
):
    async with uow_factory() as uow:
        facts = await load_facts(uow.session, group)

    report = await funnels(uow_factory(), chat_id=GROUP, since=since, until=until)

    assert report.funnels == all_funnels(facts, since, until)
    channels = [(link, "小红书") for link in set(facts.join_channels.values())]
    assert report.channels == channel_funnels(facts, channels, since, until)


async def test_the_first_week_worked_out_by_hand(uow_factory, group):
    report = await funnels(uow_factory(), chat_id=GROUP, since=T0, until=T0 + 7 * D)

    shown = [(f.kind, f.title, f.counts) for f in report.funnels]
    assert shown == [
        # inviters 10 and 11 (12's link was revoked before, 13's made after); 11's friend who
        # left still joined; 10's friend U1 was confirmed and ordered
        (FunnelKind.REFERRAL, None, (2, 2, 1, 1)),
        (FunnelKind.COUPON, "满199减30", (2, 1)),  # the one claimed before the week is out
        (FunnelKind.COUPON, "Gift", (1, 0)),  # redeemed just after the week
        (FunnelKind.TEAMS, None, (2, 1)),
        # U1, U2, U3; U1 and U2 completed; U2's order came a second before completion
        (FunnelKind.TEAM_MEMBERS, None, (3, 2, 1)),
        # five private sends (the failed one and the group post are not); U5 spoke too late,
        # U2's second came after all its activity; U2's first is active but without an order
        (FunnelKind.BROADCAST, None, (5, 3, 2)),
        (FunnelKind.JOURNEY, None, (2, 1, 0)),  # U1 no activity after; U3 spoke, no order
        # U1, U2, U4 (U5 joined on the stroke of the end); U2 spoke only before joining
        (FunnelKind.NEW_MEMBER, None, (3, 1, 1, 1)),
    ]
    # U4 came through 小红书 (and spoke only after the week); U1 and U2 another way
    assert [(f.title, f.counts) for f in report.channels] == [
        ("小红书", (1, 0, 0, 0)),
        (None, (2, 1, 1, 1)),
    ]


async def test_active_weeks_in_sql_are_the_mondays_of_the_member_days(uow_factory, group):
    async with uow_factory() as uow:
        found = await uow.analytics.active_weeks(group, dt.date(2026, 10, 1))
        rows = await uow.session.execute(
            select(MemberDayRow.user_id, MemberDayRow.day).where(MemberDayRow.chat_id == group)
        )
        expected = {(user, week_start(day)) for user, day in rows}

    assert found == expected
    assert (U1, dt.date(2026, 11, 2)) in found and (U1, dt.date(2026, 11, 9)) in found
    assert (U3, dt.date(2026, 10, 26)) in found  # a Saturday: the week began the Monday before


async def test_retention_cohorts_worked_out_by_hand(uow_factory, group):
    now = T0 + 16 * D + 5 * H  # Wednesday 18 November, UTC (the group's timezone)

    report = await retention_cohorts(uow_factory(), chat_id=GROUP, weeks=3, now=now)

    table = report.table
    assert table.weeks == (dt.date(2026, 11, 2), dt.date(2026, 11, 9), dt.date(2026, 11, 16))
    # U1, U2 and U4 (a second before Monday) joined in the first week, U5 in the second
    assert table.sizes == (3, 1, 0)
    # U1 active in weeks 0 and 1 (a Sunday and the Monday after), U2 on the Sunday of week 1;
    # U5 in both of its weeks
    assert table.active == ((1, 2, 0), (1, 1, None), (0, None, None))
