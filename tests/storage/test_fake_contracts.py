"""The fakes of tests/services keep storage's contracts: the same calls give the same answers.

Each unique constraint and conditional UPDATE the use cases rely on is exercised on the
database (SQLite and PostgreSQL) and on the fakes; ids are left out (sequences differ).
"""

import datetime as dt

import pytest

from campaigns.access import ButtonKind
from campaigns.content import PostContent
from campaigns.coupons import CouponKind, Template
from campaigns.groupbuys import Deal, TeamStatus
from campaigns.members import ChatInfo, Person
from campaigns.outbox import DeliveryStatus
from campaigns.referral import InviteStatus, Source
from campaigns.schedule import PostStatus, When
from campaigns.settings import ChatSettings
from campaigns.tags import TagSource
from tests.services.fakes import FakeDatabase

GROUP = ChatInfo(chat_id=-1009876543299, type="supergroup", title="Contracts")
AT = dt.datetime(2026, 11, 16, 4, 0, tzinfo=dt.UTC)
MINUTE = dt.timedelta(minutes=1)


async def chats_updates_users_members(uow, pk: int) -> list[object]:
    again = await uow.chats.register(
        ChatInfo(GROUP.chat_id, "supergroup"),
        active=False,
        bot_status=None,
        defaults=ChatSettings(timezone="Europe/Berlin"),
    )
    out = [again.pk == pk, again.title, again.active, again.settings == ChatSettings()]
    u = uow.updates
    out += [await u.claim(1, 10, AT), await u.claim(1, 10, AT), await u.claim(2, 10, AT)]
    out += [await u.claim(1, 10, AT, "activity"), await u.claim_many(1, [10, 11, 11], AT)]
    await uow.users.upsert([Person(1, "Anna")])  # the language seen before is kept
    out.append(await uow.users.contacts([1, 2, 3]))
    m = uow.members
    out += [await m.create(pk, 1, status="left", present=False, at=AT)]
    out += [await m.create(pk, 2, status="member", present=True, at=AT, joined=False)]
    out += [await m.get(pk, 1), await m.get(pk, 2), await m.get(pk, 3), await m.is_present(pk, 3)]
    out += [
        await m.lock(pk, [1, 2, 3]),
        await m.add_points(pk, 1, 5),
        await m.add_points(pk, 1, -2),
    ]
    await m.update_presence(pk, 2, status="left", present=False, at=AT + MINUTE)
    await m.count_messages(pk, {2: (3, AT, AT + 2 * MINUTE)})  # spoke after leaving: back
    await m.set_title(pk, 1, "Ambassador")
    out += [await m.get(pk, 2), await m.stats(pk, 1), await m.stats(pk, 2)]
    out += [await uow.ledger.add(pk, 1, delta=5, reason="x", key="k", at=AT)]
    out += [await uow.ledger.add(pk, 1, delta=9, reason="y", key="k", at=AT)]
    return out


async def referral(uow, pk: int) -> list[object]:
    r = uow.rewards
    out = [await r.grant(pk, 1, 3, AT), await r.grant(pk, 1, 3, AT), await r.grant(pk, 1, 5, AT)]
    out += [
        await r.revoke(pk, 1, 3, AT),
        await r.revoke(pk, 1, 3, AT),
        await r.revoke(pk, 1, 9, AT),
    ]
    out += [await r.grant(pk, 1, 3, AT), await r.granted(pk, 1), await r.granted_to(pk, [1, 2])]
    links = uow.links
    out += [await links.add(pk, 1, url="https://t.me/+a", name="r1", kind="member", at=AT) is None]
    out += [await links.add(pk, 1, url="https://t.me/+b", name="r1", kind="member", at=AT)]
    out += [await links.add(pk, 2, url="https://t.me/+a", name="r2", kind="member", at=AT)]
    found = await links.by_url("https://t.me/+a")
    out += [(found.owner_id, found.kind), await links.by_url("https://t.me/+none")]
    claims = uow.claims
    out += [await claims.add(pk, 2, inviter_id=1, link_id=None, source=Source.DEEP_LINK, at=AT)]
    out += [await claims.add(pk, 2, inviter_id=3, link_id=None, source=Source.DEEP_LINK, at=AT)]
    out += [await claims.get(pk, 2), await claims.get(pk, 3)]

    i = uow.invites
    await uow.members.create(pk, 2, status="member", present=True, at=AT)
    await uow.members.count_messages(pk, {2: (1, AT + MINUTE, AT + MINUTE)})
    credited = {"inviter_id": 1, "source": Source.MEMBER_LINK, "status": InviteStatus.PENDING}
    rest = {"link_id": None, "reason": None, "was_member": False}
    first = await i.add(pk, 2, at=AT, **credited, **rest)
    twin = await i.add(pk, 2, at=AT, **credited, **rest)
    organic = await i.add(pk, 2, inviter_id=None, source=Source.ORGANIC,
                          status=InviteStatus.ORGANIC, at=AT + MINUTE, **rest)  # fmt: skip
    out += [first is None, twin, (await i.latest(pk, 2)).status]
    candidates = await i.pending_of(pk, [2, 3])
    out += [[(c.inviter_id, c.invitee_id, c.present, c.last_active_at) for c in candidates]]
    out += [len(await i.due(pk, cutoff=AT, require_activity=True, after_id=0, limit=9))]
    out += [len(await i.due(pk, cutoff=AT - MINUTE, require_activity=False, after_id=0, limit=9))]
    out += [await i.chats_with_pending(AT) == [pk], await i.recent_credited(pk, 1, AT)]
    out += [await i.attribute(first, inviter_id=1, link_id=None, source=Source.MEMBER_LINK,
                              status=InviteStatus.PENDING, reason=None)]  # fmt: skip
    out += [await i.attribute(organic, inviter_id=1, link_id=None, source=Source.DEEP_LINK,
                              status=InviteStatus.REJECTED, reason=None)]  # fmt: skip
    moves = {"from_status": InviteStatus.PENDING, "to_status": InviteStatus.CONFIRMED, "at": AT}
    out += [len(await i.move([first, first], **moves)), len(await i.move([first], **moves))]
    out += [await i.counts(pk, 1), await i.counts_of(pk, [1, 2])]
    return out


