"""Invite links: a member's personal link, deep-link visits and join requests.

Telegram calls (creating or revoking a link, through the LinkIssuer port) happen between
transactions, never inside one: the member's card is read, a link is made if there is none,
then it is stored.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Protocol

from campaigns.access import AccessDenied, ButtonKind, Denied, Tap
from campaigns.errors import DomainError, UnknownChat
from campaigns.members import ChatInfo, MemberStatus, Person
from campaigns.ports import UnitOfWork
from campaigns.ports.chats import ChatRecord
from campaigns.ports.referral import LinkRecord
from campaigns.referral import (
    InviteCounts,
    ReferralProgram,
    Source,
    Tier,
    link_name,
    new_code,
    next_tier,
)
from campaigns.services.access import require_button
from campaigns.services.chats import claim_update, ensure_chat, require_chat
from campaigns.services.referral import LinkSeen, attribution
from campaigns.services.referral_reports import InviteSummary, my_invites
from campaigns.settings import ChatSettings

DEEP_LINK_TTL = dt.timedelta(days=1)


class LinkIssuer(Protocol):
    """Telegram's invite links, as the use cases make and retire them."""

    async def create(
        self,
        chat_id: int,
        *,
        name: str,
        join_request: bool | None = None,
        member_limit: int | None = None,
        expires: dt.datetime | None = None,
    ) -> tuple[str, str] | None:
        """The new link's URL and name; None when Telegram would not make one."""
        ...

    async def revoke(self, chat_id: int, url: str) -> None:
        """Retire a link, best effort (a link Telegram keeps is merely left live)."""
        ...


@dataclass
class LinkRefused(DomainError):
    """Telegram made no invite link in the group (for /invite: the bot lacks the right)."""

    chat_id: int
    title: str | None


@dataclass
class NotInAnyGroup(DomainError):
    """A private /invite or /invites found no group of the member's to act on: they are in
    none the bot manages, or not in the one picked."""


@dataclass(frozen=True)
class Picked:
    """A group picked on the private chooser: honoured on the chooser the bot sent only."""

    chat_id: int
    tap: Tap


@dataclass(frozen=True)
class Choice:
    """In a private chat, the member is in several groups: they pick one."""

    groups: list[ChatRecord]


# Where a member's /invite or /invites acts: the group it was sent in, a group picked on the
# chooser, or (None) a private chat where nothing is picked yet.
Where = ChatInfo | Picked | None


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
    uow: UnitOfWork, links: LinkIssuer, *, chat_id: int, owner_id: int, at: dt.datetime
) -> LinkRecord | None:
    """An admin retires a member's link, here and at Telegram; the next /invite makes a new
    one. None: the member has no live link (or the group never registered)."""
    async with uow:
        record = await uow.chats.get(chat_id)
        link = await uow.links.live(record.pk, owner_id) if record is not None else None
        if link is not None:
            await uow.links.revoke(link.id, at)
        await uow.commit()
    if link is not None:
        await links.revoke(chat_id, link.url)
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
    if chosen is None:  # a forged or stale pick: not a group of theirs (any more)
        raise AccessDenied(Denied.NOT_MEMBER)
    return chosen


async def member_group(uow: UnitOfWork, *, user_id: int, where: Where) -> int | Choice:
    """The group (Telegram id) a member's /invite or /invites acts on: the group it was sent
    in; in private the group picked on the chooser, else their only group, else a Choice."""
    if isinstance(where, ChatInfo):
        return where.chat_id
    if isinstance(where, Picked):
        await chosen_group(uow, user_id=user_id, chat_id=where.chat_id, tap=where.tap)
        return where.chat_id
    groups = await groups_of(uow, user_id)
    if not groups:
        raise NotInAnyGroup
    return groups[0].chat_id if len(groups) == 1 else Choice(groups)


