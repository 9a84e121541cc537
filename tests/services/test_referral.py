"""Referral confirmation against the fakes: who is credited, when, and that they are paid once."""

import datetime as dt
import itertools

import pytest

from campaigns.errors import DuplicateUpdate
from campaigns.members import ChatInfo, MemberStatus, Person
from campaigns.orders import OrderIn
from campaigns.ports.members import MessageSeen
from campaigns.referral import InviteStatus, ReferralProgram, RejectReason, Source, parse_tiers
from campaigns.services import members, orders, referral
from campaigns.services.referral import LinkSeen
from campaigns.settings import ChatSettings
from campaigns.tiers import DEFAULT_LADDER, TierLadder, parse_ladder
from tests.services.fakes import FakeDatabase

GROUP = ChatInfo(chat_id=-1001, type="supergroup", title="Tea club")
INA = Person(1, "Ina")  # the inviter
LINK = LinkSeen("https://t.me/+ina", "r1 Ina", by_bot=True)
AT = dt.datetime(2026, 11, 16, 2, 0, tzinfo=dt.UTC)
HOUR = dt.timedelta(hours=1)
_updates = itertools.count(1)


def program(**kw) -> ReferralProgram:
    base = {"hold_hours": 24, "require_activity": True, "tiers": parse_tiers("1:50,3:200")}
    return ReferralProgram(**(base | kw))


async def a_group(ladder: TierLadder = DEFAULT_LADDER, **kw) -> FakeDatabase:
    """A group whose member Ina has a personal invite link (`ladder`: its membership tiers)."""
    db = FakeDatabase()
    settings = ChatSettings(referral=program(**kw), tiers=ladder)
    async with db.uow() as uow:
        record = await uow.chats.register(GROUP, active=True, bot_status=None, defaults=settings)
        await uow.users.upsert([INA])
        await uow.members.create(record.pk, INA.user_id, status="member", present=True, at=AT)
        await uow.links.add(
            record.pk, INA.user_id, url=LINK.url, name="r1 Ina", kind="member", at=AT
        )
        await uow.commit()
    return db


def settings(db: FakeDatabase) -> ChatSettings:
    return next(iter(db.t.chats.values())).settings


async def joins(db: FakeDatabase, *people: Person, at=AT, link=LINK, update_id=None):
    return await members.membership_changed(
        db.uow(),
        bot_id=9,
        update_id=update_id or next(_updates),
        chat=GROUP,
        people=people,
        status=MemberStatus.MEMBER,
        present=True,
        at=at,
        source="chat_member",
        defaults=settings(db),
        link=link,
    )


async def leaves(db: FakeDatabase, person: Person, at):
    return await members.membership_changed(
        db.uow(),
        bot_id=9,
        update_id=next(_updates),
        chat=GROUP,
        people=[person],
        status=MemberStatus.LEFT,
        present=False,
        at=at,
        source="chat_member",
        defaults=settings(db),
    )


async def speaks(db: FakeDatabase, person: Person, at):
    seen = MessageSeen(next(_updates), GROUP, person, at, "text")
    return await members.record_messages(
        db.uow(), bot_id=9, messages=[seen], at=at, defaults=settings(db)
    )


def friend(n: int) -> Person:
    return Person(100 + n, f"Friend {n}")


def points(db: FakeDatabase, person: Person = INA) -> int:
    return next(m.points for (_chat, uid), m in db.t.members.items() if uid == person.user_id)


def statuses(db: FakeDatabase) -> list[InviteStatus]:
    return [row.record.status for _id, row in sorted(db.t.invites.items())]


async def test_a_friend_who_joins_through_a_members_link_is_pending_until_the_hold_passes():
    db = await a_group()

    presence = await joins(db, friend(1))
    early = await speaks(db, friend(1), AT + HOUR)

    assert presence.notices == [] and early.notices == []
    assert statuses(db) == [InviteStatus.PENDING]
    assert points(db) == 0