async def coupons_and_orders(uow, pk: int) -> list[object]:
    c = uow.coupons
    offer_id = await c.add_template(
        pk, name="5 off", template=Template(CouponKind.FIXED, 500), stock=1, per_member=1, at=AT
    )
    offer = await c.template(offer_id)
    issue = {"source": "claim", "at": AT, "expires_at": None}
    out = [await c.take_stock(offer_id), await c.take_stock(offer_id)]
    out += [await c.issue(offer, 1, code="AAAA1111", slot=1, **issue)]
    out += [await c.issue(offer, 1, code="BBBB2222", slot=1, **issue)]
    out += [await c.issue(offer, 2, code="AAAA1111", slot=1, **issue)]
    out += [await c.held(offer_id, 1), await c.held(offer_id, 2)]
    coupon = await c.by_code("AAAA1111")
    out += [(coupon.user_id, coupon.status, coupon.offer.issued), await c.by_code("ZZZZ9999")]
    redeem = {"by": 7, "order_amount": 3000, "discount": 500, "at": AT}
    out += [await c.redeem(coupon.id, **redeem), await c.redeem(coupon.id, **redeem)]
    out += [await c.end(offer_id), await c.end(offer_id), await c.take_stock(offer_id)]
    coupon = await c.by_code("AAAA1111")
    out += [(coupon.status, coupon.redeemed_at, coupon.discount, coupon.offer.active)]
    order = {"user_id": 1, "amount": 100, "currency": "CNY", "at": AT, "coupon_codes": [],
             "items": [], "source": "api"}  # fmt: skip
    out += [await uow.orders.add(pk, external_id="A1", **order) is None]
    out += [await uow.orders.add(pk, external_id="A1", **order), await uow.orders.count_of(pk, 1)]
    return out


async def offer_tests(uow, pk: int) -> list[object]:
    c = uow.coupons
    a, b = Template(CouponKind.FIXED, 500), Template(CouponKind.PERCENT, 1500, min_spend=100)
    offer_id = await c.add_template(
        pk, name="A/B", template=a, stock=None, per_member=2, at=AT, variants=[a, b],
        holdout=10, planned=50,
    )  # fmt: skip
    offer = await c.template(offer_id)
    issue = {"at": AT, "expires_at": None}
    out: list[object] = [(offer.variants, offer.holdout, offer.planned, offer.is_test)]
    out += [await c.issue(offer, 1, code="AAAA1111", slot=1, source="claim", arm="B", **issue)]
    out += [await c.issue(offer, 2, code="BBBB2222", slot=1, source="audience", arm="A", **issue)]
    coupon = await c.by_code("AAAA1111")
    out += [(coupon.offer.arm, coupon.offer.template, coupon.offer.variants)]
    out += [await c.hold_out(offer, 3, AT), await c.hold_out(offer, 3, AT)]
    await c.redeem(coupon.id, by=7, order_amount=300, discount=45, at=AT)
    issues, held = await c.test_members(offer_id)
    out += [sorted(issues, key=lambda i: i.user_id), held]
    return out


