"""Group-buy use cases: deals, starting, joining and leaving teams, completion and expiry.

Completion hands every member a single-use coupon worth the saving (price − group price)
through the coupon engine, in the transaction that takes the last slot.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum

from campaigns.access import ButtonKind, Gate, Tap
from campaigns.coupons import CouponKind, OfferPurpose, Template
from campaigns.groupbuys import Deal, GroupBuyRefused, Refusal, TeamStatus, status_after_join
from campaigns.members import MemberStatus, Person
from campaigns.ports import UnitOfWork
from campaigns.ports.groupbuys import DealRecord, TeamRecord
from campaigns.ports.members import Contact
from campaigns.services.access import require_button, require_member
from campaigns.services.chats import claim_update, require_chat
from campaigns.services.coupons import CouponUnavailable, Issued, issue_coupon
from campaigns.services.invite_links import referral_code
from campaigns.services.segments import tapped

COUPON_DAYS = 7
SHARE_TOKEN_BYTES = 12  # 16 URL-safe characters in a share link
EXPIRE_BATCH = 200


@dataclass(frozen=True)
class TeamView:
    """A team as members see it, and what just happened to it."""

    deal: DealRecord
    team: TeamRecord
    members: list[Contact]
    chat_id: int
    coupons: dict[int, Issued] = field(default_factory=dict)  # on completion


async def create_deal(
    uow: UnitOfWork,
    *,
    chat_id: int,
    deal: Deal,
    description: str | None,
    at: dt.datetime,
    update: tuple[int, int] | None = None,
    photo: tuple[str, bytes] | None = None,
) -> DealRecord:
    """Store the deal and the coupon its completed teams will receive.

    `update` is (bot id, update id) when an admin creates it in chat, so a redelivery
    does not create it twice.
    """
    deal.check_open(at)
    async with uow:
        if update is not None:
            await claim_update(uow, update[0], update[1], at)
        record = await require_chat(uow, chat_id)
        offer_id = await uow.coupons.add_template(
            record.pk,
            name=f"🛒 {deal.title}"[:64],
            template=Template(
                CouponKind.FIXED,
                value=deal.saving,
                currency=deal.currency,
                min_spend=deal.price,
                valid_days=COUPON_DAYS,
            ),
            stock=None,
            per_member=1000,
            at=at,
            purpose=OfferPurpose.GROUPBUY,
        )
        deal_id = await uow.groupbuys.add_deal(
            record.pk, deal, description=description, offer_id=offer_id, at=at, photo=photo
        )
        stored = await uow.groupbuys.deal(deal_id)
        await uow.commit()
    assert stored is not None
    return stored


async def deal_of(
    uow: UnitOfWork,
    *,
    chat_id: int,
    deal_id: int,
    at: dt.datetime | None = None,
    update: tuple[int, int] | None = None,
) -> DealRecord:
    """A deal of this group (for posting it); `update` as for offer_of."""
    async with uow:
        record = await require_chat(uow, chat_id)
        deal = await uow.groupbuys.deal(deal_id)
        if deal is None or deal.chat_pk != record.pk:
            raise GroupBuyRefused(Refusal.UNKNOWN, deal_id)
        if update is not None:
            await claim_update(uow, update[0], update[1], at or dt.datetime.now(dt.UTC))
            await uow.commit()
    return deal


async def _view(
    uow: UnitOfWork, team_id: int, coupons: dict[int, Issued] | None = None
) -> TeamView:
    team = await uow.groupbuys.team(team_id)
    assert team is not None
    deal = await uow.groupbuys.deal(team.deal_id)
    assert deal is not None
    chat = await uow.chats.by_pk(deal.chat_pk)
    assert chat is not None
    ids = await uow.groupbuys.members_of(team_id)
    contacts = await uow.users.contacts(ids)
    members = [contacts.get(uid) or Contact(uid, str(uid), None, False) for uid in ids]
    return TeamView(deal, team, members, chat.chat_id, coupons or {})


@dataclass(frozen=True)
class DealLine:
    """One line of /groupbuy list."""

    deal: DealRecord
    teams: dict[TeamStatus, int]
    live: bool


async def group_deals(uow: UnitOfWork, *, chat_id: int, at: dt.datetime) -> list[DealLine]:
    """The group's deals for /groupbuy list, newest first."""
    async with uow:
        record = await require_chat(uow, chat_id)
        deals = await uow.groupbuys.deals_of(record.pk)
        lines = [
            DealLine(d, await uow.groupbuys.team_counts(d.id), at < d.deal.ends_at) for d in deals
        ]
    return lines


