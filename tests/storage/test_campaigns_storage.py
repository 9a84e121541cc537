"""Campaigns in storage: the 复盘's rows narrowed in SQL give what the rule gives over every
row of the group, and a scripted campaign's figures worked out by hand; the use cases'
group checks and the once-only finish, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest
from sqlalchemy import select

from campaigns.campaign import (
    AttachKind,
    Campaign,
    CampaignRefusal,
    CampaignRefused,
    CouponFact,
    OrderFact,
    Reach,
    ReachKind,
    Response,
    RetroFacts,
    ranked_responses,
    responded,
    retro,
    top_inviters,
)
from campaigns.checkin import local_day
from campaigns.content import PostContent
from campaigns.schedule import When
from campaigns.services.calendar import import_plan
from campaigns.services.campaigns import (
    attach,
    create_campaign,
    finish_due,
    report,
    set_target,
)
from campaigns.services.surveys import start_survey
from campaigns.stats import Kpi
from campaigns.surveys import SurveyKind
from storage.models import (
    BroadcastRow,
    CouponRow,
    CouponTemplateRow,
    DailyStatsRow,
    DealRow,
    DeliveryRow,
    EventRow,
    InviteRow,
    JourneyRunRow,
    LedgerRow,
    OrderRow,
    ScheduledPostRow,
    UserRow,
)
from tests.storage.test_rule_prefilters import seed_chat

T0 = dt.datetime(2026, 11, 2, tzinfo=dt.UTC)  # the campaign's first instant (UTC group)
H, D, S = dt.timedelta(hours=1), dt.timedelta(days=1), dt.timedelta(seconds=1)
GROUP, OTHER = -100888, -100889
U1, U2, U3, U4, U5, U6 = 1, 2, 3, 4, 5, 6
DOUBLE11 = Campaign(
    "双11",
    dt.date(2026, 11, 2),
    dt.date(2026, 11, 8),
    targets={Kpi.JOINS: 10, Kpi.GMV: 100_000},
    budget=100_000,
)
NOWS = [T0 + 3 * D, T0 + 12 * D, T0 + 40 * D, T0 - D]


async def seed(session) -> tuple[int, dict[str, int]]:
    """The scripted group; the ids of what the campaign gets attached."""
    pk = (await seed_chat(session, GROUP)).id
    foreign = (await seed_chat(session, OTHER)).id
    session.add_all([UserRow(id=u, first_name=f"U{u}") for u in (U1, U2, U3, U4, U5, U6, 10, 11)])

    def offer(name: str, chat: int = pk) -> CouponTemplateRow:
        return CouponTemplateRow(
            chat_id=chat,
            name=name,
            kind="fixed",
            value=3000,
            currency="CNY",
            created_at=T0 - 30 * D,
        )

    t1, t2, t3, alien = offer("满199减30"), offer("other"), offer("team"), offer("x", foreign)
    session.add_all([t1, t2, t3, alien])
    await session.flush()
    deal = DealRow(
        chat_id=pk,
        title="Tea",
        price=1000,
        group_price=800,
        currency="CNY",
        size=2,
        team_minutes=60,
        ends_at=T0 + 30 * D,
        offer_id=t3.id,
        created_at=T0,
    )
    session.add(deal)

    def coupon(t, code: str, user: int, issued, redeemed=None, discount=None) -> CouponRow:
        return CouponRow(
            template_id=t.id,
            chat_id=pk,
            code=code,
            user_id=user,
            slot=1,
            source="claim",
            status="used" if redeemed else "active",
            issued_at=issued,
            redeemed_at=redeemed,
            discount=discount,
        )

    session.add_all(
        [
            coupon(t1, "CAMPA1", U1, T0 + D, T0 + 2 * D, 3000),
            coupon(t1, "CAMPA2", U2, T0 + D),
            coupon(t2, "OTHER3", U3, T0 + D, T0 + 2 * D, 5000),  # not the campaign's offer
            coupon(t3, "DEAL4", U4, T0 + 3 * D, T0 + 3 * D, 2000),  # its deal's coupon
            coupon(t1, "CAMPA5", U5, T0 + 9 * D, T0 + 13 * D, 3000),  # redeemed after 12 days
        ]
    )

    def order(n: int, user: int, at: dt.datetime, amount: int, *codes: str) -> OrderRow:
        return OrderRow(
            chat_id=pk,
            external_id=f"o{n}",
            user_id=user,
            amount=amount,
            currency="CNY",
            at=at,
            coupon_codes={"codes": list(codes)},
            source="csv",
            created_at=at,
        )

    session.add_all(
        [
            order(1, U1, T0 + 2 * D, 20000, "CAMPA1"),  # its coupon
            order(2, U2, T0 + 3 * D, 10000),  # reached by her coupon two days before
            order(3, U3, T0 + 2 * D, 15000, "OTHER3"),  # reached by the broadcast the day before
            order(4, U4, T0 + 3 * D, 8000, "DEAL4"),  # the deal's coupon
            order(5, U6, T0 + 4 * D, 5000),  # only an unattached broadcast reached U6 before
            order(6, U2, T0 + 11 * D, 7000),  # ten days after her only reach
            order(7, U1, T0 - S, 9999, "CAMPA1"),  # a second before the campaign
            order(8, U6, T0 + 5 * D + H, 4000),  # an hour after the win-back message
            order(9, U5, T0 + 7 * D + 2 * H, 6000),  # the journey's message came after the end
            order(10, U4, T0 + 14 * D, 1000, "DEAL4"),  # on the stroke of the window's end
        ]
    )
    content = {"text": "<b>双11</b> 开抢\nsecond line"}
    b1, b2, b3 = (
        BroadcastRow(
            chat_id=pk, target="members", content=content, audience={}, status="done", created_at=T0
        )
        for _ in range(3)
    )
    runs = [
        JourneyRunRow(chat_id=pk, user_id=u, journey="winback", episode="e", status="queued", at=at)
        for u, at in ((U6, T0 + 5 * D), (U5, T0 + 7 * D + H))
    ]
    p1 = ScheduledPostRow(
        chat_id=pk,
        content={"text": "领券", "buttons": [{"text": "🎟", "coupon": t1.id}]},
        timezone="UTC",
        status="done",
        created_at=T0,
    )
    p2 = ScheduledPostRow(
        chat_id=pk, content={"text": "hello"}, timezone="UTC", status="done", created_at=T0
    )
    session.add_all([b1, b2, b3, *runs, p1, p2])
    await session.flush()

    def sent(target: int, at: dt.datetime, status: str = "sent", **ids: int) -> DeliveryRow:
        kind = {"broadcast_id": "broadcast", "journey_run_id": "journey"}.get(
            next(iter(ids)), "post"
        )
        return DeliveryRow(
            kind=kind,
            target_chat=target,
            due_at=at,
            status=status,
            sent_at=at if status == "sent" else None,
            **ids,
        )

    session.add_all(
        [
            sent(U3, T0 + D, broadcast_id=b1.id),
            sent(U1, T0 + D, broadcast_id=b1.id),
            sent(U2, T0 + D, "failed", broadcast_id=b1.id),
            sent(U6, T0 + D, broadcast_id=b2.id),
            sent(U2, T0 + 2 * D, broadcast_id=b3.id),
            sent(U6, T0 + 5 * D, journey_run_id=runs[0].id),
            sent(U5, T0 + 7 * D + H, journey_run_id=runs[1].id),
            sent(GROUP, T0 + D, post_id=p1.id),
        ]
    )

    def event(user: int, kind: str, at: dt.datetime) -> EventRow:
        return EventRow(chat_id=pk, user_id=user, kind=kind, at=at)

    session.add_all(
        [
            event(U1, "message", T0 + D + H),  # b1: U1 answers within the hour
            event(U3, "message", T0 + 4 * D + S),  # b1: U3 three days and a second later
            event(U2, "checkin", T0 + 2 * D + S),  # b3: U2 checks in a second after
            event(U6, "join", T0 + D + H),  # not activity
        ]
    )

    def points(delta: int, reason: str, at: dt.datetime, n: int) -> LedgerRow:
        return LedgerRow(
            chat_id=pk, user_id=10, delta=delta, reason=reason, idempotency_key=f"k{n}", at=at
        )

    session.add_all(
        [
            points(100, "referral_tier", T0 + 2 * D, 1),
            points(50, "referral_first_order", T0 + 3 * D, 2),
            points(-30, "referral_clawback", T0 + 4 * D, 3),
            points(10, "checkin", T0 + 2 * D, 4),
            points(100, "referral_tier", T0 + 8 * D, 5),
        ]
    )

    def invite(invitee: int, inviter: int, status: str, ok=None) -> InviteRow:
        return InviteRow(
            chat_id=pk,
            invitee_id=invitee,
            inviter_id=inviter,
            source="member_link",
            status=status,
            joined_at=T0,
            confirmed_at=ok,
        )

    session.add_all(
        [
            invite(20, 10, "confirmed", T0 + D),
            invite(21, 10, "confirmed", T0 + 6 * D),
            invite(22, 10, "pending"),
            invite(23, 11, "confirmed", T0 + 2 * D),
            invite(24, 11, "confirmed", T0 + 7 * D),
            invite(25, 11, "confirmed", T0 - S),
        ]
    )
    session.add_all(
        [
            DailyStatsRow(chat_id=pk, day=dt.date(2026, 11, 1), joins=5, gmv=9999, orders=1),
            DailyStatsRow(chat_id=pk, day=dt.date(2026, 11, 2), joins=2, gmv=0),
            DailyStatsRow(chat_id=pk, day=dt.date(2026, 11, 4), joins=1, gmv=35000, orders=2),
        ]
    )
    await session.flush()
    ids = {
        "offer": t1.id,
        "deal": deal.id,
        "b1": b1.id,
        "b2": b2.id,
        "b3": b3.id,
        "p1": p1.id,
        "p2": p2.id,
        "alien": alien.id,
    }
    return pk, ids


@pytest.fixture
async def scripted(uow_factory) -> tuple[int, dict[str, int]]:
    """The scripted group with 双11 (id in ids["campaign"]) and its objects attached."""
    async with uow_factory() as uow:
        pk, ids = await seed(uow.session)
        await uow.commit()
    made = await create_campaign(uow_factory(), chat_id=GROUP, campaign=DOUBLE11, by=11, at=T0)
    ids["campaign"] = made.id
    for kind, ref in [
        ("offer", ids["offer"]),
        ("deal", ids["deal"]),
        ("broadcast", ids["b1"]),
        ("broadcast", ids["b3"]),
        ("post", ids["p1"]),
        ("post", ids["p2"]),
        ("journey", "winback"),
    ]:
        await attach(
            uow_factory(),
            chat_id=GROUP,
            campaign_id=made.id,
            kind=AttachKind(kind),
            ref=str(ref),
            at=T0,
        )
    return pk, ids


async def everything(session, pk: int, ids: dict[str, int], now: dt.datetime) -> RetroFacts:
    """Every row of the group the rule might read, narrowed by nothing but the attachments."""
    C, OR, DL, E = CouponRow, OrderRow, DeliveryRow, EventRow
    offers = [ids["offer"], (await session.get(DealRow, ids["deal"])).offer_id]
    coupons = [
        CouponFact(c.code, c.user_id, c.issued_at, c.redeemed_at, c.discount or 0)
        for c in (await session.scalars(select(C).where(C.template_id.in_(offers)))).all()
    ]
    orders = [
        OrderFact(o.id, o.user_id, o.at, o.amount, tuple(o.coupon_codes["codes"]))
        for o in (await session.scalars(select(OR).where(OR.chat_id == pk))).all()
    ]
    deliveries = (await session.scalars(select(DL).where(DL.status == "sent"))).all()
    runs = {r.id: r for r in (await session.scalars(select(JourneyRunRow))).all()}
    broadcasts = (ids["b1"], ids["b3"])
    reaches = [
        Reach(d.target_chat, d.sent_at, ReachKind.BROADCAST)
        for d in deliveries
        if d.broadcast_id in broadcasts
    ]
    reaches += [
        Reach(d.target_chat, d.sent_at, ReachKind.JOURNEY)
        for d in deliveries
        if d.journey_run_id and runs[d.journey_run_id].journey == "winback"
    ]
    since, until = T0, T0 + 7 * D
    ledger = (await session.scalars(select(LedgerRow).where(LedgerRow.chat_id == pk))).all()
    invites = (await session.scalars(select(InviteRow).where(InviteRow.chat_id == pk))).all()
    active = [
        (e.user_id, e.at)
        for e in (await session.scalars(select(E))).all()
        if e.kind in ("message", "checkin")
    ]
    responses = []
    for b in broadcasts:
        mine = [d for d in deliveries if d.broadcast_id == b]
        answered = [
            d
            for d in mine
            if responded(d.sent_at, [at for u, at in active if u == d.target_chat], now)
        ]
        responses.append(Response(AttachKind.BROADCAST, b, "双11 开抢", len(mine), len(answered)))
    claims = [c for c in coupons if c.code.startswith("CAMPA") and since <= c.issued_at < until]
    post_runs = len([d for d in deliveries if d.post_id == ids["p1"]])
    responses += [
        Response(AttachKind.POST, ids["p1"], "领券", post_runs, len(claims)),
        Response(AttachKind.POST, ids["p2"], "hello", 0, None),
    ]
    today = local_day(now, "UTC")
    counted = [
        r
        for r in (await session.scalars(select(DailyStatsRow))).all()
        if DOUBLE11.start <= r.day <= min(today, DOUBLE11.end)
    ]
    from storage.repositories.stats import _totals

    return RetroFacts(
        days=[_totals(r) for r in counted],
        coupons=coupons,
        orders=orders,
        reaches=reaches,
        referral_points=sum(
            e.delta for e in ledger if e.reason.startswith("referral") and since <= e.at < until
        ),
        inviters=top_inviters(
            (i.inviter_id, f"U{i.inviter_id}")
            for i in invites
            if i.status == "confirmed" and since <= i.confirmed_at < until
        ),
        responses=ranked_responses(responses),
    )


@pytest.mark.parametrize("now", NOWS)
async def test_the_retro_from_sql_is_the_rule_over_every_row(uow_factory, scripted, now):
    pk, ids = scripted
    async with uow_factory() as uow:
        facts = await everything(uow.session, pk, ids, now)

    got = await report(uow_factory(), campaign_id=ids["campaign"], now=now, chat_id=GROUP)

    expected = retro(
        ids["campaign"],
        DOUBLE11,
        facts,
        timezone="UTC",
        now=now,
        today=local_day(now, "UTC"),
        title="Prefilters",
    )
    assert got == expected


async def test_the_retro_twelve_days_in_worked_out_by_hand(uow_factory, scripted):
    _pk, ids = scripted

    r = await report(uow_factory(), campaign_id=ids["campaign"], now=T0 + 12 * D)

    joins, gmv = r.lines
    assert (joins.kpi, joins.actual, joins.achieved_pct) == (Kpi.JOINS, 3, 30.0)
    assert (gmv.actual, gmv.achieved_pct, gmv.pace) == (35000, 35.0, None)  # ended: no pace
    assert r.discount == 3000 + 2000  # CAMPA5 is redeemed on day 13, OTHER3 is not its coupon
    assert r.points == 100 + 50 - 30  # referral rewards in its days; no check-in points
    assert r.cost == 5120
    assert r.gmv_coupons == 20000 + 8000  # o1, o4
    assert r.gmv_reached == 10000 + 15000 + 4000  # o2 (coupon), o3 (broadcast), o8 (journey)
    assert r.orders == 5 and r.attribution_open
    assert r.roi == pytest.approx((57000 - 5120) / 5120)
    assert r.budget_used_pct == pytest.approx(5.12)
    assert [(i.user_id, i.invites) for i in r.inviters] == [(10, 2), (11, 1)]
    assert [(x.kind, x.sent, x.responded) for x in r.responses] == [
        (AttachKind.BROADCAST, 2, 1),  # U1 answered, U3 a second too late, U2's failed
        (AttachKind.BROADCAST, 1, 1),
        (AttachKind.POST, 1, 2),  # CAMPA1, CAMPA2 claimed in its days
        (AttachKind.POST, 0, None),  # no coupon button: nothing to measure
    ]
    assert r.responses[0].label == "双11 开抢"


async def test_later_the_window_is_closed_and_the_late_redemption_costs(uow_factory, scripted):
    _pk, ids = scripted

    r = await report(uow_factory(), campaign_id=ids["campaign"], now=T0 + 40 * D)

    assert r.discount == 8000 and not r.attribution_open
    assert r.gmv_coupons == 28000  # o10 came exactly 7 days after the end: outside


async def test_while_running_the_pace_says_ahead_or_behind(uow_factory, scripted):
    _pk, ids = scripted

    r = await report(uow_factory(), campaign_id=ids["campaign"], now=T0 + 2 * D + H)

    joins, gmv = r.lines  # 3 of 7 days: 10 * 3/7 = 4.3 joins and ¥428.57 expected
    assert joins.actual == 3 and joins.pace.value == "behind"
    assert gmv.actual == 35000 and gmv.expected == pytest.approx(100_000 * 3 / 7)
    assert gmv.pace.value == "behind"


async def test_ids_of_another_group_are_refused_and_change_nothing(uow_factory, scripted):
    _pk, ids = scripted
    other = await create_campaign(uow_factory(), chat_id=OTHER, campaign=DOUBLE11, by=1, at=T0)

    with pytest.raises(CampaignRefused) as foreign_object:
        await attach(
            uow_factory(),
            chat_id=GROUP,
            campaign_id=ids["campaign"],
            kind=AttachKind.OFFER,
            ref=str(ids["alien"]),
            at=T0,
        )
    with pytest.raises(CampaignRefused) as foreign_campaign:
        await set_target(
            uow_factory(), chat_id=GROUP, campaign_id=other.id, kpi=Kpi.ORDERS, value=5
        )
    with pytest.raises(CampaignRefused) as foreign_report:
        await report(uow_factory(), campaign_id=other.id, now=T0, chat_id=GROUP)
    with pytest.raises(CampaignRefused) as twice:
        await attach(
            uow_factory(),
            chat_id=GROUP,
            campaign_id=ids["campaign"],
            kind=AttachKind.BROADCAST,
            ref=str(ids["b1"]),
            at=T0,
        )
    with pytest.raises(CampaignRefused) as taken:
        await create_campaign(uow_factory(), chat_id=GROUP, campaign=DOUBLE11, by=1, at=T0)
    theirs = await start_survey(uow_factory(), bot_id=1, update_id=990_001, chat_id=OTHER,
                                kind=SurveyKind.CSAT, question="Theirs?", by=1, at=T0)  # fmt: skip
    with pytest.raises(CampaignRefused) as foreign_survey:
        await attach(uow_factory(), chat_id=GROUP, campaign_id=ids["campaign"],
                     kind=AttachKind.SURVEY, ref=str(theirs.id), at=T0)  # fmt: skip

    assert foreign_object.value.reason is CampaignRefusal.NOT_FOUND
    assert foreign_survey.value.reason is CampaignRefusal.NOT_FOUND
    assert foreign_campaign.value.reason is CampaignRefusal.UNKNOWN
    assert foreign_report.value.reason is CampaignRefusal.UNKNOWN
    assert twice.value.reason is CampaignRefusal.ATTACHED
    assert taken.value.reason is CampaignRefusal.NAME_TAKEN
    untouched = await report(uow_factory(), campaign_id=other.id, now=T0)
    assert untouched.lines[0].kpi is Kpi.JOINS and len(untouched.lines) == 2


async def test_an_ended_campaign_is_finished_once_even_by_two_processes(uow_factory, scripted):
    early = await finish_due(uow_factory, now=T0 + 7 * D - S)  # its last second
    both = await asyncio.gather(
        finish_due(uow_factory, now=T0 + 7 * D), finish_due(uow_factory, now=T0 + 7 * D + H)
    )
    later = await finish_due(uow_factory, now=T0 + 9 * D)

    assert early == [] and later == []
    finished = [f for run in both for f in run]
    assert [(f.chat_id, f.retro.campaign.name) for f in finished] == [(GROUP, "双11")]


async def test_a_calendar_plan_with_a_campaign_makes_it_and_attaches_its_posts(uow_factory):
    async with uow_factory() as uow:
        await seed_chat(uow.session, GROUP)
        await uow.commit()
    at = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)

    def post(day: int) -> tuple[str, When, PostContent]:
        when = When(timezone="UTC", at=T0 + day * D + 9 * H)
        return ("预热" if day < 3 else "爆发", when, PostContent(text=f"day {day}"))

    posts = await import_plan(
        uow_factory(),
        chat_id=GROUP,
        campaign="双11 Double 11",
        posts=[post(0), post(2), post(9)],
        at=at,
    )
    again = await import_plan(
        uow_factory(),
        chat_id=GROUP,
        campaign="双11 Double 11",
        posts=[post(5)],
        at=at,
        replace=True,
    )

    async with uow_factory() as uow:
        pk = (await uow.chats.get(GROUP)).pk
        [made] = await uow.campaigns.of_group(pk)
        items = await uow.campaigns.attached(made.id)
    assert (made.campaign.start, made.campaign.end) == (dt.date(2026, 11, 2), dt.date(2026, 11, 11))
    assert [(p.name, p.start, p.end) for p in made.campaign.phases] == [
        ("预热", dt.date(2026, 11, 2), dt.date(2026, 11, 4)),
        ("爆发", dt.date(2026, 11, 11), dt.date(2026, 11, 11)),
    ]
    assert [i.ref for i in items] == [str(p.id) for p in [*posts, *again]]