async def groupbuys(uow, pk: int) -> list[object]:
    g = uow.groupbuys
    offer_id = await uow.coupons.add_template(
        pk, name="payout", template=Template(CouponKind.FIXED, 1010), stock=None, per_member=9,
        at=AT,
    )  # fmt: skip
    deal = Deal("Tea", 3000, 1990, size=2, team_minutes=60, ends_at=AT + 60 * MINUTE, stock=3)
    deal_id = await g.add_deal(pk, deal, description=None, offer_id=offer_id, at=AT)
    team = {"size": 2, "at": AT, "expires_at": AT + 30 * MINUTE}
    t1 = await g.add_team(deal_id, 1, share_token="t1", **team)
    t2 = await g.add_team(deal_id, 2, share_token="t2", **team)
    out = [await g.add_member(t1, deal_id, 1, AT), await g.add_member(t1, deal_id, 1, AT)]
    out += [await g.add_member(t2, deal_id, 1, AT), await g.add_member(t1, deal_id, 2, AT)]
    out += [await g.grow(t1, AT), await g.grow(t1, AT), await g.grow(t1, AT)]
    out += [await g.grow(t2, AT + 30 * MINUTE), await g.fullest_open_team(deal_id, AT) == t2]
    out += [await g.take_unit(deal_id) for _ in range(4)]
    await g.release_units(deal_id, 2)
    out += [(await g.deal(deal_id)).taken, await g.members_of(t1)]
    out += [await g.close(t1, TeamStatus.COMPLETE, AT), await g.close(t1, TeamStatus.EXPIRED, AT)]
    out += [await g.add_member(t2, deal_id, 1, AT), await g.grow(t2, AT)]  # free for another
    out += [await g.shrink(t2, 1), await g.shrink(t2, 1), await g.shrink(t1, 2)]
    out += [(await g.team(t1)).status, (await g.team(t1)).members]
    out += [[t.id == t2 for t in await g.due(AT + 30 * MINUTE, 9)]]
    return out


async def calendar_outbox_buttons(uow, pk: int) -> list[object]:
    cal, ob = uow.calendar, uow.outbox
    post_id = await cal.add_post(
        pk, PostContent(text="Hi"), When("UTC", at=AT), status=PostStatus.ACTIVE, next_run_at=AT,
        created_by=None, at=AT,
    )  # fmt: skip
    out = [len(await cal.due(AT - MINUTE, 9)), len(await cal.due(AT, 9))]
    out += [await cal.advance(post_id, old=AT - MINUTE, new=None)]
    out += [
        await cal.advance(post_id, old=AT, new=None),
        await cal.advance(post_id, old=AT, new=None),
    ]
    run = {"status": DeliveryStatus.PENDING, "error": None}
    out += [await ob.add_run(post_id, GROUP.chat_id, AT, **run)]
    out += [await ob.add_run(post_id, GROUP.chat_id, AT, **run)]
    await cal.set_last_message(post_id, 55)
    post = await cal.post(post_id)
    out += [(post.status, post.next_run_at, post.last_message_id, post.last_outcome)]
    [row] = await ob.claim("w1", AT, 9)
    out += [(row.kind, row.target_chat, row.content, row.attempts, row.group_pk == pk)]
    out += [await ob.claim("w2", AT, 9), await ob.holders()]
    out += [await ob.start(row.id, "w2", AT), await ob.start(row.id, "w1", AT)]
    out += [await ob.start(row.id, "w1", AT), await ob.recover(AT, MINUTE, worker="w1")]
    out += [await ob.holders(), await ob.release("w1")]
    b = uow.buttons
    await b.remember(ButtonKind.COUPON, 8, -1, 5, AT)
    await b.remember(ButtonKind.COUPON, 8, -1, 5, AT)  # remembered once, no error
    out += [
        await b.sent_for(ButtonKind.COUPON, 8, -1, 5),
        await b.sent_for(ButtonKind.DEAL, 8, -1, 5),
    ]
    return out


async def tags(uow, pk: int) -> list[object]:
    t = uow.tags
    out = [await t.add(pk, 1, ["vip", "bought:tea", "vip"], source=TagSource.RULE, by=None,
                       at=AT)]  # fmt: skip
    out += [await t.add(pk, 1, ["vip", "茶友"], source=TagSource.ADMIN, by=9, at=AT)]
    out += [await t.add(pk, 2, [], source=TagSource.ADMIN, by=9, at=AT)]
    out += [await t.remove(pk, 1, "bought:tea"), await t.remove(pk, 1, "bought:tea")]
    out += [await t.of(pk, 1), await t.of(pk, 2), await t.of(pk + 1, 1)]
    return out


SCENARIOS = [chats_updates_users_members, referral, coupons_and_orders, offer_tests, groupbuys,
             calendar_outbox_buttons, tags]  # fmt: skip


async def answers(uow_factory, scenario) -> list[object]:
    """A group with two known people, then the scenario's calls, committed."""
    async with uow_factory() as uow:
        chat = await uow.chats.register(
            GROUP, active=True, bot_status=None, defaults=ChatSettings()
        )
        await uow.users.upsert([Person(1, "Ann", language_code="zh"), Person(2, "Bo")])
        await uow.members.create(chat.pk, 1, status="member", present=True, at=AT)
        out = await scenario(uow, chat.pk)
        await uow.commit()
    return out


@pytest.mark.parametrize("scenario", SCENARIOS, ids=lambda s: s.__name__)
async def test_the_fakes_answer_as_the_database_does(uow_factory, scenario):
    on_the_database = await answers(uow_factory, scenario)
    on_the_fakes = await answers(FakeDatabase().uow, scenario)

    assert on_the_fakes == on_the_database