async def personal_link(
    uow: Callable[[], UnitOfWork],
    links: LinkIssuer,
    *,
    where: Where,
    person: Person,
    update: tuple[int, int],
    at: dt.datetime,
    defaults: ChatSettings,
) -> InviteCard | Choice:
    """/invite: the member's card with their personal link, made at Telegram the first time
    and reused after; or, in private with several groups, the groups to pick from.

    Raises NotInAnyGroup, LinkRefused (Telegram would not make the link) or AccessDenied
    (a pick on a message that is not the member's chooser)."""
    group = await member_group(uow(), user_id=person.user_id, where=where)
    if isinstance(group, Choice):
        return group
    try:
        card = await invite_card(
            uow(), bot_id=update[0], update_id=update[1], chat_id=group,
            chat=where if isinstance(where, ChatInfo) else None, person=person, at=at,
            defaults=defaults,
        )  # fmt: skip
    except UnknownChat:
        raise NotInAnyGroup from None
    if card.link is not None:
        return card
    approval = card.program.approval
    made = await links.create(
        card.chat_id, name=link_name(person.user_id, person.display_name), join_request=approval
    )
    if made is None:
        raise LinkRefused(card.chat_id, card.chat_title)
    link, fresh = await save_member_link(
        uow(), chat_pk=card.chat_pk, owner_id=person.user_id, url=made[0], name=made[1],
        creates_join_request=approval, at=at,
    )  # fmt: skip
    if not fresh:  # a concurrent /invite stored its link first: retire ours
        await links.revoke(card.chat_id, made[0])
    return replace(card, link=link)


async def invite_numbers(
    uow: Callable[[], UnitOfWork],
    *,
    where: Where,
    user_id: int,
    update: tuple[int, int],
    at: dt.datetime,
) -> InviteSummary | Choice:
    """/invites: the member's invite numbers in the group, or the groups to pick from.

    Raises NotInAnyGroup, UnknownChat (a group that never registered) or AccessDenied."""
    group = await member_group(uow(), user_id=user_id, where=where)
    if isinstance(group, Choice):
        return group
    return await my_invites(
        uow(), bot_id=update[0], update_id=update[1], chat_id=group, user_id=user_id, at=at
    )


class VisitOutcome(StrEnum):
    """What a deep-link visit comes to."""

    JOIN = "join"  # a one-use join link, credited to the friend
    OWN = "own"  # the member opened their own link
    MEMBER = "member"  # already in the group
    UNKNOWN = "unknown"  # no such code, or its group is gone


@dataclass(frozen=True)
class Visit:
    """A deep-link visitor: what to tell them, and the link to hand them if any."""

    outcome: VisitOutcome
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
            return Visit(VisitOutcome.UNKNOWN)
        chat_pk, inviter = owner
        await uow.users.upsert([visitor])
        await uow.users.set_reachable(visitor.user_id, True)
        names = await uow.users.contacts([inviter])
        base = Visit(
            VisitOutcome.JOIN,
            chat_pk=chat_pk,
            chat_id=record.chat_id,
            chat_title=record.title,
            inviter_id=inviter,
            inviter_name=names[inviter].display_name if inviter in names else str(inviter),
        )
        if inviter == visitor.user_id:
            await uow.commit()
            return replace(base, outcome=VisitOutcome.OWN)
        membership = await uow.members.get(chat_pk, visitor.user_id)
        if membership is not None and membership.present:
            await uow.commit()
            return replace(base, outcome=VisitOutcome.MEMBER)
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


async def welcome_visitor(
    uow: Callable[[], UnitOfWork],
    links: LinkIssuer,
    *,
    update: tuple[int, int],
    code: str,
    visitor: Person,
    at: dt.datetime,
) -> Visit:
    """`?start=ref_<code>`: note who sent the visitor and, unless they need none, hand them
    a one-use join link credited to their friend (valid for a day; a second visit within
    it gets the same link).

    Raises LinkRefused when Telegram would not make the link."""
    seen = await visit(
        uow(), bot_id=update[0], update_id=update[1], code=code, visitor=visitor, at=at
    )
    if seen.outcome is not VisitOutcome.JOIN or seen.link is not None:
        return seen
    made = await links.create(
        seen.chat_id, name=link_name(seen.inviter_id, f"for {visitor.user_id}"),
        member_limit=1, expires=at + DEEP_LINK_TTL,
    )  # fmt: skip
    if made is None:
        raise LinkRefused(seen.chat_id, seen.chat_title)
    stored = await save_visitor_link(
        uow(), visit=seen, visitor_id=visitor.user_id, url=made[0], name=made[1], at=at
    )
    return replace(seen, link=stored)


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
