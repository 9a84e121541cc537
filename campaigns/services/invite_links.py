"""Invite links: a member's personal link, deep-link visits and join requests.

Telegram calls (creating a link) happen between transactions, never inside one: the
handler asks for the member's card, creates a link if there is none, then stores it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace

from campaigns.access import AccessDenied, ButtonKind, Denied, Tap
from campaigns.members import ChatInfo, MemberStatus, Person
from campaigns.ports import UnitOfWork
from campaigns.ports.chats import ChatRecord
from campaigns.ports.referral import LinkRecord
from campaigns.referral import InviteCounts, ReferralProgram, Source, Tier, new_code, next_tier
from campaigns.services.access import require_button
from campaigns.services.chats import claim_update, ensure_chat, require_chat
from campaigns.services.referral import LinkSeen, attribution
from campaigns.settings import ChatSettings

DEEP_LINK_TTL = dt.timedelta(days=1)


@dataclass(frozen=True)
class InviteCard:
    """What /invite shows: the member's link (if made yet), deep-link code and progress."""

    chat_pk: int
    chat_id: int
    chat_title: str | None
    language: str
    link: LinkRecord | None
    code: str
    counts: InviteCounts
    next_tier: Tier | None
    program: ReferralProgram


async def invite_card(
    uow: UnitOfWork,
    *,
    bot_id: int,
    update_id: int,
    chat_id: int,
    chat: ChatInfo | None,
    person: Person,
    at: dt.datetime,
    defaults: ChatSettings,
) -> InviteCard:
    """The member's personal link and referral code in one group (the code is made once)."""
    async with uow:
        await claim_update(uow, bot_id, update_id, at)
        record = await (ensure_chat(uow, chat, defaults) if chat else require_chat(uow, chat_id))
        await uow.users.upsert([person])
        if await uow.members.get(record.pk, person.user_id) is None:
            await uow.members.create(
                record.pk,
                person.user_id,
                status=MemberStatus.MEMBER,
                present=True,
                at=at,
                joined=False,
            )
        code = await referral_code(uow, record.pk, person.user_id)
        link = await uow.links.live(record.pk, person.user_id)
        counts = InviteCounts.of(await uow.invites.counts(record.pk, person.user_id))
        await uow.commit()
    program = record.settings.referral
    return InviteCard(
        chat_pk=record.pk,
        chat_id=record.chat_id,
        chat_title=record.title,
        language=record.settings.language,
        link=link,
        code=code,
        counts=counts,
        next_tier=next_tier(counts.confirmed, program),
        program=program,
    )


async def save_member_link(
    uow: UnitOfWork,
    *,
    chat_pk: int,
    owner_id: int,
    url: str,
    name: str,
    creates_join_request: bool,
    at: dt.datetime,
) -> tuple[LinkRecord, bool]:
    """Store a freshly created link; (winner, False) if a concurrent /invite stored one first."""
    async with uow:
        stored = await uow.links.add(
            chat_pk,
            owner_id,
            url=url,
            name=name,
            kind="member",
            at=at,
            creates_join_request=creates_join_request,
        )
        if stored is None:
            winner = await uow.links.live(chat_pk, owner_id)
            assert winner is not None
            await uow.commit()
            return winner, False
        await uow.commit()
    return stored, True


async def revoke_member_link(
    uow: UnitOfWork, *, chat_id: int, owner_id: int, at: dt.datetime
) -> LinkRecord | None:
    """An admin retires a member's link; the next /invite makes a new one."""
    async with uow:
        record = await require_chat(uow, chat_id)
        link = await uow.links.live(record.pk, owner_id)
        if link is not None:
            await uow.links.revoke(link.id, at)
        await uow.commit()
    return link


async def groups_of(uow: UnitOfWork, user_id: int) -> list[ChatRecord]:
    """Active groups the user is in, for commands sent in a private chat."""
    async with uow:
        return await uow.chats.of_member(user_id)


async def referral_code(uow: UnitOfWork, chat_pk: int, user_id: int) -> str:
    """The member's referral code in the group, made once (a clash with another's is retried).
    The membership row must exist."""
    code = await uow.members.ref_code(chat_pk, user_id)
    while code is None:
        if await uow.members.assign_ref_code(chat_pk, user_id, new_code()):
            code = await uow.members.ref_code(chat_pk, user_id)
    return code


