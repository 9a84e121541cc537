"""Invite links and the membership changes around them: the use cases on both databases, with
a fake of Telegram's links."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from sqlalchemy import func, select

from campaigns.access import AccessDenied, ButtonKind, Denied, Tap
from campaigns.errors import DuplicateUpdate
from campaigns.members import BotRight, BotStanding, ChatInfo, Person
from campaigns.referral import InviteStatus, RejectReason
from campaigns.services.access import remember_buttons
from campaigns.services.chats import bot_membership_changed
from campaigns.services.invite_links import (
    Choice,
    InviteCard,
    LinkRefused,
    NotInAnyGroup,
    Picked,
    VisitOutcome,
    personal_link,
    revoke_member_link,
    save_member_link,
    welcome_visitor,
)
from campaigns.services.members import member_changed
from campaigns.services.referral import LinkSeen
from campaigns.settings import ChatSettings
from storage.models import InviteLinkRow

TEA = ChatInfo(chat_id=-1001000000001, type="supergroup", title="Tea")
ZEN = ChatInfo(chat_id=-1001000000002, type="supergroup", title="Zen")
ALICE = Person(7_000_000_001, "Alice", language_code="en")
FRIEND = Person(7_000_000_002, "Fay", language_code="zh-hans")
BOT_ID, OWNER = 123, 10
AT = dt.datetime(2026, 11, 16, 4, 0, tzinfo=dt.UTC)
DEFAULTS = ChatSettings(timezone="Asia/Shanghai")
CHOOSER = Tap(chat_id=ALICE.user_id, message_id=5)


@dataclass
class FakeLinks:
    """Telegram's invite links as a test scripts them: made in turn, or refused."""

    refuse: bool = False
    made: list[dict[str, Any]] = field(default_factory=list)
    revoked: list[tuple[int, str]] = field(default_factory=list)
    meanwhile: Callable[[], Awaitable[None]] | None = None  # runs as Telegram answers
    prefix: str = "made"  # Telegram's links are unique: tests making links twice tell them apart

    async def create(self, chat_id: int, **params: Any) -> tuple[str, str] | None:
        if self.refuse:
            return None
        self.made.append({"chat_id": chat_id, **params})
        if self.meanwhile is not None:
            await self.meanwhile()
        return f"https://t.me/+{self.prefix}{len(self.made)}", params["name"]

    async def revoke(self, chat_id: int, url: str) -> None:
        self.revoked.append((chat_id, url))


async def member_of(uow_factory: Any, *groups: ChatInfo, person: Person = ALICE) -> None:
    async with uow_factory() as uow:
        for group in groups:
            record = await uow.chats.register(
                group, active=True, bot_status=None, defaults=DEFAULTS
            )
            await uow.users.upsert([person])
            await uow.members.create(
                record.pk, person.user_id, status="member", present=True, at=AT
            )
        await uow.commit()


def asking(update_id: int = 1, **kwargs: Any) -> dict[str, Any]:
    return {"person": ALICE, "update": (BOT_ID, update_id), "at": AT, "defaults": DEFAULTS,
            **kwargs}  # fmt: skip


async def test_the_first_invite_makes_a_named_link_and_the_next_reuses_it(uow_factory):
    links = FakeLinks()

    first = await personal_link(uow_factory, links, where=TEA, **asking(1))
    second = await personal_link(uow_factory, links, where=TEA, **asking(2))

    assert isinstance(first, InviteCard) and isinstance(second, InviteCard)
    assert first.link is not None and second.link is not None
    assert first.link.url == second.link.url == "https://t.me/+made1"
    assert [m["name"] for m in links.made] == [f"r{ALICE.user_id} Alice"]
    assert links.made[0]["join_request"] is False


async def test_a_redelivered_invite_makes_no_second_link(uow_factory):
    links = FakeLinks()
    await personal_link(uow_factory, links, where=TEA, **asking(1))

    with pytest.raises(DuplicateUpdate):
        await personal_link(uow_factory, links, where=TEA, **asking(1))

    assert len(links.made) == 1


async def test_a_link_stored_meanwhile_wins_and_ours_is_revoked_at_telegram(uow_factory):
    async def concurrent_invite() -> None:
        async with uow_factory() as uow:
            record = await uow.chats.get(TEA.chat_id)
        await save_member_link(
            uow_factory(), chat_pk=record.pk, owner_id=ALICE.user_id, url="https://t.me/+first",
            name="r", creates_join_request=False, at=AT,
        )  # fmt: skip

    links = FakeLinks(meanwhile=concurrent_invite)

    card = await personal_link(uow_factory, links, where=TEA, **asking())

    assert isinstance(card, InviteCard) and card.link is not None
    assert card.link.url == "https://t.me/+first"
    assert links.revoked == [(TEA.chat_id, "https://t.me/+made1")]


async def test_a_refused_link_names_the_group_and_stores_nothing(uow_factory):
    with pytest.raises(LinkRefused) as refused:
        await personal_link(uow_factory, FakeLinks(refuse=True), where=TEA, **asking())

    async with uow_factory() as uow:
        stored = await uow.session.scalar(select(func.count()).select_from(InviteLinkRow))
    assert (refused.value.chat_id, refused.value.title) == (TEA.chat_id, "Tea")
    assert stored == 0


async def test_in_private_the_only_group_is_used_and_several_are_offered(uow_factory):
    with pytest.raises(NotInAnyGroup):
        await personal_link(uow_factory, FakeLinks(), where=None, **asking(1))
    await member_of(uow_factory, ZEN)
    only = await personal_link(uow_factory, FakeLinks(), where=None, **asking(2))
    await member_of(uow_factory, TEA)

    several = await personal_link(uow_factory, FakeLinks(), where=None, **asking(3))

    assert isinstance(only, InviteCard) and only.chat_title == "Zen"
    assert isinstance(several, Choice)
    assert [g.title for g in several.groups] == ["Tea", "Zen"]


