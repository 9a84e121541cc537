"""Groups: the bot joining or leaving, supergroup migration, admin settings."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from campaigns.access import ButtonKind, Gate, Tap
from campaigns.checkin import local_day
from campaigns.errors import DomainError, DuplicateUpdate, UnknownChat
from campaigns.members import (
    BotRight,
    BotStanding,
    ChatInfo,
    is_present,
    lost_standing,
    missing_rights,
)
from campaigns.ports import UnitOfWork
from campaigns.ports.chats import ChatRecord
from campaigns.services.access import require_admin, require_button
from campaigns.settings import ChatSettings, apply_setting
from campaigns.shop import with_expiry_grace


async def claim_update(
    uow: UnitOfWork, bot_id: int, update_id: int, at: dt.datetime, scope: str = "handler"
) -> None:
    """Mark the update handled in this transaction; a redelivery raises DuplicateUpdate."""
    if not await uow.updates.claim(bot_id, update_id, at, scope):
        raise DuplicateUpdate


async def refuse_handled(uow: UnitOfWork, update: tuple[int, int] | None, at: dt.datetime) -> None:
    """For a use case that calls Telegram between two transactions: DuplicateUpdate when
    `update` (bot id, update id) was handled already. Call it in the first transaction,
    which must not commit (the claim it makes is rolled back), and `claim_update` in the
    transaction that stores the result: a delivery that failed half-way is tried again in
    full, one that succeeded stays silent."""
    if update is not None:
        await claim_update(uow, update[0], update[1], at)


@dataclass(frozen=True)
class BotMembership:
    """The group after the bot's own status changed, and who should hear what about it."""

    group: ChatRecord
    missing: list[BotRight] | None  # rights the admins still have to grant; None: bot is out
    lost: bool  # the bot lost its admin standing (see lost_standing)
    warn: list[tuple[int, str | None]]  # then told: (user id, Telegram language code if known)


async def bot_membership_changed(
    uow: UnitOfWork,
    *,
    bot_id: int,
    update_id: int,
    chat: ChatInfo,
    old_status: str,
    standing: BotStanding,
    actor_id: int,
    owner_ids: frozenset[int],
    at: dt.datetime,
    defaults: ChatSettings,
) -> BotMembership:
    """Adding the bot registers (or reactivates) a group; removing it deactivates, data kept.

    While the bot is in the group, its admins hear which rights it still lacks; when it loses
    its admin standing, whoever did it and the bot's owners are told (never the bot itself).
    """
    status = standing.status
    async with uow:
        await claim_update(uow, bot_id, update_id, at)
        record = await uow.chats.register(
            chat,
            active=is_present(status, standing.is_member),
            bot_status=status,
            defaults=defaults,
        )
        lost = lost_standing(old_status, status)
        people = sorted({actor_id, *owner_ids} - {bot_id}) if lost else []
        known = await uow.users.contacts(people) if people else {}
        await uow.commit()
    return BotMembership(
        group=record,
        missing=missing_rights(standing) if record.active else None,
        lost=lost,
        warn=[(p, known[p].language_code if p in known else None) for p in people],
    )


async def ensure_chat(uow: UnitOfWork, chat: ChatInfo, defaults: ChatSettings) -> ChatRecord:
    """A group the bot hears from is registered even if the join was missed (e.g. bot restarts)."""
    record = await uow.chats.get(chat.chat_id)
    if record is None or not record.active:
        record = await uow.chats.register(chat, active=True, bot_status=None, defaults=defaults)
    return record


async def migrate_chat(
    uow: UnitOfWork,
    *,
    bot_id: int,
    update_id: int,
    old_chat_id: int,
    new_chat_id: int,
    at: dt.datetime,
) -> bool:
    """A group upgraded to a supergroup keeps members, check-ins and points under its new id."""
    async with uow:
        await claim_update(uow, bot_id, update_id, at)
        moved = await uow.chats.migrate(old_chat_id, new_chat_id)
        await uow.commit()
    return moved