async def test_a_friend_who_speaks_after_the_hold_confirms_the_invite_and_pays_the_inviter():
    db = await a_group()
    await joins(db, friend(1))

    activity = await speaks(db, friend(1), AT + 25 * HOUR)

    kinds = [(n.kind, n.inviter.user_id, n.confirmed) for n in activity.notices]
    assert kinds == [("confirmed", 1, 1), ("tier", 1, 1)]
    assert activity.notices[0].invitees == ("Friend 1",)
    assert statuses(db) == [InviteStatus.CONFIRMED]
    assert points(db) == 50


async def test_a_confirmed_invite_pays_the_inviter_once_however_often_the_friend_speaks():
    db = await a_group()
    await joins(db, friend(1))
    await speaks(db, friend(1), AT + 25 * HOUR)

    again = await speaks(db, friend(1), AT + 26 * HOUR)
    swept = await referral.sweep(db.uow, now=AT + 48 * HOUR)

    assert again.notices == [] and swept == []
    assert points(db) == 50
    assert len(db.t.ledger) == 1


async def test_a_friend_who_spoke_during_the_hold_is_confirmed_by_the_sweep_after_it():
    db = await a_group()
    await joins(db, friend(1))
    await speaks(db, friend(1), AT + HOUR)

    before = await referral.sweep(db.uow, now=AT + 23 * HOUR)
    after = await referral.sweep(db.uow, now=AT + 24 * HOUR)
    again = await referral.sweep(db.uow, now=AT + 25 * HOUR)

    assert before == []
    assert [n.kind for n in after] == ["confirmed", "tier"]
    assert again == []
    assert points(db) == 50


async def test_a_friend_who_never_speaks_is_not_confirmed_while_activity_is_required():
    db = await a_group()
    await joins(db, friend(1))

    swept = await referral.sweep(db.uow, now=AT + 48 * HOUR)

    assert swept == []
    assert statuses(db) == [InviteStatus.PENDING]


async def test_without_the_activity_rule_staying_through_the_hold_is_enough():
    db = await a_group(require_activity=False)
    await joins(db, friend(1))

    swept = await referral.sweep(db.uow, now=AT + 24 * HOUR)

    assert [n.kind for n in swept] == ["confirmed", "tier"]
    assert points(db) == 50


async def test_a_friend_who_leaves_during_the_hold_is_never_confirmed():
    db = await a_group(require_activity=False)
    await joins(db, friend(1))
    await leaves(db, friend(1), AT + HOUR)

    swept = await referral.sweep(db.uow, now=AT + 48 * HOUR)

    assert swept == []
    assert statuses(db) == [InviteStatus.LEFT]
    assert points(db) == 0


async def test_a_redelivered_join_is_refused_and_credits_nothing_twice():
    db = await a_group()
    await joins(db, friend(1), update_id=500)
    redelivered = db.uow()

    with pytest.raises(DuplicateUpdate):
        await members.membership_changed(
            redelivered, bot_id=9, update_id=500, chat=GROUP, people=[friend(1)],
            status=MemberStatus.MEMBER, present=True, at=AT, source="chat_member",
            defaults=settings(db), link=LINK,
        )  # fmt: skip

    assert not redelivered.committed
    assert statuses(db) == [InviteStatus.PENDING]


async def test_a_higher_tier_is_granted_once_when_enough_invites_are_confirmed_at_once():
    db = await a_group(require_activity=False)
    await joins(db, friend(1), friend(2), friend(3))

    swept = await referral.sweep(db.uow, now=AT + 24 * HOUR)
    again = await referral.sweep(db.uow, now=AT + 25 * HOUR)

    confirmed = [n for n in swept if n.kind == "confirmed"]
    assert [n.invitees for n in confirmed] == [("Friend 1", "Friend 2", "Friend 3")]
    assert [n.tier.invites for n in swept if n.kind == "tier"] == [1, 3]
    assert again == []
    assert points(db) == 250


async def test_someone_who_was_in_the_group_before_earns_their_inviter_nothing():
    db = await a_group(require_activity=False)
    await joins(db, friend(1), link=None)
    await leaves(db, friend(1), AT + HOUR)

    await joins(db, friend(1), at=AT + 2 * HOUR)
    swept = await referral.sweep(db.uow, now=AT + 48 * HOUR)

    latest = max(db.t.invites.values(), key=lambda row: row.record.id).record
    assert (latest.status, latest.reason) == (InviteStatus.REJECTED, RejectReason.REJOIN)
    assert swept == []


