"""Referral use cases: crediting joins, confirming invites and granting tiers, exactly once."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace

from campaigns.channels import CHANNEL
from campaigns.members import ChatInfo, MemberStatus, Person
from campaigns.ports import UnitOfWork
from campaigns.ports.chats import ChatRecord
from campaigns.ports.members import Contact
from campaigns.ports.referral import Candidate
from campaigns.referral import (
    BURST_WINDOW,
    InviteCounts,
    InviteStatus,
    JoinFacts,
    RejectReason,
    Reward,
    Source,
    Tier,
    confirmable,
    judge_join,
    next_tier,
    owner_from_name,
    rejected_by_captcha,
    status_after_leave,
    tiers_due,
    tiers_lost,
)
from campaigns.services.chats import claim_update, ensure_chat
from campaigns.services.points import PointsReason, award_points
from campaigns.services.tiers import TierChange, promote
from campaigns.settings import ChatSettings

CLAIM_TTL = dt.timedelta(days=7)
LATE_LINK_WINDOW = dt.timedelta(minutes=2)
SWEEP_BATCH = 1000


@dataclass(frozen=True)
class LinkSeen:
    """The invite link a join (or join request) came through, as Telegram reports it."""

    url: str
    name: str | None = None
    by_bot: bool = False  # created by this bot, so its name can be trusted


@dataclass(frozen=True)
class Notice:
    """Something an inviter (and maybe the group) should hear about."""

    kind: str  # "confirmed" or "tier"
    chat_id: int
    chat_title: str | None
    group_language: str
    announce: bool
    inviter: Contact
    invitees: tuple[str, ...]  # whose invites were just confirmed (one notice per batch)
    confirmed: int
    tier: Tier | None
    next_tier: Tier | None
    promotion: TierChange | None = None  # the rewards' points made the inviter reach a tier


# -- pluggable rewards -------------------------------------------------------------------------

RewardIssuer = Callable[[UnitOfWork, int, int, Reward, str, dt.datetime], Awaitable[None]]


async def _issue_points(
    uow: UnitOfWork, chat_pk: int, user_id: int, reward: Reward, key: str, at: dt.datetime
) -> None:
    await award_points(
        uow, chat_pk, user_id, delta=reward.amount, reason=PointsReason.REFERRAL_TIER, key=key,
        at=at,
    )  # fmt: skip


async def _issue_title(
    uow: UnitOfWork, chat_pk: int, user_id: int, reward: Reward, key: str, at: dt.datetime
) -> None:
    if reward.title:
        await uow.members.set_title(chat_pk, user_id, reward.title)


ISSUERS: dict[str, RewardIssuer] = {"points": _issue_points, "title": _issue_title}


def register_reward(kind: str, issuer: RewardIssuer) -> None:
    """Let another module hand out tier rewards of its own kind (coupons: bot.wiring.install)."""
    ISSUERS[kind] = issuer


def _issuer(kind: str) -> RewardIssuer:
    if kind not in ISSUERS:
        raise RuntimeError(f"no {kind!r} reward issuer: call bot.wiring.install() at start")
    return ISSUERS[kind]


# -- crediting joins ---------------------------------------------------------------------------


async def attribution(
    uow: UnitOfWork, record: ChatRecord, invitee_id: int, link: LinkSeen | None, at: dt.datetime
) -> tuple[Source, int | None, int | None]:
    """(source, inviter, link id): the link first, then a deep-link visit or join request."""
    if link is not None:
        stored = await uow.links.by_url(link.url)
        if stored is not None and stored.chat_pk == record.pk and stored.kind == CHANNEL:
            return Source.OTHER_LINK, None, stored.id  # a channel's: credited to nobody
        if stored is not None and stored.chat_pk == record.pk:
            kind = Source.MEMBER_LINK if stored.kind == "member" else Source.DEEP_LINK
            return kind, stored.owner_id, stored.id
        owner = owner_from_name(link.name) if link.by_bot else None
        if owner is not None:
            return Source.MEMBER_LINK, owner, None
    claim = await uow.claims.get(record.pk, invitee_id)
    if claim is not None and at - claim.at <= CLAIM_TTL:
        return claim.source, claim.inviter_id, claim.link_id
    return (Source.OTHER_LINK if link is not None else Source.ORGANIC), None, None


async def _judge(
    uow: UnitOfWork,
    record: ChatRecord,
    invitee_id: int,
    inviter_id: int | None,
    *,
    was_member: bool,
    at: dt.datetime,
    is_bot: bool = False,
    already_present: bool = False,
) -> tuple[InviteStatus, RejectReason | None]:
    recent = (
        await uow.invites.recent_credited(record.pk, inviter_id, at - BURST_WINDOW)
        if inviter_id is not None and record.settings.referral.burst
        else 0
    )
    facts = JoinFacts(
        invitee_id=invitee_id,
        inviter_id=inviter_id,
        is_bot=is_bot,
        already_present=already_present,
        former_member=was_member,
        recent_joins_via_link=recent,
    )
    return judge_join(facts, record.settings.referral)


async def joined(
    uow: UnitOfWork,
    record: ChatRecord,
    invitee_id: int,
    *,
    was_member: bool,
    link: LinkSeen | None,
    at: dt.datetime,
) -> list[Notice]:
    """A person really joined (presence flipped): record who gets credit and judge it."""
    source, inviter, link_id = await attribution(uow, record, invitee_id, link, at)
    status, reason = await _judge(uow, record, invitee_id, inviter, was_member=was_member, at=at)
    invite_id = await uow.invites.add(
        record.pk,
        invitee_id,
        inviter_id=inviter,
        link_id=link_id,
        source=source,
        status=status,
        reason=reason,
        was_member=was_member,
        at=at,
    )
    if invite_id is None or inviter is None or status is not InviteStatus.PENDING:
        return []
    return await _confirm(
        uow, record, [Candidate(invite_id, inviter, invitee_id, at, True, None)], at
    )


async def link_for_present(
    uow: UnitOfWork, record: ChatRecord, invitee_id: int, *, link: LinkSeen, at: dt.datetime
) -> list[Notice]:
    """A join signal with a link for someone already present.

    Usually the service message won the race and recorded an organic join a moment
    ago: credit it now. Otherwise the person was already in the group.
    """
    source, inviter, link_id = await attribution(uow, record, invitee_id, link, at)
    if inviter is None and link_id is None:
        return []
    latest = await uow.invites.latest(record.pk, invitee_id)
    if latest is not None and abs(at - latest.joined_at) <= LATE_LINK_WINDOW:
        if latest.status is not InviteStatus.ORGANIC:
            return []
        if inviter is None:  # a channel's link, late: the join remembers it, credits nobody
            await uow.invites.attribute(
                latest.id, inviter_id=None, link_id=link_id, source=source,
                status=InviteStatus.ORGANIC, reason=None,
            )  # fmt: skip
            return []
        status, reason = await _judge(
            uow, record, invitee_id, inviter, was_member=latest.was_member, at=at
        )
        await uow.invites.attribute(
            latest.id,
            inviter_id=inviter,
            link_id=link_id,
            source=source,
            status=status,
            reason=reason,
        )
        if status is not InviteStatus.PENDING:
            return []
        candidate = Candidate(latest.id, inviter, invitee_id, latest.joined_at, True, None)
        return await _confirm(uow, record, [candidate], at)
    if inviter is None:
        return []  # already in the group: a channel's link brought nobody
    status, reason = await _judge(
        uow, record, invitee_id, inviter, was_member=True, at=at, already_present=True
    )
    await uow.invites.add(
        record.pk,
        invitee_id,
        inviter_id=inviter,
        link_id=link_id,
        source=source,
        status=status,
        reason=reason,
        was_member=True,
        at=at,
    )
    return []


async def departed(uow: UnitOfWork, record: ChatRecord, invitee_id: int, at: dt.datetime) -> None:
    """The invitee left: a pending invite is `left`; a confirmed one only within clawback."""
    latest = await uow.invites.latest(record.pk, invitee_id)
    if latest is None or latest.inviter_id is None:
        return
    program = record.settings.referral
    new = status_after_leave(
        latest.status, confirmed_at=latest.confirmed_at, left_at=at, program=program
    )
    if new is None:
        return
    moved = await uow.invites.move([latest.id], from_status=latest.status, to_status=new, at=at)
    if moved and latest.status is InviteStatus.CONFIRMED:
        await _claw_back(uow, record, latest.inviter_id, at)


async def captcha_decided(
    uow: UnitOfWork, record: ChatRecord, invitee_id: int, *, passed: bool, at: dt.datetime
) -> list[Notice]:
    """The invitee's captcha is decided: passed, their invite may be confirmed now (if the
    hold is over); failed or timed out, a pending invite is rejected for quality."""
    if passed:
        return await activity_seen(uow, record, [invitee_id], at)
    latest = await uow.invites.latest(record.pk, invitee_id)
    if latest is None or latest.inviter_id is None:
        return []
    verdict = rejected_by_captcha(latest.status)
    if verdict is not None:
        await uow.invites.move(
            [latest.id], from_status=latest.status, to_status=verdict[0], at=at, reason=verdict[1]
        )
    return []


async def _claw_back(uow: UnitOfWork, record: ChatRecord, inviter: int, at: dt.datetime) -> None:
    """Reverse the points of tiers the inviter no longer reaches (titles are kept)."""
    await uow.members.get(record.pk, inviter)  # lock: tier changes for one inviter run in turn
    counts = InviteCounts.of(await uow.invites.counts(record.pk, inviter))
    granted = await uow.rewards.granted(record.pk, inviter)
    for tier in tiers_lost(counts.confirmed, record.settings.referral, granted):
        if not await uow.rewards.revoke(record.pk, inviter, tier.invites, at):
            continue
        key = f"referral:{record.pk}:{inviter}:tier:{tier.invites}:clawback"
        await award_points(
            uow, record.pk, inviter, delta=-tier.points, reason=PointsReason.REFERRAL_CLAWBACK,
            key=key, at=at,
        )  # fmt: skip


async def bot_joined(
    uow: UnitOfWork,
    *,
    bot_id: int,
    update_id: int,
    chat: ChatInfo,
    bot_user: Person,
    link: LinkSeen,
    at: dt.datetime,
    defaults: ChatSettings,
) -> bool:
    """A bot came in through someone's link: recorded as a rejected invite, never credited."""
    async with uow:
        await claim_update(uow, bot_id, update_id, at, scope="referral")
        record = await ensure_chat(uow, chat, defaults)
        source, inviter, link_id = await attribution(uow, record, bot_user.user_id, link, at)
        if inviter is None:
            await uow.commit()
            return False
        await uow.users.upsert([bot_user])  # so the inviter can read who it was
        await uow.invites.add(
            record.pk,
            bot_user.user_id,
            inviter_id=inviter,
            link_id=link_id,
            source=source,
            status=InviteStatus.REJECTED,
            reason=RejectReason.BOT,
            was_member=False,
            at=at,
        )
        await uow.commit()
    return True