async def test_a_pick_counts_on_the_members_own_chooser_for_a_group_of_theirs(uow_factory):
    await member_of(uow_factory, TEA, ZEN)
    await remember_buttons(
        uow_factory(), kind=ButtonKind.CHOOSER, object_id=ALICE.user_id,
        chat_id=CHOOSER.chat_id, message_id=CHOOSER.message_id, at=AT,
    )  # fmt: skip
    elsewhere = Tap(chat_id=ALICE.user_id, message_id=6)

    with pytest.raises(AccessDenied) as wrong:
        await personal_link(uow_factory, FakeLinks(), where=Picked(ZEN.chat_id, elsewhere),
                            **asking(1))  # fmt: skip
    with pytest.raises(AccessDenied) as not_theirs:
        await personal_link(uow_factory, FakeLinks(), where=Picked(-100999, CHOOSER), **asking(2))
    card = await personal_link(uow_factory, FakeLinks(), where=Picked(ZEN.chat_id, CHOOSER),
                               **asking(3))  # fmt: skip

    assert wrong.value.reason is Denied.WRONG_MESSAGE
    assert not_theirs.value.reason is Denied.NOT_MEMBER
    assert isinstance(card, InviteCard) and card.chat_title == "Zen"


async def test_revoking_retires_the_link_here_and_at_telegram(uow_factory):
    await personal_link(uow_factory, FakeLinks(), where=TEA, **asking())
    links = FakeLinks()

    gone = await revoke_member_link(
        uow_factory(), links, chat_id=TEA.chat_id, owner_id=ALICE.user_id, at=AT
    )
    again = await revoke_member_link(
        uow_factory(), links, chat_id=TEA.chat_id, owner_id=ALICE.user_id, at=AT
    )
    unknown = await revoke_member_link(
        uow_factory(), links, chat_id=-100999, owner_id=ALICE.user_id, at=AT
    )

    assert gone is not None and (again, unknown) == (None, None)
    assert links.revoked == [(TEA.chat_id, gone.url)]


async def test_a_visitor_gets_a_one_use_day_link_and_a_refusal_stores_none(uow_factory):
    card = await personal_link(uow_factory, FakeLinks(), where=TEA, **asking())
    assert isinstance(card, InviteCard)
    links = FakeLinks(prefix="visit")
    visit = {"code": card.code, "visitor": FRIEND, "at": AT}

    with pytest.raises(LinkRefused):
        await welcome_visitor(uow_factory, FakeLinks(refuse=True), update=(BOT_ID, 10), **visit)
    seen = await welcome_visitor(uow_factory, links, update=(BOT_ID, 11), **visit)
    again = await welcome_visitor(uow_factory, links, update=(BOT_ID, 12), **visit)

    assert seen.outcome is VisitOutcome.JOIN and seen.inviter_name == "Alice"
    assert seen.link is not None and again.link is not None and again.link.url == seen.link.url
    assert [(m["member_limit"], m["expires"]) for m in links.made] == [
        (1, AT + dt.timedelta(days=1))
    ]


async def test_losing_admin_standing_warns_whoever_did_it_and_the_owners_never_the_bot(
    uow_factory,
):
    async with uow_factory() as uow:
        await uow.users.upsert([FRIEND])
        await uow.commit()
    moves = [  # old status, new standing, who did it
        ("left", BotStanding("administrator", can_invite=True), OWNER),
        ("administrator", BotStanding("member"), FRIEND.user_id),
        ("member", BotStanding("left"), BOT_ID),
    ]

    seen = []
    for i, (old, standing, actor) in enumerate(moves):
        change = await bot_membership_changed(
            uow_factory(), bot_id=BOT_ID, update_id=i, chat=TEA, old_status=old,
            standing=standing, actor_id=actor, owner_ids=frozenset({OWNER, BOT_ID}), at=AT,
            defaults=DEFAULTS,
        )  # fmt: skip
        seen.append(change)

    assert seen[0].missing == [BotRight.PIN, BotRight.DELETE] and not seen[0].lost
    assert seen[1].lost and seen[1].warn == [(OWNER, None), (FRIEND.user_id, "zh-hans")]
    assert seen[2].missing is None and not seen[2].lost and not seen[2].group.active


async def test_a_bot_is_no_member_but_one_brought_by_a_link_is_recorded_against_it(uow_factory):
    card = await personal_link(uow_factory, FakeLinks(), where=TEA, **asking())
    assert isinstance(card, InviteCard) and card.link is not None
    spam = Person(88, "Spam Bot")
    change = {"chat": TEA, "person": spam, "is_bot": True, "status": "member",
              "is_member": None, "at": AT, "defaults": DEFAULTS}  # fmt: skip

    plain = await member_changed(uow_factory(), bot_id=BOT_ID, update_id=20, link=None, **change)
    linked = await member_changed(
        uow_factory(), bot_id=BOT_ID, update_id=21, link=LinkSeen(card.link.url), **change
    )

    async with uow_factory() as uow:
        record = await uow.chats.get(TEA.chat_id)
        member = await uow.members.get(record.pk, spam.user_id)
        invite = await uow.invites.latest(record.pk, spam.user_id)
    assert (plain.changed, linked.changed, member) == (0, 0, None)
    assert invite is not None and invite.inviter_id == ALICE.user_id
    assert (invite.status, invite.reason) == (InviteStatus.REJECTED, RejectReason.BOT)