async def end_deal(uow: UnitOfWork, *, chat_id: int, deal_id: int, at: dt.datetime) -> DealRecord:
    """An admin ends a deal now: no new teams or joins; its post is marked ended by the
    sweep, its payout offer ends with it, open teams can no longer fill up."""
    async with uow:
        record = await require_chat(uow, chat_id)
        deal = await uow.groupbuys.deal(deal_id)
        if deal is None or deal.chat_pk != record.pk:
            raise GroupBuyRefused(Refusal.UNKNOWN, deal_id)
        if not await uow.groupbuys.end_deal(deal_id, at):
            raise GroupBuyRefused(Refusal.ENDED)
        await uow.coupons.end(deal.offer_id)
        ended = await uow.groupbuys.deal(deal_id)
        await uow.commit()
    assert ended is not None
    return ended


async def _tapped_deal(
    uow: UnitOfWork,
    gate: Gate,
    deal_id: int,
    person: Person,
    tap: Tap,
    kind: ButtonKind,
    object_id: int,
) -> DealRecord:
    """The deal behind a tapped button, once the button is known to be on the message sent
    for that object and the tapper a present member of the deal's group."""
    deal = await uow.groupbuys.deal(deal_id)
    if deal is None:
        raise GroupBuyRefused(Refusal.UNKNOWN)
    await require_button(uow, kind, object_id, tap)
    chat = await uow.chats.by_pk(deal.chat_pk)
    if chat is None:
        raise GroupBuyRefused(Refusal.UNKNOWN)
    await require_member(uow, gate, chat, person.user_id)
    return deal


async def start_team(
    uow: UnitOfWork,
    *,
    gate: Gate,
    bot_id: int,
    update_id: int,
    deal_id: int,
    person: Person,
    tap: Tap,
    at: dt.datetime,
) -> TeamView:
    """Open a team with the member as its leader and first member."""
    async with uow:
        deal = await _tapped_deal(uow, gate, deal_id, person, tap, ButtonKind.DEAL, deal_id)
        await claim_update(uow, bot_id, update_id, at)
        deal.deal.check_open(at)
        if await uow.members.is_present(deal.chat_pk, person.user_id) is None:
            # Present by Telegram's word but never seen: the leader's share link needs a row.
            await uow.users.upsert([person])
            await uow.members.create(
                deal.chat_pk,
                person.user_id,
                status=MemberStatus.MEMBER,
                present=True,
                at=at,
                joined=False,
            )
        await _active(uow, deal, person.user_id, at)
        team_id = await uow.groupbuys.add_team(
            deal_id,
            person.user_id,
            size=deal.deal.size,
            at=at,
            expires_at=deal.deal.team_ends_at(at),
            share_token=secrets.token_urlsafe(SHARE_TOKEN_BYTES),
        )
        view = await _join(uow, deal, team_id, person, at)
        await uow.commit()
    return view


async def join_team(
    uow: UnitOfWork,
    *,
    gate: Gate,
    bot_id: int,
    update_id: int,
    team_id: int,
    person: Person,
    tap: Tap,
    at: dt.datetime,
) -> TeamView:
    """Take a slot in an open team; the last slot completes it and issues the coupons."""
    async with uow:
        team = await uow.groupbuys.team(team_id)
        if team is None:
            raise GroupBuyRefused(Refusal.UNKNOWN)
        deal = await _tapped_deal(uow, gate, team.deal_id, person, tap, ButtonKind.TEAM, team_id)
        await claim_update(uow, bot_id, update_id, at)
        deal.deal.check_open(at)
        view = await _join(uow, deal, team_id, person, at)
        await uow.commit()
    return view


async def join_any(
    uow: UnitOfWork,
    *,
    gate: Gate,
    bot_id: int,
    update_id: int,
    deal_id: int,
    person: Person,
    tap: Tap,
    at: dt.datetime,
) -> TeamView:
    """➕ on the deal post: join the open team closest to completing."""
    async with uow:
        deal = await _tapped_deal(uow, gate, deal_id, person, tap, ButtonKind.DEAL, deal_id)
        await claim_update(uow, bot_id, update_id, at)
        deal.deal.check_open(at)
        team_id = await uow.groupbuys.fullest_open_team(deal_id, at)
        if team_id is None:
            raise GroupBuyRefused(Refusal.NO_OPEN_TEAM)
        view = await _join(uow, deal, team_id, person, at)
        await uow.commit()
    return view