async def test_joins_through_one_link_beyond_the_burst_limit_are_rejected():
    db = await a_group(burst=2)

    await joins(db, friend(1), friend(2), friend(3), at=AT)

    assert statuses(db) == [InviteStatus.PENDING, InviteStatus.PENDING, InviteStatus.REJECTED]


async def test_leaving_within_the_clawback_window_takes_the_tier_points_back_once():
    db = await a_group(require_activity=False, clawback_days=7)
    await joins(db, friend(1))
    await referral.sweep(db.uow, now=AT + 24 * HOUR)

    await leaves(db, friend(1), AT + 48 * HOUR)
    await joins(db, friend(1), at=AT + 49 * HOUR, link=None)
    await leaves(db, friend(1), AT + 50 * HOUR)

    assert points(db) == 0
    reasons = sorted(reason for _chat, _uid, _delta, reason, _at in db.t.ledger.values())
    assert reasons == ["referral_clawback", "referral_tier"]


async def test_a_tier_with_a_title_gives_the_inviter_the_title():
    db = await a_group(require_activity=False, tiers=parse_tiers("1:0:Ambassador"))
    await joins(db, friend(1))

    await referral.sweep(db.uow, now=AT + 24 * HOUR)

    assert next(m.title for (_chat, uid), m in db.t.members.items() if uid == 1) == "Ambassador"


async def test_an_invite_link_reported_just_after_the_join_still_credits_the_inviter():
    db = await a_group()
    await joins(db, friend(1), link=None)  # the service message came first: organic

    await joins(db, friend(1), at=AT + dt.timedelta(seconds=30))  # then the link

    [invite] = [row.record for row in db.t.invites.values()]
    assert (invite.status, invite.inviter_id) == (InviteStatus.PENDING, INA.user_id)


async def test_a_visitor_who_opened_the_inviters_deep_link_is_credited_for_a_week():
    db = await a_group()
    async with db.uow() as uow:
        pk = (await uow.chats.get(GROUP.chat_id)).pk
        for n, opened in ((1, AT - 6 * 24 * HOUR), (2, AT - 8 * 24 * HOUR)):
            await uow.claims.add(
                pk, friend(n).user_id, inviter_id=INA.user_id, link_id=None,
                source=Source.DEEP_LINK, at=opened,
            )  # fmt: skip
        await uow.commit()

    await joins(db, friend(1), friend(2), link=None)

    found = [(r.record.invitee_id, r.record.status) for _id, r in sorted(db.t.invites.items())]
    assert found == [(101, InviteStatus.PENDING), (102, InviteStatus.ORGANIC)]


async def test_a_credited_friends_first_order_earns_the_inviter_the_reward_once():
    db = await a_group(first_order=30)
    await joins(db, friend(1))
    order = {"member": friend(1).user_id, "amount": "20", "at": AT + HOUR}

    for external_id in ("A1", "A1", "A2"):
        await orders.record_order(
            db.uow(), OrderIn(external_id=external_id, **order), chat_id=GROUP.chat_id,
            source="api", received_at=AT + HOUR,
        )  # fmt: skip

    assert points(db) == 30


async def test_a_referral_reward_that_reaches_a_membership_tier_promotes_the_inviter_once():
    db = await a_group(ladder=parse_ladder("普通 | 银 points=50 reward=5"))
    await joins(db, friend(1))

    activity = await speaks(db, friend(1), AT + 25 * HOUR)
    again = await referral.sweep(db.uow, now=AT + 48 * HOUR)

    promotion = activity.notices[-1].promotion
    assert promotion is not None and (promotion.old, promotion.new) == (0, 1)
    assert promotion.reward_points == 5
    assert [n.promotion for n in activity.notices[:-1]] == [None]
    assert again == []
    assert points(db) == 55
    assert db.t.tier_rewards.keys() == {(1, INA.user_id, 1)}