# -- confirmation and tiers --------------------------------------------------------------------


async def _confirm(
    uow: UnitOfWork, record: ChatRecord, candidates: Sequence[Candidate], now: dt.datetime
) -> list[Notice]:
    """Confirm what is confirmable, then grant tiers; each step is a conditional write.
    Nothing is confirmed while the group is in raid mode: rewards wait for the raid to end
    (the sweep confirms them then)."""
    program = record.settings.referral
    if await uow.raids.is_on(record.pk):
        return []
    held = await uow.captchas.pending_among(record.pk, [c.invitee_id for c in candidates])
    ready = [
        c
        for c in candidates
        if confirmable(
            joined_at=c.joined_at,
            present=c.present,
            last_active_at=c.last_active_at,
            now=now,
            program=program,
            captcha_pending=c.invitee_id in held,
        )
    ]
    moved = await uow.invites.move(
        [c.invite_id for c in ready],
        from_status=InviteStatus.PENDING,
        to_status=InviteStatus.CONFIRMED,
        at=now,
    )
    won: dict[int, list[Candidate]] = {}
    for c in ready:
        if c.invite_id in moved:
            won.setdefault(c.inviter_id, []).append(c)
    if not won:
        return []
    inviters = sorted(won)
    # Lock the inviters' memberships so racing confirmations count and grant in turn.
    for missing in set(inviters) - await uow.members.lock(record.pk, inviters):
        await uow.members.create(
            record.pk, missing, status=MemberStatus.MEMBER, present=True, at=now, joined=False
        )
        await uow.members.lock(record.pk, [missing])
    counts = await uow.invites.counts_of(record.pk, inviters)
    granted = await uow.rewards.granted_to(record.pk, inviters)
    contacts = await uow.users.contacts(
        [*inviters, *(c.invitee_id for confirmed in won.values() for c in confirmed)]
    )
    notices: list[Notice] = []
    for inviter in inviters:
        confirmed = InviteCounts.of(counts.get(inviter, {})).confirmed
        contact = contacts.get(inviter) or Contact(inviter, str(inviter), None, False)
        names = tuple(
            contacts[c.invitee_id].display_name if c.invitee_id in contacts else str(c.invitee_id)
            for c in won[inviter]
        )
        notices.append(_notice(record, "confirmed", contact, names, confirmed, None))
        for tier in tiers_due(confirmed, program, granted.get(inviter, set())):
            if not await uow.rewards.grant(record.pk, inviter, tier.invites, now):
                continue
            for reward in tier.rewards:
                key = f"referral:{record.pk}:{inviter}:tier:{tier.invites}:{reward.kind}"
                await _issuer(reward.kind)(uow, record.pk, inviter, reward, key, now)
            notices.append(_notice(record, "tier", contact, (), confirmed, tier))
        promotion = await promote(uow, record, inviter, now)
        if promotion is not None:  # told with the inviter's last notice of this batch
            notices[-1] = replace(notices[-1], promotion=promotion)
    return notices