class TeamAction(StrEnum):
    """What a member's tap on a deal post or a team card does."""

    START = "start"  # 🚀 on the deal post: a new team, the tapper its leader
    JOIN_ANY = "join_any"  # ➕ on the deal post: the open team closest to completing
    JOIN = "join"  # ➕ on a team card
    LEAVE = "leave"  # Leave on a team card


async def press(
    uow: UnitOfWork,
    *,
    gate: Gate,
    action: TeamAction,
    target: int,
    person: Person,
    tap: Tap,
    bot_id: int,
    update_id: int,
    at: dt.datetime,
) -> TeamView:
    """A member's tap on a group-buy button: `target` is the deal for the deal post's 🚀 and ➕,
    the team for a card's ➕ and Leave. The button must be on the message the bot sent for its
    object; to start or join, the tapper must be a present member of the deal's group."""
    if action is TeamAction.LEAVE:
        return await leave_team(
            uow, bot_id=bot_id, update_id=update_id, team_id=target, user_id=person.user_id,
            tap=tap, at=at,
        )  # fmt: skip
    if action is TeamAction.JOIN:
        return await join_team(
            uow, gate=gate, bot_id=bot_id, update_id=update_id, team_id=target, person=person,
            tap=tap, at=at,
        )  # fmt: skip
    on_deal = start_team if action is TeamAction.START else join_any
    return await on_deal(
        uow, gate=gate, bot_id=bot_id, update_id=update_id, deal_id=target, person=person,
        tap=tap, at=at,
    )  # fmt: skip


async def _active(uow: UnitOfWork, deal: DealRecord, user_id: int, at: dt.datetime) -> None:
    """Starting or joining a team is activity (segments.tapped)."""
    chat = await uow.chats.by_pk(deal.chat_pk)
    if chat is not None:
        await tapped(uow, chat, user_id, at)


async def _join(
    uow: UnitOfWork, deal: DealRecord, team_id: int, person: Person, at: dt.datetime
) -> TeamView:
    await uow.users.upsert([person])
    if not await uow.groupbuys.add_member(team_id, deal.id, person.user_id, at):
        raise GroupBuyRefused(Refusal.IN_A_TEAM)
    await _active(uow, deal, person.user_id, at)
    members = await uow.groupbuys.grow(team_id, at)
    if members is None:
        team = await uow.groupbuys.team(team_id)
        full = team is not None and team.status is TeamStatus.OPEN and team.members >= team.size
        raise GroupBuyRefused(Refusal.FULL if full else Refusal.CLOSED)
    if not await uow.groupbuys.take_unit(deal.id):
        raise GroupBuyRefused(Refusal.SOLD_OUT)  # leaving the block undoes the slot
    if status_after_join(members, deal.deal.size) is not TeamStatus.COMPLETE:
        return await _view(uow, team_id)
    await uow.groupbuys.close(team_id, TeamStatus.COMPLETE, at)
    offer = await uow.coupons.template(deal.offer_id)
    assert offer is not None
    coupons: dict[int, Issued] = {}
    for member in await uow.groupbuys.members_of(team_id):
        try:
            coupons[member] = await issue_coupon(uow, offer, member, source="groupbuy", at=at)
        except CouponUnavailable:  # the deal's offer is unlimited; kept safe regardless
            continue
    return await _view(uow, team_id, coupons)


async def leave_team(
    uow: UnitOfWork,
    *,
    bot_id: int,
    update_id: int,
    team_id: int,
    user_id: int,
    tap: Tap,
    at: dt.datetime,
) -> TeamView:
    """Leave an open team: the slot and the unit of stock are free again."""
    async with uow:
        team = await uow.groupbuys.team(team_id)
        if team is None:
            raise GroupBuyRefused(Refusal.UNKNOWN)
        await require_button(uow, ButtonKind.TEAM, team_id, tap)
        await claim_update(uow, bot_id, update_id, at)
        if team.status is not TeamStatus.OPEN:
            raise GroupBuyRefused(Refusal.CLOSED)
        left = await uow.groupbuys.shrink(team_id, user_id)
        if left is None:
            raise GroupBuyRefused(Refusal.NOT_IN_TEAM)
        await uow.groupbuys.release_units(team.deal_id, 1)
        if left == 0:  # disbanded, not timed out: the card must say everyone left
            await uow.groupbuys.close(team_id, TeamStatus.DISBANDED, at)
        view = await _view(uow, team_id)
        await uow.commit()
    return view


