"""Referral invariants held by the database, on SQLite and PostgreSQL."""

import asyncio
import datetime as dt

from sqlalchemy import func, select

from campaigns.members import ChatInfo, Person
from campaigns.referral import InviteStatus, ReferralProgram, Source, parse_tiers
from campaigns.services import invite_links, referral
from campaigns.settings import ChatSettings
from storage.models import LedgerRow, ReferralRewardRow

GROUP = ChatInfo(chat_id=-1009876543211, type="supergroup", title="Race")
INVITER = 7_000_000_001
AT = dt.datetime(2026, 11, 16, 4, 0, tzinfo=dt.UTC)
PROGRAM = ReferralProgram(hold_hours=0, require_activity=False, tiers=parse_tiers("3:50,4:100,6:7"))
DEFAULTS = ChatSettings(timezone="Asia/Shanghai", referral=PROGRAM)


async def setup(uow_factory, confirmed: int, pending: int) -> list[int]:
    """An inviter with some confirmed invites and some pending ones; returns pending invitees."""
    invitees = []
    async with uow_factory() as uow:
        record = await uow.chats.register(GROUP, active=True, bot_status=None, defaults=DEFAULTS)
        await uow.users.upsert([Person(INVITER, "Ina")])
        await uow.members.create(record.pk, INVITER, status="member", present=True, at=AT)
        for i in range(confirmed + pending):
            uid = 8_000_000_000 + i
            await uow.users.upsert([Person(uid, f"Friend {i}")])
            await uow.members.create(record.pk, uid, status="member", present=True, at=AT)
            status = InviteStatus.CONFIRMED if i < confirmed else InviteStatus.PENDING
            await uow.invites.add(
                record.pk,
                uid,
                inviter_id=INVITER,
                link_id=None,
                source=Source.MEMBER_LINK,
                status=status,
                reason=None,
                was_member=False,
                at=AT,
            )
            if i >= confirmed:
                invitees.append(uid)
        await uow.commit()
    return invitees


async def confirm_one(uow_factory, invitee: int) -> list[referral.Notice]:
    async with uow_factory() as uow:
        record = await uow.chats.get(GROUP.chat_id)
        notices = await referral.activity_seen(uow, record, [invitee], AT + dt.timedelta(hours=1))
        await uow.commit()
    return notices


async def test_racing_confirmations_at_tier_boundaries_grant_each_tier_once(uow_factory):
    pending = await setup(uow_factory, confirmed=2, pending=4)

    results = await asyncio.gather(*(confirm_one(uow_factory, uid) for uid in pending))

    tiers = sorted(n.tier.invites for notices in results for n in notices if n.kind == "tier")
    async with uow_factory() as uow:
        granted = await uow.session.scalar(select(func.count()).select_from(ReferralRewardRow))
        points = await uow.session.scalar(
            select(func.sum(LedgerRow.delta)).where(LedgerRow.user_id == INVITER)
        )
        stats = await uow.members.stats((await uow.chats.get(GROUP.chat_id)).pk, INVITER)
    assert tiers == [3, 4, 6]
    assert granted == 3
    assert points == 157
    assert stats.points == 157


async def test_the_same_invite_confirmed_twice_at_once_counts_once(uow_factory):
    [invitee] = await setup(uow_factory, confirmed=0, pending=1)

    results = await asyncio.gather(*(confirm_one(uow_factory, invitee) for _ in range(4)))

    assert sum(n.kind == "confirmed" for notices in results for n in notices) == 1


async def test_racing_member_links_keep_one_live_link(uow_factory):
    async with uow_factory() as uow:
        record = await uow.chats.register(GROUP, active=True, bot_status=None, defaults=DEFAULTS)
        await uow.commit()

    stored = await asyncio.gather(
        *(
            invite_links.save_member_link(
                uow_factory(),
                chat_pk=record.pk,
                owner_id=INVITER,
                url=f"https://t.me/+race{i}",
                name=f"r{INVITER}",
                creates_join_request=False,
                at=AT,
            )
            for i in range(3)
        )
    )

    assert sum(fresh for _, fresh in stored) == 1
    assert len({link.url for link, _ in stored}) == 1


async def test_a_sweep_confirms_in_batches_across_groups(uow_factory):
    held = ReferralProgram(hold_hours=24, require_activity=False, tiers=())
    await setup(uow_factory, confirmed=0, pending=5)
    async with uow_factory() as uow:
        record = await uow.chats.get(GROUP.chat_id)
        await uow.chats.save_settings(record.pk, ChatSettings(referral=held))
        await uow.commit()

    early = await referral.sweep(uow_factory, now=AT + dt.timedelta(hours=23), batch=2)
    due = await referral.sweep(uow_factory, now=AT + dt.timedelta(hours=25), batch=2)
    again = await referral.sweep(uow_factory, now=AT + dt.timedelta(hours=26), batch=2)

    def confirmed(notices):
        return sum(len(n.invitees) for n in notices if n.kind == "confirmed")

    assert (confirmed(early), confirmed(due), confirmed(again)) == (0, 5, 0)
    assert len(due) == 3  # one notice per inviter per batch of 2