async def chat_settings(uow: UnitOfWork, *, chat_id: int, defaults: ChatSettings) -> ChatSettings:
    """The group's settings, or the defaults for a group not registered yet."""
    async with uow:
        record = await uow.chats.get(chat_id)
    return record.settings if record else defaults


async def change_setting(
    uow: UnitOfWork,
    *,
    bot_id: int | None = None,
    update_id: int | None = None,
    chat: ChatInfo,
    key: str,
    value: str,
    at: dt.datetime,
    defaults: ChatSettings,
    apply: Callable[[ChatSettings, str, str], ChatSettings] = apply_setting,
) -> ChatSettings:
    """Validate and store one setting; invalid values raise InvalidSetting and change nothing.

    `apply` validates: `/set` keys by default, `/referral set` keys with apply_referral_setting.
    A change from chat carries its update (bot id, update id), so a redelivery changes nothing
    twice; the dashboard's has none (its form is guarded by the CSRF token instead).
    """
    async with uow:
        if bot_id is not None and update_id is not None:
            await claim_update(uow, bot_id, update_id, at)
        record = await uow.chats.locked((await ensure_chat(uow, chat, defaults)).pk)
        new = apply(record.settings, key, value)
        new = with_expiry_grace(record.settings, new, local_day(at, new.timezone))
        await uow.chats.save_settings(record.pk, new)
        if new.tiers != record.settings.tiers:
            # Whoever holds a tier the ladder no longer has (it is shorter, or was shortened
            # before this rule) is at its top tier: the tier their points and /me already
            # counted them in, not a level nothing shows.
            await uow.tiers.cap(record.pk, len(new.tiers.tiers) - 1)
        await uow.commit()
    return new


async def active_groups(uow: UnitOfWork) -> list[ChatRecord]:
    """The groups the bot is in now, oldest first."""
    async with uow:
        return await uow.chats.active()


async def require_chat(uow: UnitOfWork, chat_id: int) -> ChatRecord:
    """The registered group, or UnknownChat."""
    record = await uow.chats.get(chat_id)
    if record is None:
        raise UnknownChat(chat_id)
    return record


@dataclass
class NoLongerAdmin(DomainError):
    """The group an admin picked to manage from private: they are no longer its admin."""

    title: str | None


@dataclass
class GroupGone(DomainError):
    """The group picked on the /manage chooser is one the bot is no longer in."""

    chat_id: int


MANAGEABLE_GROUPS = 50  # groups looked at for /manage (each asks Telegram for its admins)


async def admin_groups(uow: UnitOfWork, *, gate: Gate, user_id: int) -> list[ChatRecord]:
    """The groups this person may manage from a private chat: those they are an admin of.

    The newest groups first; each group's admin list is cached, so however many people send
    /manage, Telegram is asked about a group at most once per cache period.
    """
    async with uow:
        groups = await uow.chats.active()
    newest = sorted(groups, key=lambda g: g.pk, reverse=True)[:MANAGEABLE_GROUPS]
    return [g for g in newest if await gate.is_admin(g.chat_id, user_id)]


async def choose_group(
    uow: UnitOfWork, *, gate: Gate, user_id: int, chat_id: int, tap: Tap, at: dt.datetime
) -> ChatRecord:
    """A group picked on the /manage chooser the bot sent this person, who must be its
    admin; remembered, so later admin commands in the private chat act on it."""
    async with uow:
        await require_button(uow, ButtonKind.CHOOSER, user_id, tap)
        record = await uow.chats.get(chat_id)
    if record is None or not record.active:
        raise GroupGone(chat_id)
    await require_admin(gate, record.chat_id, user_id)
    async with uow:
        await uow.chats.set_focus(user_id, record.pk, at)
        await uow.commit()
    return record


async def managed_group(uow: UnitOfWork, *, gate: Gate, user_id: int) -> ChatRecord | None:
    """The group an admin manages from their private chat, while they are still its admin."""
    async with uow:
        record = await uow.chats.focus_of(user_id)
    if record is None or not record.active:
        return None
    if not await gate.is_admin(record.chat_id, user_id):
        raise NoLongerAdmin(record.title)
    return record