async def expire_teams(
    uow: Callable[[], UnitOfWork], *, now: dt.datetime, batch: int = EXPIRE_BATCH
) -> list[TeamView]:
    """Close every open team whose time is up; durable, since the clock is in the rows."""
    expired: list[TeamView] = []
    while True:
        async with uow() as work:
            due = await work.groupbuys.due(now, batch)
            for team in due:
                if await work.groupbuys.close(team.id, TeamStatus.EXPIRED, now):
                    await work.groupbuys.release_units(team.deal_id, team.members)
                    expired.append(await _view(work, team.id))
            await work.commit()
        if len(due) < batch:
            return expired


async def live_posts(
    uow: UnitOfWork, *, now: dt.datetime, limit: int = EXPIRE_BATCH
) -> tuple[list[int], list[TeamView]]:
    """What shows a countdown: live deal posts (ids) and open team cards."""
    async with uow:
        deals, teams = await uow.groupbuys.live_posts(now, limit)
        return deals, [await _view(uow, team_id) for team_id in teams]


async def team_share(uow: UnitOfWork, *, token: str, at: dt.datetime) -> tuple[TeamView, str]:
    """A team and its leader's referral code: the share link is the leader's invite, so a
    friend who joins the group through it is credited to the leader like any referral.

    The link carries the team's unguessable token, never its id, and opening it changes
    nobody's membership: a team whose leader is no longer in the group is not shared.
    """
    if not re.fullmatch(r"[A-Za-z0-9_-]{1,32}", token):  # what a share link can carry
        raise GroupBuyRefused(Refusal.UNKNOWN)
    async with uow:
        team = await uow.groupbuys.team_by_token(token)
        if team is None or team.status is not TeamStatus.OPEN:
            raise GroupBuyRefused(Refusal.UNKNOWN)
        view = await _view(uow, team.id)
        deal = view.deal
        if not await uow.members.is_present(deal.chat_pk, team.leader_id):
            raise GroupBuyRefused(Refusal.UNKNOWN)
        code = await referral_code(uow, deal.chat_pk, team.leader_id)
        await uow.commit()
    return view, code


async def remember_deal_post(
    uow: UnitOfWork,
    *,
    deal_id: int,
    chat_id: int,
    message_id: int,
    at: dt.datetime,
    photo_file_id: str | None = None,
) -> None:
    """The deal's post, so its counts can be kept current, it can be marked ended, and its
    buttons are honoured."""
    async with uow:
        await uow.groupbuys.set_deal_message(deal_id, message_id, photo_file_id)
        await uow.buttons.remember(ButtonKind.DEAL, deal_id, chat_id, message_id, at)
        await uow.commit()


async def remember_team_card(
    uow: UnitOfWork,
    *,
    team_id: int,
    chat_id: int,
    message_id: int,
    at: dt.datetime,
    in_group: bool,
) -> None:
    """A team card the bot sent (the group's own card, or one sent privately from a share
    link): its ➕ and Leave buttons are honoured on it."""
    async with uow:
        if in_group:
            await uow.groupbuys.set_message(team_id, message_id)
        await uow.buttons.remember(ButtonKind.TEAM, team_id, chat_id, message_id, at)
        await uow.commit()


async def deal_photo(uow: UnitOfWork, *, deal_id: int) -> bytes | None:
    """The photo's bytes, needed only until Telegram has given it a file id."""
    async with uow:
        return await uow.groupbuys.deal_photo(deal_id)


async def deal_progress(
    uow: UnitOfWork, *, deal_id: int
) -> tuple[DealRecord, dict[TeamStatus, int], int]:
    """The deal, its teams by status, and its group's chat id."""
    async with uow:
        deal = await uow.groupbuys.deal(deal_id)
        if deal is None:
            raise GroupBuyRefused(Refusal.UNKNOWN)
        counts = await uow.groupbuys.team_counts(deal_id)
        chat = await uow.chats.by_pk(deal.chat_pk)
    assert chat is not None
    return deal, counts, chat.chat_id


async def end_deals(
    uow: Callable[[], UnitOfWork], *, now: dt.datetime
) -> list[tuple[DealRecord, dict[TeamStatus, int], int]]:
    """Deals whose end passed since the last look (each once): their posts get marked."""
    async with uow() as work:
        ended = await work.groupbuys.ended_deals(now, EXPIRE_BATCH)
        await work.groupbuys.end_payouts(now)  # a deal's payout offer ends with it
        await work.commit()
    return [await deal_progress(uow(), deal_id=d.id) for d in ended]