async def chosen_group(uow: UnitOfWork, *, user_id: int, chat_id: int, tap: Tap) -> ChatRecord:
    """A group picked on the private chooser: the chooser the bot sent this user, and a
    group they are in."""
    async with uow:
        await require_button(uow, ButtonKind.CHOOSER, user_id, tap)
        groups = await uow.chats.of_member(user_id)
    chosen = next((g for g in groups if g.chat_id == chat_id), None)
    if chosen is None:
        raise AccessDenied(Denied.NOT_MEMBER)
    return chosen


@dataclass(frozen=True)
class Visit:
    """A deep-link visitor: what to tell them, and the link to hand them if any."""

    outcome: str  # "join", "own", "member", "unknown"
    chat_pk: int = 0
    chat_id: int = 0
    chat_title: str | None = None
    inviter_id: int = 0
    inviter_name: str = ""
    link: LinkRecord | None = None


async def visit(
    uow: UnitOfWork, *, bot_id: int, update_id: int, code: str, visitor: Person, at: dt.datetime
) -> Visit:
    """Someone opened `?start=ref_<code>`: note who sent them (first touch wins)."""
    async with uow:
        await claim_update(uow, bot_id, update_id, at)
        owner = await uow.members.by_ref_code(code)
        record = await uow.chats.by_pk(owner[0]) if owner else None
        if owner is None or record is None or not record.active:
            await uow.commit()
            return Visit("unknown")
        chat_pk, inviter = owner
        await uow.users.upsert([visitor])
        await uow.users.set_reachable(visitor.user_id, True)
        names = await uow.users.contacts([inviter])
        base = Visit(
            "join",
            chat_pk=chat_pk,
            chat_id=record.chat_id,
            chat_title=record.title,
            inviter_id=inviter,
            inviter_name=names[inviter].display_name if inviter in names else str(inviter),
        )
        if inviter == visitor.user_id:
            await uow.commit()
            return replace(base, outcome="own")
        membership = await uow.members.get(chat_pk, visitor.user_id)
        if membership is not None and membership.present:
            await uow.commit()
            return replace(base, outcome="member")
        await uow.claims.add(
            chat_pk,
            visitor.user_id,
            inviter_id=inviter,
            link_id=None,
            source=Source.DEEP_LINK,
            at=at,
        )
        link = await uow.links.for_visitor(chat_pk, inviter, visitor.user_id, at)
        await uow.commit()
    return replace(base, link=link)


async def save_visitor_link(
    uow: UnitOfWork, *, visit: Visit, visitor_id: int, url: str, name: str, at: dt.datetime
) -> LinkRecord:
    """Store the one-use link made for a deep-link visitor (credited to the inviter)."""
    async with uow:
        stored = await uow.links.add(
            visit.chat_pk,
            visit.inviter_id,
            url=url,
            name=name,
            kind="deeplink",
            at=at,
            for_user_id=visitor_id,
            expires_at=at + DEEP_LINK_TTL,
        )
        await uow.commit()
    assert stored is not None
    return stored


async def join_requested(
    uow: UnitOfWork,
    *,
    bot_id: int,
    update_id: int,
    chat: ChatInfo,
    person: Person,
    link: LinkSeen | None,
    at: dt.datetime,
    defaults: ChatSettings,
) -> str | None:
    """A join request through a member's link is claimed for them and approved by the bot.

    Returns the inviter's name to approve, or None to leave the request to the admins.
    """
    async with uow:
        await claim_update(uow, bot_id, update_id, at, scope="referral")
        record = await ensure_chat(uow, chat, defaults)
        if link is None:
            await uow.commit()
            return None
        source, inviter, link_id = await attribution(uow, record, person.user_id, link, at)
        if inviter is None or source is not Source.MEMBER_LINK:
            await uow.commit()
            return None
        await uow.users.upsert([person])
        await uow.claims.add(
            record.pk,
            person.user_id,
            inviter_id=inviter,
            link_id=link_id,
            source=Source.JOIN_REQUEST,
            at=at,
        )
        names = await uow.users.contacts([inviter])
        await uow.commit()
    return names[inviter].display_name if inviter in names else str(inviter)


async def mark_reachable(
    uow: UnitOfWork, user_id: int, reachable: bool, person: Person | None = None
) -> None:
    """A private chat opened (True, with the person) or a 403 came back (False)."""
    async with uow:
        if person is not None:
            await uow.users.upsert([person])
        await uow.users.set_reachable(user_id, reachable)
        await uow.commit()