def _notice(
    record: ChatRecord,
    kind: str,
    inviter: Contact,
    invitees: tuple[str, ...],
    confirmed: int,
    tier: Tier | None,
) -> Notice:
    program = record.settings.referral
    return Notice(
        kind=kind,
        chat_id=record.chat_id,
        chat_title=record.title,
        group_language=record.settings.language,
        announce=program.announce and kind == "tier",
        inviter=inviter,
        invitees=invitees,
        confirmed=confirmed,
        tier=tier,
        next_tier=next_tier(confirmed, program),
    )


async def activity_seen(
    uow: UnitOfWork, record: ChatRecord, user_ids: Sequence[int], now: dt.datetime
) -> list[Notice]:
    """Invitees spoke or checked in: confirm their invites if the hold has passed."""
    candidates = await uow.invites.pending_of(record.pk, user_ids)
    return await _confirm(uow, record, candidates, now) if candidates else []


async def sweep(
    uow: Callable[[], UnitOfWork], *, now: dt.datetime, batch: int = SWEEP_BATCH
) -> list[Notice]:
    """The scheduled pass: confirm every invite whose hold ended, one transaction per batch."""
    async with uow() as first:
        chat_pks = await first.invites.chats_with_pending(now)
    notices: list[Notice] = []
    for pk in chat_pks:
        after = 0
        while True:
            async with uow() as work:
                record = await work.chats.by_pk(pk)
                if record is None or not record.active:
                    break
                program = record.settings.referral
                candidates = await work.invites.due(
                    pk,
                    cutoff=now - program.hold,
                    require_activity=program.require_activity,
                    after_id=after,
                    limit=batch,
                )
                if not candidates:
                    break
                notices += await _confirm(work, record, candidates, now)
                await work.commit()
            after = candidates[-1].invite_id
    return notices
